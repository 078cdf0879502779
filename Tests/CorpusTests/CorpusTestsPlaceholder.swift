import Testing

@Test func CorpusTestsBuilds() { #expect(Bool(true)) }
