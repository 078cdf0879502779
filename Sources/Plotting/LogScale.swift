#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A base-10 logarithmic axis whose ends and ticks fall on 1-2-5 values (…, 1, 2, 5, 10, 20, 50,
/// …). Perplexity spans orders of magnitude during training (from about the vocabulary size
/// down to single digits), so a log axis keeps the late epochs readable.
public struct LogScale: Equatable {
    /// Ends of the axis, both tick values, lower < upper.
    public var lower: Double
    public var upper: Double
    public var ticks: [AxisTick]

    /// Above this many decades 1-2-5 labels crowd each other, so only powers of ten are ticked.
    static let maxDecadesForSteps = 4.0

    /// The smallest 1-2-5 range holding every finite positive value in `values`; [1, 10] when
    /// there is none. A single value (or values all on one tick) still gets a range around it.
    public init<Values: Sequence>(covering values: Values) where Values.Element == Double {
        var low = Double.infinity, high = -Double.infinity
        for value in values where value.isFinite && value > 0 {
            low = min(low, value)
            high = max(high, value)
        }
        if low > high { low = 1; high = 10 }
        let decades = log10(high) - log10(low)
        let mantissas = decades > LogScale.maxDecadesForSteps ? [1] : [1, 2, 5]
        // Candidates from one decade below to one above, ascending.
        let firstExponent = Int(log10(low).rounded(.down)) - 1
        let lastExponent = Int(log10(high).rounded(.up)) + 1
        var candidates: [(mantissa: Int, exponent: Int, value: Double)] = []
        for exponent in firstExponent...lastExponent {
            for mantissa in mantissas {
                candidates.append((mantissa, exponent, AxisTick.decimal(mantissa, exponent)))
            }
        }
        var first = candidates.lastIndex { $0.value <= low } ?? 0
        var last = candidates.firstIndex { $0.value >= high } ?? candidates.count - 1
        if first == last {
            // All values sit exactly on one tick: show the neighbours too.
            first = max(0, first - 1)
            last = min(candidates.count - 1, last + 1)
        }
        lower = candidates[first].value
        upper = candidates[last].value
        ticks = candidates[first...last].map { AxisTick(value: $0.value, label: AxisTick.label($0.mantissa, $0.exponent)) }
    }

    /// Position of `value` between the ends: 0 at `lower`, 1 at `upper`.
    public func fraction(_ value: Double) -> Double {
        (log10(value) - log10(lower)) / (log10(upper) - log10(lower))
    }
}
