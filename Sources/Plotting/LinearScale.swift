/// A linear axis from 0 to a 1-2-5 multiple covering the data, for the epoch axis. The tick step
/// is the smallest 1-2-5 value giving at most `maxTicks` intervals.
public struct LinearScale: Equatable {
    public var lower: Double
    public var upper: Double
    public var ticks: [AxisTick]

    public init<Values: Sequence>(fromZeroCovering values: Values, maxTicks: Int = 10) where Values.Element == Double {
        precondition(maxTicks >= 1, "LinearScale needs at least one tick interval, got \(maxTicks)")
        var high = 0.0
        for value in values where value.isFinite { high = max(high, value) }
        if high <= 0 { high = 1 }
        // Walk 1-2-5 steps upwards from far below until the interval count fits.
        var exponent = -6, mantissaIndex = 0
        let mantissas = [1, 2, 5]
        var step = AxisTick.decimal(1, exponent)
        // The 1e-9 slack keeps a quotient like 0.3 / 0.1 = 3.0000000000000004 from adding a tick.
        func intervals(_ step: Double) -> Double { (high / step - 1e-9).rounded(.up) }
        while intervals(step) > Double(maxTicks) {
            mantissaIndex += 1
            if mantissaIndex == mantissas.count { mantissaIndex = 0; exponent += 1 }
            step = AxisTick.decimal(mantissas[mantissaIndex], exponent)
        }
        lower = 0
        ticks = (0...Int(intervals(step))).map { k in
            // k × mantissa × 10^exponent as one integer mantissa keeps the label exact; labels
            // share the step's decimals ("0.0", "0.5", "1.0").
            let mantissa = k * mantissas[mantissaIndex]
            return AxisTick(value: AxisTick.decimal(mantissa, exponent), label: AxisTick.label(mantissa, exponent))
        }
        upper = ticks[ticks.count - 1].value
    }

    /// Position of `value` between the ends: 0 at `lower`, 1 at `upper`.
    public func fraction(_ value: Double) -> Double {
        (value - lower) / (upper - lower)
    }
}
