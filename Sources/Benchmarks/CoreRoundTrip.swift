import CPeak

/// How far apart two of the machine's CPUs are, as the time one cache line takes to go from a
/// thread on one to a thread on the other and back (CPeak's `cpeak_round_trip_ns`). `doctor` and
/// `bench train` report it beside their figures: a VM's two vCPUs can share an L3 in one minute and
/// sit in different core complexes in the next (measured on the Zen 5 VM: 79–120 ns against
/// 350–396 ns), and every parallel step that hands data from one thread to the other moves with it.
public enum CoreRoundTrip {
    /// The median over `repeats` measurements of `trips` round trips each, in nanoseconds, between
    /// threads pinned to the first two CPUs this thread may run on, and those two CPUs; nil with
    /// fewer than two CPUs or when one cannot be pinned. About 0.1 s with the defaults.
    public static func measure(trips: Int = 100_000, repeats: Int = 3) -> (cpus: [Int], nanoseconds: Double)? {
        var allowed = [Int32](repeating: -1, count: 2)
        guard cpeak_allowed_cpus(&allowed, 2) >= 2 else { return nil }
        var times: [Double] = []
        for _ in 0..<max(1, repeats) {
            let ns = cpeak_round_trip_ns(allowed[0], allowed[1], trips)
            guard ns > 0 else { return nil }
            times.append(ns)
        }
        return (allowed.map(Int.init), times.sorted()[times.count / 2])
    }
}
