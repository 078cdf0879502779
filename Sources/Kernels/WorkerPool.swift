import Dispatch
import Foundation
import Synchronization

/// Persistent worker threads for the short parallel parts of decoding: a product of a few rows
/// (beam 5 at batch 1) takes 15–80 µs, and waking Dispatch's workers for it (`concurrentPerform`)
/// costs about as much as the split saves (measured with `seq2seq bench int8`: the 1024×768 gates
/// product at m = 5 took 74 µs on 1 thread and 59 µs on 2). The workers here spin (yielding the
/// core to anything runnable, e.g. OpenBLAS's own threads) for ``spinNanoseconds`` after each job,
/// so the next product of the same step starts them within a microsecond, and then park on a
/// semaphore until the next job (an idle process costs nothing).
///
/// Jobs are split into parts by the caller, and part i always runs the same code on the same
/// data whichever thread runs it, so results do not depend on timing. One job runs at a time:
/// a call made while the pool is busy (another thread's decoding, or a job inside a job) runs
/// through `DispatchQueue.concurrentPerform` instead.
public final class WorkerPool: @unchecked Sendable {
    /// The process's pool (its workers are created on first use, one fewer than the parts asked).
    public static let shared = WorkerPool()

    /// A pool of its own (tests); decoding uses ``shared``.
    public init() {}

    /// How long an idle worker spins before it parks.
    public static let spinNanoseconds: UInt64 = 200_000

    /// Bumped once per job; workers wait for it to change.
    private let generation = Atomic<Int>(0)
    /// Workers that have not yet finished the current job.
    private let pending = Atomic<Int>(0)
    /// Held by the thread whose job the workers run.
    private let busy = Atomic<Bool>(false)
    private let creation = Mutex<Void>(())
    /// The current job: its part count and body (valid while `busy`; read by workers after they
    /// saw the generation change).
    private nonisolated(unsafe) var parts = 0
    private nonisolated(unsafe) var body: ((Int) -> Void)?
    private nonisolated(unsafe) var workers: [Worker] = []

    /// One worker's parking place.
    private final class Worker: @unchecked Sendable {
        let parked = Atomic<Bool>(false)
        let wake = DispatchSemaphore(value: 0)
    }

    /// Calls `body(part)` once for every part in 0..<parts, part 0 on the calling thread and the
    /// others on the workers (or Dispatch's, when the pool is busy); returns when all are done.
    public func run(parts: Int, _ body: (Int) -> Void) {
        if parts <= 1 {
            if parts == 1 { body(0) }
            return
        }
        guard busy.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged else {
            DispatchQueue.concurrentPerform(iterations: parts, execute: body)
            return
        }
        defer { busy.store(false, ordering: .releasing) }
        ensureWorkers(parts - 1)
        withoutActuallyEscaping(body) { body in
            self.parts = parts
            self.body = body
            pending.store(workers.count, ordering: .relaxed)
            generation.add(1, ordering: .sequentiallyConsistent)
            for worker in workers where worker.parked.exchange(false, ordering: .sequentiallyConsistent) {
                worker.wake.signal()
            }
            body(0)
            while pending.load(ordering: .acquiring) > 0 { sched_yield() }
            self.body = nil
        }
    }

    /// Starts workers until there are `count` (never stopped: they park when idle).
    private func ensureWorkers(_ count: Int) {
        if workers.count >= count { return }
        creation.withLock { _ in
            while workers.count < count {
                let worker = Worker(), index = workers.count
                workers.append(worker)
                let seen = generation.load(ordering: .acquiring)
                let thread = Thread { [unowned self] in self.loop(worker, index: index, seen: seen) }
                thread.name = "seq2seq-worker-\(index + 1)"
                thread.start()
            }
        }
    }

    /// Worker `index` runs part index + 1 of every job that has one.
    private func loop(_ worker: Worker, index: Int, seen start: Int) {
        var seen = start
        while true {
            var current = generation.load(ordering: .acquiring)
            if current == seen {
                let deadline = DispatchTime.now().uptimeNanoseconds + Self.spinNanoseconds
                var spins = 0
                while current == seen {
                    spins &+= 1
                    if spins & 63 == 0 && DispatchTime.now().uptimeNanoseconds > deadline {
                        park(worker, seen: seen)
                    } else {
                        sched_yield()
                    }
                    current = generation.load(ordering: .acquiring)
                }
            }
            seen = current
            if index + 1 < parts, let body { body(index + 1) }
            pending.subtract(1, ordering: .releasing)
        }
    }

    /// Sleeps until the generation moves past `seen` (Dekker's handshake with `run`: whichever of
    /// the two stores the other sees decides who consumes the wake-up).
    private func park(_ worker: Worker, seen: Int) {
        worker.parked.store(true, ordering: .sequentiallyConsistent)
        if generation.load(ordering: .sequentiallyConsistent) != seen {
            // A job arrived meanwhile: keep going unless `run` already took the flag (then its
            // signal is on the way and must be consumed).
            if worker.parked.exchange(false, ordering: .sequentiallyConsistent) { return }
        }
        worker.wake.wait()
    }
}
