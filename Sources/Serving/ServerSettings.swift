/// What `seq2seq serve` listens on, how it batches, and what it refuses. Every limit is answered
/// with an HTTP status and a JSON error line instead of work: see docs/guides/serving.md.
public struct ServerSettings: Sendable, Equatable {
    /// Interface to bind (an IPv4 or IPv6 address, or a host name).
    public var host: String = "127.0.0.1"
    /// TCP port; 0 asks the kernel for a free one (tests).
    public var port: Int = 8080
    /// B: the most sentences decoded together in one search (from one or many requests).
    public var batchSize: Int = 32
    /// How long the first waiting sentence may wait for others to join its batch, in milliseconds.
    public var maxWaitMilliseconds: Int = 5
    /// Sentences that may wait for the decoder at once; a request that would exceed it gets 503
    /// with `Retry-After`.
    public var queueCapacity: Int = 1024
    /// Largest request body accepted, in bytes (413 above).
    public var maxBodyBytes: Int = 1 << 20
    /// Most sentences in one request (413 above).
    public var maxLines: Int = 256
    /// Longest sentence accepted, in UTF-8 bytes (413 above).
    public var maxLineBytes: Int = 4096
    /// Largest `beam` a request may ask for (400 above); the server's own default beam may be larger.
    public var maxBeam: Int = 32
    /// Seconds a client is told to wait (`Retry-After`) when the queue is full.
    public var retryAfterSeconds: Int = 1
    /// Seconds after which a connection that sends nothing is closed: one idle between requests,
    /// or one whose request head or body stalls (a connection waiting for its translation is kept).
    public var idleTimeoutSeconds: Int = 30

    public init() {}

    /// Throws `ServingError.invalidSetting` naming the option (as the CLI spells it) when a setting
    /// is unusable or two settings contradict each other.
    public func validate() throws {
        func check(_ ok: Bool, _ message: String) throws {
            if !ok { throw ServingError.invalidSetting(message) }
        }
        try check(!host.isEmpty, "--host must not be empty")
        try check((0...65_535).contains(port), "--port must be between 0 and 65535, got \(port)")
        try check((1...4096).contains(batchSize), "--batch-size must be between 1 and 4096, got \(batchSize)")
        try check((0...10_000).contains(maxWaitMilliseconds), "--max-wait-ms must be between 0 and 10000, got \(maxWaitMilliseconds)")
        try check((1...1 << 30).contains(maxBodyBytes), "--max-body-bytes must be between 1 and \(1 << 30), got \(maxBodyBytes)")
        try check((1...1_000_000).contains(maxLines), "--max-lines must be between 1 and 1000000, got \(maxLines)")
        try check((1...1 << 24).contains(maxLineBytes), "--max-line-bytes must be between 1 and \(1 << 24), got \(maxLineBytes)")
        try check((maxLines...10_000_000).contains(queueCapacity),
                  "--queue-size must be between --max-lines (\(maxLines)) and 10000000, got \(queueCapacity)")
        try check((1...1000).contains(maxBeam), "--max-request-beam must be between 1 and 1000, got \(maxBeam)")
        try check((1...3600).contains(retryAfterSeconds), "--retry-after must be between 1 and 3600, got \(retryAfterSeconds)")
        try check((1...86_400).contains(idleTimeoutSeconds), "--idle-timeout must be between 1 and 86400, got \(idleTimeoutSeconds)")
    }
}
