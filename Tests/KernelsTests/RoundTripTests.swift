import CPeak
import Foundation
import Testing

/// CPeak's cache-line round trip between two CPUs, which `doctor` reports.
@Suite struct RoundTripTests {
    /// The CPUs this thread may run on (CPeak's reading of its affinity).
    private func allowedCPUs() -> [Int] {
        var cpus = [Int32](repeating: -1, count: 1024)
        let count = cpeak_allowed_cpus(&cpus, 1024)
        return count < 0 ? [] : cpus.prefix(Int(min(count, 1024))).map(Int.init)
    }

    /// Two CPUs: a positive time below 10 ms a trip (a cache line between two cores of one machine
    /// takes tens to hundreds of nanoseconds; the bound only allows for a loaded test machine, where
    /// each side may wait for its CPU), and the caller's affinity as it was.
    @Test(.enabled(if: ProcessInfo.processInfo.activeProcessorCount >= 2, "one CPU: no pair to measure"))
    func aRoundTripBetweenTwoCPUsTakesNanosecondsAndLeavesTheAffinity() {
        let cpus = allowedCPUs()
        guard cpus.count >= 2 else { return }
        let before = allowedCPUs()
        let ns = cpeak_round_trip_ns(Int32(cpus[0]), Int32(cpus[1]), 2_000)
        #expect(ns > 0 && ns < 10_000_000, "\(ns) ns")
        #expect(allowedCPUs() == before)
    }

    /// A CPU the machine does not have, a negative index, one CPU twice or no trips: -1, and the
    /// affinity as it was.
    @Test func aCPUThatCannotBeUsedGivesMinusOne() {
        let before = allowedCPUs()
        let absent: Int32 = 1023  // no 2-to-64-core test machine has CPU 1023
        #expect(cpeak_round_trip_ns(0, absent, 1000) == -1)
        #expect(cpeak_round_trip_ns(-1, 0, 1000) == -1)
        #expect(cpeak_round_trip_ns(0, 1024, 1000) == -1)  // beyond the CPU set
        #expect(cpeak_round_trip_ns(0, 1, 0) == -1)
        let cpus = allowedCPUs()
        if let first = cpus.first { #expect(cpeak_round_trip_ns(Int32(first), Int32(first), 1000) == -1) }
        #expect(allowedCPUs() == before)
    }
}
