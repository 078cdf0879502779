import Seq2Seq
import ServiceLifecycle
import Translation

/// One translation as the server answers it (text, score, log-probability; see `Translation`).
public typealias ScoredTranslation = Translation

/// The batching queue as a service of the server's group: on graceful shutdown (or cancellation)
/// it stops taking work and drains, finishing every request already queued.
struct QueueService: Service {
    let queue: TranslationQueue

    func run() async throws {
        try? await gracefulShutdown()
        await queue.shutdown()
    }
}

extension ServerMetrics: TranslationQueueObserver {
    public func queueDepthChanged(_ sentences: Int) { queueDepth.set(Double(sentences)) }
    public func batchDecoded(sentences: Int) { batchSentences.record(Double(sentences)) }
    public func requestAnswered(sentences: Int) { self.sentences.increment(by: Int64(sentences)) }
}
