import Foundation
import Translation

/// What a ``TranslationQueue`` reports as it works (the server's `/metrics`); every call comes
/// from the queue, under its lock or on its worker thread, so keep them short.
public protocol TranslationQueueObserver: AnyObject, Sendable {
    /// Sentences waiting for the decoder now.
    func queueDepthChanged(_ sentences: Int)
    /// One search of `sentences` sentences ran.
    func batchDecoded(sentences: Int)
    /// A request of `sentences` sentences was answered.
    func requestAnswered(sentences: Int)
}

/// The batching queue between callers and the decoder (``Translator``'s concurrent callers, the
/// HTTP handlers of `serve`): requests from many callers wait
/// here, and one worker thread (never an event loop or a Swift concurrency thread, so slow decoding
/// stalls no connection) takes them in arrival order into batches of up to `batchSize` sentences.
/// A batch starts when it is full or when its oldest sentence has waited `maxWait`. Requests with
/// different beam or n-best settings in one batch are decoded as separate searches. Each request
/// gets its own lines' translations back in its own order.
///
/// ``shutdown()`` stops taking work, finishes every request already queued, and returns (`serve`
/// runs it as a `Service` that calls it on graceful shutdown).
public final class TranslationQueue: @unchecked Sendable {
    /// One waiting request.
    private struct Job {
        var lines: [String]
        var beam: Int
        var nBest: Int
        var arrival: Date
        var continuation: CheckedContinuation<[[Translation]], Error>
    }

    private let translator: BatchTranslator
    private let batchSize: Int
    private let maxWait: TimeInterval
    private let capacity: Int
    private let observer: TranslationQueueObserver?
    /// Guards every field below; the worker waits on it for work.
    private let condition = NSCondition()
    private var jobs: [Job] = []
    private var head = 0  // jobs[..<head] are taken; compacted when the queue empties
    private var waitingSentences = 0
    private var stopping = false
    private var workerDone = false
    private var doneWaiters: [CheckedContinuation<Void, Never>] = []

    /// Starts the worker thread at once. `batchSize` B ≥ 1 sentences per search, `maxWait` in
    /// seconds, `capacity` ≥ 1 sentences waiting at most; `observer` gets queue depth, batch sizes
    /// and sentence counts. The translator is used from the worker thread only from now on.
    public init(translator: BatchTranslator, batchSize: Int, maxWait: TimeInterval, capacity: Int,
                observer: TranslationQueueObserver? = nil) {
        self.translator = translator
        self.batchSize = max(1, batchSize)
        self.maxWait = max(0, maxWait)
        self.capacity = max(1, capacity)
        self.observer = observer
        let thread = Thread { [self] in work() }
        thread.name = "seq2seq-decoder"
        thread.start()
    }

    /// Queues `lines` and returns their translations, in their order, when decoded. Lines are not
    /// checked here (the caller checks sizes). Throws ``Seq2SeqError/queueFull`` when the lines
    /// would not fit in the queue's capacity, ``Seq2SeqError/shuttingDown`` once `shutdown()` has begun.
    public func translate(_ lines: [String], beam: Int, nBest: Int) async throws -> [[Translation]] {
        if lines.isEmpty { return [] }
        return try await withCheckedThrowingContinuation { continuation in
            condition.lock()
            defer { condition.unlock() }
            if stopping {
                continuation.resume(throwing: Seq2SeqError.shuttingDown)
            } else if waitingSentences + lines.count > capacity {
                continuation.resume(throwing: Seq2SeqError.queueFull)
            } else {
                jobs.append(Job(lines: lines, beam: beam, nBest: nBest, arrival: Date(), continuation: continuation))
                waitingSentences += lines.count
                observer?.queueDepthChanged(waitingSentences)
                condition.signal()
            }
        }
    }

    /// Sentences waiting for the decoder now (not counting the batch being decoded).
    public var depth: Int {
        condition.lock()
        defer { condition.unlock() }
        return waitingSentences
    }

    /// True once `shutdown()` has begun: new requests are refused.
    public var isShuttingDown: Bool {
        condition.lock()
        defer { condition.unlock() }
        return stopping
    }

    /// Refuses new work and lets the worker finish every queued request and exit, without waiting
    /// (an owner's `deinit`: the worker thread holds the queue until then).
    public func stopWhenIdle() {
        condition.lock()
        stopping = true
        condition.broadcast()
        condition.unlock()
    }

    /// Refuses new work, lets the worker finish every queued request, and returns when it has.
    public func shutdown() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            condition.lock()
            defer { condition.unlock() }
            stopping = true
            condition.broadcast()
            if workerDone { continuation.resume() } else { doneWaiters.append(continuation) }
        }
    }

    // MARK: The worker thread

    private func work() {
        while let batch = nextBatch() {
            decode(batch)
        }
        condition.lock()
        workerDone = true
        let waiters = doneWaiters
        doneWaiters = []
        condition.unlock()
        for waiter in waiters { waiter.resume() }
    }

    /// Blocks until a batch is due and takes it, oldest requests first; nil once stopping and empty.
    /// The first request is always taken whole (a request larger than B is decoded in several
    /// searches); later requests join while the batch stays within B sentences.
    private func nextBatch() -> [Job]? {
        condition.lock()
        defer { condition.unlock() }
        while head == jobs.count && !stopping { condition.wait() }
        if head == jobs.count { return nil }
        let deadline = jobs[head].arrival.addingTimeInterval(maxWait)
        while waitingSentences < batchSize && !stopping && Date() < deadline {
            _ = condition.wait(until: deadline)
        }
        var taken: [Job] = [jobs[head]]
        var count = jobs[head].lines.count
        head += 1
        while head < jobs.count && count + jobs[head].lines.count <= batchSize {
            taken.append(jobs[head])
            count += jobs[head].lines.count
            head += 1
        }
        if head == jobs.count { jobs.removeAll(keepingCapacity: true); head = 0 }
        waitingSentences -= count
        observer?.queueDepthChanged(waitingSentences)
        return taken
    }

    /// Decodes the taken requests (one search per beam/n-best setting and per B sentences) and
    /// answers each.
    private func decode(_ batch: [Job]) {
        var results = batch.map { [[Translation]?](repeating: nil, count: $0.lines.count) }
        // (job, line) pairs grouped by setting, in arrival order within each group.
        var groups: [(beam: Int, nBest: Int, members: [(job: Int, line: Int)])] = []
        for (j, job) in batch.enumerated() {
            let g = groups.firstIndex { $0.beam == job.beam && $0.nBest == job.nBest } ?? {
                groups.append((job.beam, job.nBest, []))
                return groups.count - 1
            }()
            groups[g].members += job.lines.indices.map { (j, $0) }
        }
        for group in groups {
            var start = 0
            while start < group.members.count {
                let chunk = group.members[start..<min(start + batchSize, group.members.count)]
                let translated = translator.translate(chunk.map { batch[$0.job].lines[$0.line] },
                                                      beam: group.beam, nBest: group.nBest)
                observer?.batchDecoded(sentences: chunk.count)
                for (k, member) in chunk.enumerated() { results[member.job][member.line] = translated[k] }
                start += batchSize
            }
        }
        for (j, job) in batch.enumerated() {
            observer?.requestAnswered(sentences: job.lines.count)
            job.continuation.resume(returning: results[j].map { $0 ?? [] })
        }
    }
}
