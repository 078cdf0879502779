import Dispatch
import Foundation
import Synchronization

/// Persistent worker threads for the short parallel parts of decoding: a product of a few rows
/// (beam 5 at batch 1) takes 15–80 µs, and waking Dispatch's workers for it (`concurrentPerform`)
/// costs about as much as the split saves (measured with `seq2seq bench int8`: the 1024×768 gates
/// product at m = 5 took 74 µs on 1 thread and 59 µs on 2; 38–41 µs through this pool). The
/// workers spin (yielding the core to anything runnable, e.g. OpenBLAS's own threads) for
/// ``spinNanoseconds`` after each job, so the next product of the same step starts them within
/// a microsecond, and then park on a semaphore until the next job (an idle process costs nothing).
///
/// Parts are claimed, not assigned: the caller and the workers take the next unclaimed part until
/// none is left, so a worker the scheduler has not run yet (a loaded machine) delays nothing; the
/// caller does its parts. Part i always runs the same code on the same data whichever thread
/// claims it, so results do not depend on timing. One job runs at a time: a call made while the
/// pool is busy (another thread's decoding, or a job inside a job) runs through
/// `DispatchQueue.concurrentPerform` instead.
public final class WorkerPool: @unchecked Sendable {
    /// The process's pool (its workers are created on first use: as many as the most parts any
    /// job asked for, less one).
    public static let shared = WorkerPool()

    /// A pool of its own (tests); decoding uses ``shared``. Its workers are never stopped (they
    /// park when idle) and keep it alive until the process ends.
    public init() {}

    /// True while oneDNN is the GEMM backend (`BLAS.setThreads` decides): then `shared`'s jobs run
    /// on the OpenMP team oneDNN computes on, not on this pool's workers (one set of threads).
    public nonisolated(unsafe) static var sharedRunsOnOpenMP = false

    /// Set by ``withOwnThreads(_:)``: the jobs of this thread run on this pool's own workers even
    /// while oneDNN computes. A thread-specific value, not a task-local one: binding a task-local
    /// allocates, and int8 decoding binds it at every step.
    public static var ownThreadsOnly: Bool { pthread_getspecific(ownThreadsKey) != nil }

    private static let ownThreadsKey: pthread_key_t = {
        var key = pthread_key_t()
        let status = pthread_key_create(&key, nil)
        precondition(status == 0, "pthread_key_create failed (\(status))")
        return key
    }()

    /// Runs `body` with `shared`'s jobs on its own workers: for work that makes no oneDNN product
    /// (int8 decoding), where oneDNN's OpenMP threads sleep and a job on them starts more slowly
    /// than on the spinning workers (`bench translate --precision int8`, Zen 4: 218 against
    /// 260 sentences/s at batch 1). Which threads run a part never changes its result.
    public static func withOwnThreads<T>(_ body: () throws -> T) rethrows -> T {
        let previous = pthread_getspecific(ownThreadsKey)
        pthread_setspecific(ownThreadsKey, UnsafeRawPointer(bitPattern: 1))
        defer { pthread_setspecific(ownThreadsKey, previous) }
        return try body()
    }

    /// How long an idle worker spins before it parks.
    public static let spinNanoseconds: UInt64 = 200_000

    /// The current job in one word, so that a claim can never mix two jobs: generation << 32 |
    /// parts << 16 | next unclaimed part. Workers wait for the generation to change.
    private let claim = Atomic<Int>(0)
    /// Parts of the current job that have finished.
    private let completed = Atomic<Int>(0)
    /// Held by the thread whose job the workers run.
    private let busy = Atomic<Bool>(false)
    private let creation = Mutex<Void>(())
    /// The current job (valid from the claim word's release until every part completed).
    private nonisolated(unsafe) var job: (function: PartFunction, context: UnsafeRawPointer)?
    private nonisolated(unsafe) var workers: [Worker] = []

    /// One worker's parking place.
    private final class Worker: @unchecked Sendable {
        let parked = Atomic<Bool>(false)
        let wake = DispatchSemaphore(value: 0)
    }

    /// A part of a job as a plain function: `function(context, part)`.
    public typealias PartFunction = @convention(c) (UnsafeRawPointer, Int) -> Void

