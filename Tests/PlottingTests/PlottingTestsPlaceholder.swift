import Testing

@Test func plottingTestsBuild() { #expect(Bool(true)) }
