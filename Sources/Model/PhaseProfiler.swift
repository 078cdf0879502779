/// Optional wall-clock accounting of a training step by phase (set `Seq2SeqModel.profiler`);
/// nil in normal runs, so the hot path pays one nil check per phase.
public final class PhaseProfiler {
    public private(set) var totals: [(name: String, seconds: Double)] = []
    private let clock = ContinuousClock()

    public init() {}

    public func reset() { totals = totals.map { ($0.name, 0) } }

    /// Runs `body`, adding its duration to `name`'s total (first-seen order is kept).
    public func measure<R>(_ name: String, _ body: () -> R) -> R {
        let start = clock.now
        let result = body()
        let d = clock.now - start
        let seconds = Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18
        if let i = totals.firstIndex(where: { $0.name == name }) { totals[i].seconds += seconds } else { totals.append((name, seconds)) }
        return result
    }
}

/// Runs `body` under `profiler` when there is one.
@inline(__always)
func timed<R>(_ profiler: PhaseProfiler?, _ name: String, _ body: () -> R) -> R {
    if let profiler { return profiler.measure(name, body) }
    return body()
}
