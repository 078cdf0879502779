import Testing

@Test func TextTestsBuilds() { #expect(Bool(true)) }
