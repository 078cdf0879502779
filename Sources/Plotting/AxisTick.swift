/// One labelled position on an axis. Tick values are built as mantissa × 10^exponent with an
/// exact power of ten, and labels are written from those integers, so they never show binary
/// rounding noise ("0.30000000000000004") and are identical on every machine.
public struct AxisTick: Equatable {
    public var value: Double
    public var label: String

    public init(value: Double, label: String) {
        self.value = value
        self.label = label
    }

    /// mantissa × 10^exponent, correctly rounded (10^|exponent| is exact for |exponent| ≤ 22).
    static func decimal(_ mantissa: Int, _ exponent: Int) -> Double {
        var power = 1.0
        for _ in 0..<min(abs(exponent), 308) { power *= 10 }
        return exponent >= 0 ? Double(mantissa) * power : Double(mantissa) / power
    }

    /// "5", "20", "0.05", "1e6", "2e-5": plain digits within six places of the decimal point.
    static func label(_ mantissa: Int, _ exponent: Int) -> String {
        let digits = String(mantissa)
        if exponent > 5 || exponent < -5 { return "\(digits)e\(exponent)" }
        // Zero is "0" on an axis stepping by tens (not "00"); below 1 it keeps the step's decimals.
        if exponent >= 0 { return mantissa == 0 ? "0" : digits + String(repeating: "0", count: exponent) }
        let places = -exponent
        if digits.count > places {
            let split = digits.index(digits.endIndex, offsetBy: -places)
            return digits[..<split] + "." + digits[split...]
        }
        return "0." + String(repeating: "0", count: places - digits.count) + digits
    }
}
