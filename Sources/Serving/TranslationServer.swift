import Foundation
import Hummingbird
import Seq2Seq
import Logging
import NIOCore
import ServiceLifecycle

/// `seq2seq serve`: one model loaded once, answering over HTTP/1.1 (Hummingbird 2 on SwiftNIO).
///
/// Routes: `GET /` (the page to try it), `GET /health`, `GET /metrics` (Prometheus text),
/// `POST /translate` (`TranslateRequest` → `TranslateResponse`), `POST /translator/translate`
/// (OpenNMT-py's REST format) and `GET /translator/health`. Every error is
/// `{"error": "…", "status": "error"}` with its HTTP status: 400 malformed (not UTF-8, not JSON,
/// wrong fields, option out of range), 404 unknown route, 413 body / line count / line length over
/// the limit, 503 with `Retry-After` when the queue is full or the server is stopping.
/// Translation requests wait in a `TranslationQueue`, which batches them across clients.
public struct TranslationServer: Sendable {
    /// Address, batching and limits (validated).
    public let settings: ServerSettings
    /// The batching queue in front of the decoder (also a service of the application).
    public let queue: TranslationQueue
    /// The figures of `GET /metrics`.
    public let metrics: ServerMetrics
    /// K used when a request names no beam (the server's `--beam`).
    public let defaultBeam: Int
    /// n-best length used when a request names none, and the `n_best` of `/translator/translate`.
    public let defaultNBest: Int

    /// Checks `settings` and the defaults (`1 ≤ defaultNBest ≤ defaultBeam`) and starts the queue's
    /// worker. Throws `ServingError.invalidSetting` naming the option.
    public init(translator: BatchTranslator, settings: ServerSettings, defaultBeam: Int, defaultNBest: Int = 1) throws {
        try settings.validate()
        guard defaultBeam >= 1 else { throw ServingError.invalidSetting("--beam must be at least 1, got \(defaultBeam)") }
        guard (1...defaultBeam).contains(defaultNBest) else {
            throw ServingError.invalidSetting("--n-best must be between 1 and --beam (\(defaultBeam)), got \(defaultNBest)")
        }
        self.settings = settings
        self.defaultBeam = defaultBeam
        self.defaultNBest = defaultNBest
        let metrics = ServerMetrics()
        self.metrics = metrics
        queue = TranslationQueue(translator: translator, batchSize: settings.batchSize,
                                 maxWait: Double(settings.maxWaitMilliseconds) / 1000,
                                 capacity: settings.queueCapacity, observer: metrics)
    }

