import Testing

@Test func DecodingTestsBuilds() { #expect(Bool(true)) }
