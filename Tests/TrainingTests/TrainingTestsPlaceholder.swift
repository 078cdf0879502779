import Testing

@Test func TrainingTestsBuilds() { #expect(Bool(true)) }