    /// The Hummingbird application: routes, the error/metrics middleware, and the queue as a
    /// service, bound to `settings.host`:`settings.port`. `onServerRunning` gets the bound port
    /// (useful with port 0); `logger` gets the framework's log lines (none by default). Run it with `runService()` (SIGTERM/SIGINT: stop accepting, finish
    /// the requests in flight, return) or a test framework.
    public func makeApplication(logger: Logger? = nil,
                                onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }) -> some ApplicationProtocol {
        let router = Router()
        router.add(middleware: ServingMiddleware<BasicRequestContext>(metrics: metrics, retryAfterSeconds: settings.retryAfterSeconds))
        router.get("/") { _, _ in
            Self.response(.ok, contentType: "text/html; charset=utf-8", Array(TryPage.html.utf8))
        }
        router.get("/health") { _, _ in try Self.json(.ok, ["status": "ok"]) }
        router.get("/translator/health") { _, _ in try Self.json(.ok, ["status": "ok"]) }
        router.get("/metrics") { [metrics] _, _ in
            Self.response(.ok, contentType: "text/plain; version=0.0.4; charset=utf-8", Array(metrics.text().utf8))
        }
        router.post("/translate") { request, _ in try await self.translate(request) }
        router.post("/translator/translate") { request, _ in try await self.translateOpenNMT(request) }
        // Silent by default: every failure reaches the caller as a thrown error or an HTTP
        // answer, and stdout/stderr belong to the command.
        let quiet = Logger(label: "seq2seq.serve", factory: { _ in SwiftLogNoOpLogHandler() })
        return Application(
            router: router,
            server: .http1(configuration: .init(idleTimeout: .seconds(Int64(settings.idleTimeoutSeconds)))),
            configuration: .init(address: .hostname(settings.host, port: settings.port), serverName: "seq2seq"),
            services: [QueueService(queue: queue)],
            onServerRunning: { channel in await onServerRunning(channel.localAddress?.port ?? 0) },
            logger: logger ?? quiet)
    }

    /// Serves until `stop` returns, then stops accepting connections, finishes the requests in
    /// flight (the queue drains) and returns. `onServerRunning` gets the bound port. Throws
    /// `ServingError.cannotListen` when the address cannot be bound (in use, not local, …).
    ///
    /// The caller watches for signals itself (`seq2seq serve` records SIGTERM/SIGINT in a handler
    /// and polls it): ServiceLifecycle's signal sources use a signalfd on Linux, which sees a signal
    /// only if every thread blocks it, and the BLAS and framework threads do not, so a SIGTERM could
    /// otherwise kill the process (status 143) instead of draining it.
    public func run(onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in },
                    until stop: @escaping @Sendable () async -> Void) async throws {
        let group = makeServiceGroup(onServerRunning: onServerRunning)
        do {
            try await withThrowingTaskGroup(of: Void.self) { tasks in
                tasks.addTask {
                    await stop()
                    await group.triggerGracefulShutdown()
                }
                try await group.run()
                tasks.cancelAll()
            }
        } catch let error as IOError {
            throw ServingError.cannotListen("\(settings.host):\(settings.port): \(String(cString: strerror(error.errnoCode)))")
        } catch let error as SocketAddressError.UnknownHost {
            throw ServingError.cannotListen("\(settings.host):\(settings.port): unknown host \(error.host)")
        }
    }

    /// The application in a service group of its own, without signal handling: `run()` it and stop
    /// it with `triggerGracefulShutdown()` (stop accepting, finish the requests in flight, drain
    /// the queue).
    public func makeServiceGroup(onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }) -> ServiceGroup {
        let app = makeApplication(onServerRunning: onServerRunning)
        return ServiceGroup(configuration: .init(services: [app],
                                                 logger: Logger(label: "seq2seq.serve", factory: { _ in SwiftLogNoOpLogHandler() })))
    }

    // MARK: Routes

    /// `POST /translate`.
    func translate(_ request: Request) async throws -> Response {
        let started = ContinuousClock.now
        let body: TranslateRequest = try await decodeBody(request)
        let beam = body.beam ?? defaultBeam
        guard (1...settings.maxBeam).contains(beam) else {
            throw ServingError.badRequest("beam must be between 1 and \(settings.maxBeam), got \(beam)")
        }
        let nBest = body.nBest ?? min(defaultNBest, beam)
        guard (1...beam).contains(nBest) else {
            throw ServingError.badRequest("n_best must be between 1 and the beam (\(beam)), got \(nBest)")
        }
        try checkSizes(body.text, field: "text")
        let results = try await queued(body.text, beam: beam, nBest: nBest)
        let withScores = body.nBest != nil || defaultNBest > 1
        let answer = TranslateResponse(
            translations: results.map { $0.first?.text ?? "" },
            nBest: withScores ? results.map { $0.map {
                TranslateResponse.Scored(text: $0.text, score: finite($0.score), logProb: finite($0.logProb))
            } } : nil)
        let response = try Self.json(.ok, answer)
        metrics.recordLatency(route: "/translate", ContinuousClock.now - started)
        return response
    }

    /// The queue's translations, its refusals as the server's errors (503).
    func queued(_ lines: [String], beam: Int, nBest: Int) async throws -> [[ScoredTranslation]] {
        do {
            return try await queue.translate(lines, beam: beam, nBest: nBest)
        } catch Seq2SeqError.queueFull {
            throw ServingError.queueFull
        } catch Seq2SeqError.shuttingDown {
            throw ServingError.shuttingDown
        }
    }

    /// `POST /translator/translate` (OpenNMT-py): `[{"src": …, "id": …}]` → `[[{"src", "tgt",
    /// "n_best", "pred_score"}]]`, the outer list indexed by n-best rank.
    func translateOpenNMT(_ request: Request) async throws -> Response {
        let started = ContinuousClock.now
        let items: [OpenNMTRequestItem] = try await decodeBody(request)
        guard !items.isEmpty else {
            throw ServingError.badRequest("expected a non-empty list of {\"src\": \"…\", \"id\": …} objects")
        }
        let sources = items.map(\.src)
        try checkSizes(sources, field: "src")
        let results = try await queued(sources, beam: defaultBeam, nBest: defaultNBest)
        let answer: [[OpenNMTResponseItem]] = (0..<defaultNBest).map { rank in
            sources.indices.map { i in
                // A search returns fewer than n-best hypotheses only for an empty source (one
                // empty translation); repeat the last so every rank lists every input.
                let hypotheses = results[i]
                let t = hypotheses.isEmpty ? ScoredTranslation(text: "", score: 0, logProb: 0) : hypotheses[min(rank, hypotheses.count - 1)]
                return OpenNMTResponseItem(src: sources[i], tgt: t.text, nBest: defaultNBest, predScore: finite(t.score))
            }
        }
        let response = try Self.json(.ok, answer)
        metrics.recordLatency(route: "/translator/translate", ContinuousClock.now - started)
        return response
    }

    // MARK: Checks

    /// The body as `T`: 413 when longer than `maxBodyBytes` (by Content-Length or by what arrives),
    /// 400 naming the first invalid UTF-8 byte, the JSON syntax error, or the field that does not fit.
    func decodeBody<T: Decodable>(_ request: Request) async throws -> T {
        let limit = settings.maxBodyBytes
        if let declared = request.headers[.contentLength].flatMap({ Int($0) }), declared > limit {
            throw ServingError.tooLarge("request body is \(declared) bytes; the limit is \(limit)")
        }
        let buffer: ByteBuffer
        do {
            buffer = try await request.body.collect(upTo: limit)
        } catch is NIOTooManyBytesError {
            throw ServingError.tooLarge("request body is over the limit of \(limit) bytes")
        }
        let bytes = Array(buffer.readableBytesView)
        if let offset = firstInvalidUTF8(bytes) {
            throw ServingError.badRequest("request body is not valid UTF-8 (byte \(offset))")
        }
        let data = Data(bytes)
        do {
            return try JSONDecoder().decode(T.self, from: data)
        } catch let error as DecodingError {
            throw ServingError.badRequest(describe(error, body: data))
        }
    }

    /// 413 for more than `maxLines` sentences or one longer than `maxLineBytes`, naming which.
    func checkSizes(_ lines: [String], field: String) throws {
        if lines.count > settings.maxLines {
            throw ServingError.tooLarge("\(lines.count) sentences in one request; the limit is \(settings.maxLines)")
        }
        if let i = lines.firstIndex(where: { $0.utf8.count > settings.maxLineBytes }) {
            let what = field == "text" ? "text[\(i)]" : "item \(i) src"
            throw ServingError.tooLarge("\(what) is \(lines[i].utf8.count) bytes; the limit is \(settings.maxLineBytes)")
        }
    }

    // MARK: Responses

    static func response(_ status: HTTPResponse.Status, contentType: String, _ bytes: [UInt8],
                         headers extra: HTTPFields = [:]) -> Response {
        var headers = extra
        headers[.contentType] = contentType
        headers[.contentLength] = String(bytes.count)
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    static func json<T: Encodable>(_ status: HTTPResponse.Status, _ value: T, headers: HTTPFields = [:]) throws -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return response(status, contentType: "application/json; charset=utf-8", Array(try encoder.encode(value)), headers: headers)
    }
}

