import Testing
@testable import Plotting

@Suite("Axis scales")
struct ScaleTests {
    @Test(arguments: [
        ([8.91, 182.0], ["5", "10", "20", "50", "100", "200"]),
        // Values exactly on ticks still get a range; a single tick value shows its neighbours.
        ([10.0, 20.0], ["10", "20"]),
        ([10.0], ["5", "10", "20"]),
        ([1.0], ["0.5", "1", "2"]),
        ([0.03, 0.7], ["0.02", "0.05", "0.1", "0.2", "0.5", "1"]),
        ([2.69, 3.1], ["2", "5"]),
        // More than four decades: powers of ten only.
        ([2.0, 30_000.0], ["1", "10", "100", "1000", "10000", "100000"]),
        ([3.0e6, 4.0e11], ["1e6", "1e7", "1e8", "1e9", "1e10", "1e11", "1e12"]),
        // Nothing plottable: a default decade.
        ([], ["1", "2", "5", "10"]),
        ([.nan, .infinity, 0, -3], ["1", "2", "5", "10"]),
    ])
    func logScaleTicks(values: [Double], labels: [String]) {
        let scale = LogScale(covering: values)
        #expect(scale.ticks.map(\.label) == labels)
        #expect(scale.lower == scale.ticks.first?.value && scale.upper == scale.ticks.last?.value)
        for value in values where value.isFinite && value > 0 {
            #expect(scale.lower <= value && value <= scale.upper)
        }
    }

    @Test func logScaleTickValuesAreExactDecimals() {
        let scale = LogScale(covering: [0.003, 0.06])
        #expect(scale.ticks.map(\.value) == [0.002, 0.005, 0.01, 0.02, 0.05, 0.1])
        #expect(scale.fraction(scale.lower) == 0 && scale.fraction(scale.upper) == 1)
        let fractions = scale.ticks.map { scale.fraction($0.value) }
        #expect(fractions == fractions.sorted() && Set(fractions).count == fractions.count)
    }

    @Test(arguments: [
        ([5.28], ["0", "1", "2", "3", "4", "5", "6"]),
        ([0.3], ["0.00", "0.05", "0.10", "0.15", "0.20", "0.25", "0.30"]),
        ([23.0], ["0", "5", "10", "15", "20", "25"]),
        ([10.0], ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10"]),
        // A step of ten starts at "0", not "00".
        ([100.0], ["0", "10", "20", "30", "40", "50", "60", "70", "80", "90", "100"]),
        ([], ["0.0", "0.1", "0.2", "0.3", "0.4", "0.5", "0.6", "0.7", "0.8", "0.9", "1.0"]),
    ])
    func linearScaleTicks(values: [Double], labels: [String]) {
        let scale = LinearScale(fromZeroCovering: values)
        #expect(scale.ticks.map(\.label) == labels)
        #expect(scale.lower == 0 && scale.upper == scale.ticks.last?.value)
    }

    @Test(arguments: [
        (1, 0, "1"), (5, 1, "50"), (2, 5, "200000"), (1, 6, "1e6"), (5, -1, "0.5"), (25, -2, "0.25"),
        (125, -1, "12.5"), (2, -5, "0.00002"), (5, -6, "5e-6"),
    ])
    func tickLabels(mantissa: Int, exponent: Int, label: String) {
        #expect(AxisTick.label(mantissa, exponent) == label)
    }

    @Test(arguments: [
        (12.5, 2, "12.50", "12.5"), (3, 2, "3.00", "3"), (-0.25, 2, "-0.25", "-0.25"), (0.005, 2, "0.01", "0.01"),
        (-0.001, 2, "0.00", "0"), (14.4726, 2, "14.47", "14.47"), (189.3333, 2, "189.33", "189.33"), (7.5, 0, "8", "8"),
    ])
    func fixedNumberFormatting(value: Double, decimals: Int, fixed: String, trimmed: String) {
        #expect(SVGText.fixed(value, decimals: decimals) == fixed)
        #expect(SVGText.number(value, decimals: decimals) == trimmed)
    }
}