    /// Calls `body(part)` once for every part in 0..<parts, on the calling thread and the workers
    /// (or Dispatch's, when the pool is busy); returns when all are done. Handing a closure to the
    /// workers boxes it (one small allocation per call with more than one part); the decoding
    /// steps' products use ``run(parts:context:_:)``, which allocates nothing.
    public func run(parts: Int, _ body: (Int) -> Void) {
        if parts <= 1 {
            if parts == 1 { body(0) }
            return
        }
        withoutActuallyEscaping(body) { body in
            var body = body
            withUnsafePointer(to: &body) { pointer in
                run(parts: parts, context: UnsafeRawPointer(pointer)) { context, part in
                    context.assumingMemoryBound(to: ((Int) -> Void).self).pointee(part)
                }
            }
        }
    }

    /// Calls `function(context, part)` once for every part in 0..<parts, as ``run(parts:_:)``
    /// does, without allocating on the pool's own path and on the OpenMP team's (a call made
    /// while the pool is busy goes through Dispatch, which may): `context` (typically a pointer to
    /// the caller's struct of arguments) must stay valid until the call returns.
    public func run(parts: Int, context: UnsafeRawPointer, _ function: PartFunction) {
        if parts <= 1 {
            if parts == 1 { function(context, 0) }
            return
        }
        #if !SCALAR_DOUBLE
        if self === WorkerPool.shared && WorkerPool.sharedRunsOnOpenMP && !WorkerPool.ownThreadsOnly {
            OpenMPTeam.run(parts: parts, threads: BLAS.budget, context: context, function)
            return
        }
        #endif
        guard parts < 1 << 16, busy.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged else {
            DispatchQueue.concurrentPerform(iterations: parts) { function(context, $0) }
            return
        }
        defer { busy.store(false, ordering: .releasing) }
        ensureWorkers(parts - 1)
        job = (function, context)
        completed.store(0, ordering: .relaxed)
        let generation = ((claim.load(ordering: .relaxed) >> 32) &+ 1) & 0x7fff_ffff
        claim.store(generation << 32 | parts << 16, ordering: .sequentiallyConsistent)
        for worker in workers.prefix(parts - 1) where worker.parked.exchange(false, ordering: .sequentiallyConsistent) {
            worker.wake.signal()
        }
        work(generation: generation)
        while completed.load(ordering: .acquiring) < parts { sched_yield() }
        job = nil
    }

    /// Claims and runs parts of job `generation` until none is left (or a later job replaced it).
    private func work(generation: Int) {
        var word = claim.load(ordering: .acquiring)
        while word >> 32 == generation {
            let parts = (word >> 16) & 0xffff, next = word & 0xffff
            if next >= parts { return }
            let (exchanged, current) = claim.compareExchange(expected: word, desired: word + 1, ordering: .acquiringAndReleasing)
            if exchanged {
                if let job { job.function(job.context, next) }
                completed.add(1, ordering: .releasing)
                word = claim.load(ordering: .acquiring)
            } else {
                word = current
            }
        }
    }

    /// Starts workers until there are `count` (never stopped: they park when idle).
    private func ensureWorkers(_ count: Int) {
        if workers.count >= count { return }
        creation.withLock { _ in
            while workers.count < count {
                let worker = Worker(), index = workers.count
                workers.append(worker)
                let seen = claim.load(ordering: .acquiring) >> 32
                // The workers hold the pool: a pool lives as long as the process (tests' pools too).
                let thread = Thread { self.loop(worker, seen: seen) }
                thread.name = "seq2seq-worker-\(index + 1)"
                thread.start()
            }
        }
    }

    /// A worker: waits for a new generation, claims parts of it, waits again.
    private func loop(_ worker: Worker, seen start: Int) {
        var seen = start
        while true {
            var current = claim.load(ordering: .acquiring) >> 32
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
                    current = claim.load(ordering: .acquiring) >> 32
                }
            }
            seen = current
            work(generation: current)
        }
    }

    /// Sleeps until the generation moves past `seen` (Dekker's handshake with `run`: whichever of
    /// the two stores the other sees decides who consumes the wake-up).
    private func park(_ worker: Worker, seen: Int) {
        worker.parked.store(true, ordering: .sequentiallyConsistent)
        if claim.load(ordering: .sequentiallyConsistent) >> 32 != seen {
            // A job arrived meanwhile: keep going unless `run` already took the flag (then its
            // signal is on the way and must be consumed).
            if worker.parked.exchange(false, ordering: .sequentiallyConsistent) { return }
        }
        worker.wake.wait()
    }
}
