import Testing

@Test func MetricsTestsBuilds() { #expect(Bool(true)) }