/// nil for ±inf and NaN, which JSON cannot carry.
func finite(_ value: Double) -> Double? { value.isFinite ? value : nil }

/// Byte offset of the first byte that does not belong to well-formed UTF-8, or nil.
func firstInvalidUTF8(_ bytes: [UInt8]) -> Int? {
    var iterator = bytes.makeIterator()
    var decoder = UTF8()
    var offset = 0
    while true {
        switch decoder.decode(&iterator) {
        case .scalarValue(let scalar): offset += UTF8.width(scalar)
        case .emptyInput: return nil
        case .error: return offset
        }
    }
}

/// One line naming what the JSON decoder refused in `body`. JSONDecoder says only "not valid JSON"
/// for a syntax error, so the reason (and where) is taken from JSONSerialization's message.
func describe(_ error: DecodingError, body: Data) -> String {
    func path(_ context: DecodingError.Context, _ last: CodingKey? = nil) -> String {
        let keys = context.codingPath + (last.map { [$0] } ?? [])
        if keys.isEmpty { return "the body" }
        return keys.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined()
            .trimmingCharacters(in: CharacterSet(charactersIn: "."))
    }
    func kind(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: return "a string"
        case is Int.Type: return "an integer"
        case is [String].Type: return "an array of strings"
        case is [OpenNMTRequestItem].Type: return "an array of {\"src\": …} objects"
        default:
            let name = String(describing: type)
            if name.hasPrefix("Array") { return "an array" }
            if name.hasPrefix("Dictionary") || name.hasSuffix("Request") || name.hasSuffix("Item") { return "an object" }
            return name
        }
    }
    switch error {
    case .typeMismatch(let type, let context):
        let field = path(context)
        let expected = field == "text" ? "an array of strings" : kind(type)
        // Foundation's text ends "… but found a string instead."; keep what was found.
        let found = context.debugDescription.range(of: "found ").map {
            " (found " + context.debugDescription[$0.upperBound...].replacingOccurrences(of: " instead.", with: "") + ")"
        } ?? ""
        return "\(field) must be \(expected)\(found)"
    case .valueNotFound(let type, let context):
        return "\(path(context)) must be \(kind(type)), not null"
    case .keyNotFound(let key, let context):
        return "missing field \(path(context, key))"
    case .dataCorrupted(let context):
        if context.codingPath.isEmpty {
            var underlying: String?
            do { _ = try JSONSerialization.jsonObject(with: body, options: [.fragmentsAllowed]) } catch {
                underlying = (error as NSError).userInfo[NSDebugDescriptionErrorKey] as? String
            }
            return "request body is not valid JSON" + (underlying.map { ": \($0)" } ?? "")
        }
        return "\(path(context)): \(context.debugDescription)"
    @unknown default:
        return "request body does not match the expected JSON"
    }
}
