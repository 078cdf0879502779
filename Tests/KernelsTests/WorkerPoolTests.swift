import Dispatch
import Foundation
@testable import Kernels
import Synchronization
import Testing

/// `WorkerPool`: every part runs exactly once per job, whatever the pool is doing.
@Suite struct WorkerPoolTests {
    /// Runs `jobs` jobs of `parts` parts on `pool`; each part adds its index + 1 to a slot of its
    /// own, so a part run twice or never shows in the slot's total.
    static func counts(_ pool: WorkerPool, parts: Int, jobs: Int) -> [Int] {
        let slots = UnsafeMutableBufferPointer<Int>.allocate(capacity: parts)
        defer { slots.deallocate() }
        slots.initialize(repeating: 0)
        for _ in 0..<jobs { pool.run(parts: parts) { slots[$0] += $0 + 1 } }
        return Array(slots)
    }

    @Test(arguments: [0, 1, 2, 3, 5])
    func everyPartRunsOncePerJob(parts: Int) {
        let pool = WorkerPool()
        #expect(Self.counts(pool, parts: parts, jobs: 500) == (0..<parts).map { 500 * ($0 + 1) })
    }

    /// Jobs of different part counts on one pool: workers without a part in a job skip it.
    @Test func partCountsMayChangeFromJobToJob() {
        let pool = WorkerPool()
        for parts in [4, 2, 3, 1, 4, 2] {
            #expect(Self.counts(pool, parts: parts, jobs: 50) == (0..<parts).map { 50 * ($0 + 1) })
        }
    }

    /// Workers park after `spinNanoseconds` idle; the next job must wake them.
    @Test func parkedWorkersWakeForTheNextJob() {
        let pool = WorkerPool()
        for _ in 0..<3 {
            #expect(Self.counts(pool, parts: 2, jobs: 3) == [3, 6])
            usleep(useconds_t(3 * WorkerPool.spinNanoseconds / 1000))
        }
    }

    /// A job inside a job, and jobs from several threads at once, fall back to Dispatch and still
    /// run every part once.
    @Test func nestedAndConcurrentJobsRunEveryPart() {
        let pool = WorkerPool()
        let total = Atomic<Int>(0)
        pool.run(parts: 2) { _ in
            pool.run(parts: 3) { part in total.add(part + 1, ordering: .relaxed) }
        }
        #expect(total.load(ordering: .relaxed) == 2 * 6)
        total.store(0, ordering: .relaxed)
        DispatchQueue.concurrentPerform(iterations: 4) { _ in
            for _ in 0..<200 { pool.run(parts: 2) { part in total.add(part + 1, ordering: .relaxed) } }
        }
        #expect(total.load(ordering: .relaxed) == 4 * 200 * 3)
    }
}
