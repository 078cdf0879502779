import Corpus
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Samples
import Serving
import Seq2Seq
import ServiceLifecycle
import TestSupport
import Text
import Training
import Translation
import ModelFolder

/// A model trained for a few steps on the sample English→French numbers corpus, in a temporary
/// folder, built once per test run (a few seconds) and shared by the suites that need real decoding.
enum TinyModel {
    static let translator: TranslationEngine = {
        do { return try TranslationEngine(directory: SavedModel(opening: folder), checkpoint: .last) } catch { fatalError("tiny model: \(error)") }
    }()

    /// The model folder (trained once per test run).
    static let folder: String = {
        do { return try build() } catch { fatalError("tiny model: \(error)") }
    }()

    /// Sentences the tiny model knows words of.
    static let sentences = SampleCorpus(trainSize: 24, validSize: 4, testSize: 4, seed: 5).train.source

    private static func build() throws -> String {
        let root = makeTemporaryDirectory("serving-model")
        let corpus = SampleCorpus(trainSize: 24, validSize: 4, testSize: 4, seed: 5)
        let options = TokenizerOptions()
        let tokenizer = try Tokenizer(options: options)
        let source = root.appendingPathComponent("train.en"), target = root.appendingPathComponent("train.fr")
        try Data((corpus.train.source.joined(separator: "\n") + "\n").utf8).write(to: source)
        try Data((corpus.train.target.joined(separator: "\n") + "\n").utf8).write(to: target)
        var shardOptions = ShardOptions()
        shardOptions.pairsPerShard = 24
        _ = try ShardPacker.pack(sourcePath: source.path, targetPath: target.path,
                                 output: root.appendingPathComponent("shards").path, options: shardOptions,
                                 tokenCount: { tokenizer.tokenize($0).count })
        let shards = try ShardSet(directory: root.appendingPathComponent("shards").path)
        var sourceBuilder = VocabularyBuilder(options: options), targetBuilder = VocabularyBuilder(options: options)
        for line in corpus.train.source { sourceBuilder.add(tokens: tokenizer.tokenize(line)) }
        for line in corpus.train.target { targetBuilder.add(tokens: tokenizer.tokenize(line)) }
        let sourceVocabulary = sourceBuilder.build(), targetVocabulary = targetBuilder.build()
        var training = TrainingOptions()
        training.embedding = 8; training.hidden = 12; training.layers = 1
        training.batchSize = 8; training.windowSize = 24
        training.epochs = 100; training.maxSteps = 20
        training.optimizer = .adam; training.learningRate = 0.01
        training.dropout = 0; training.saveEvery = nil; training.logEvery = 1000; training.seed = 11
        let config = ModelFolderConfig(
            toolVersion: "test",
            model: training.modelConfig(sourceVocabularySize: sourceVocabulary.count, targetVocabularySize: targetVocabulary.count),
            training: training, sourceTokenizer: sourceVocabulary.options, targetTokenizer: targetVocabulary.options)
        let directory = try ModelDirectory(creating: root.appendingPathComponent("m").path, config: config,
                                           sourceVocabulary: sourceVocabulary, targetVocabulary: targetVocabulary)
        _ = try Trainer(directory: directory, shards: shards, validation: nil, resume: false,
                        progress: ProgressReporter(logEvery: 1_000_000, isTerminal: false)).run()
        return directory.saved.path
    }
}

/// Opens or closes the stub's decoding: while closed, `translate` blocks (a slow model).
final class Gate: @unchecked Sendable {
    private let condition = NSCondition()
    private var isOpen: Bool

    init(open: Bool) { isOpen = open }

    func wait() {
        condition.lock()
        while !isOpen { condition.wait() }
        condition.unlock()
    }

    func open() {
        condition.lock()
        isOpen = true
        condition.broadcast()
        condition.unlock()
    }
}

/// A translator whose answer to line L is "L#k" for rank k (score -k): the tests see at once
/// whose sentence an answer belongs to. It records the batches it was given.
final class StubTranslator: BatchTranslator, @unchecked Sendable {
    let gate: Gate
    private let lock = NSLock()
    private var recorded: [[String]] = []
    private var startedCount = 0
    /// Batches decoded so far, in order.
    var batches: [[String]] { lock.withLock { recorded } }
    /// Calls begun (a call waiting at the closed gate counts).
    var started: Int { lock.withLock { startedCount } }

    init(gate: Gate = Gate(open: true)) { self.gate = gate }

    func translate(_ lines: [String], beam: Int, nBest: Int) -> [[ScoredTranslation]] {
        lock.withLock { startedCount += 1 }
        gate.wait()
        lock.withLock { recorded.append(lines) }
        return lines.map { line in
            (0..<nBest).map { k in ScoredTranslation(text: "\(line)#\(k)", score: -Double(k), logProb: -Double(k) - 1) }
        }
    }
}

/// One HTTP answer, as a client sees it.
struct Answer: Sendable {
    var status: Int
    var headers: [String: String]
    var body: Data
    var text: String { String(decoding: body, as: UTF8.self) }
    /// The body parsed as JSON (Foundation's untyped view), nil if it is not JSON.
    var json: Any? { try? JSONSerialization.jsonObject(with: body, options: [.fragmentsAllowed]) }
    /// The `error` field of an error answer.
    var error: String? { (json as? [String: Any])?["error"] as? String }
}

/// An HTTP/1.1 client on loopback (URLSession, one connection per concurrent request).
struct LoopbackClient: Sendable {
    let port: Int
    static let session: URLSession = {
        let configuration = URLSessionConfiguration.ephemeral
        configuration.httpMaximumConnectionsPerHost = 64
        configuration.timeoutIntervalForRequest = 30
        return URLSession(configuration: configuration)
    }()

    func send(_ method: String, _ path: String, body: Data? = nil, contentType: String? = "application/json") async throws -> Answer {
        var request = URLRequest(url: URL(string: "http://127.0.0.1:\(port)\(path)")!)
        request.httpMethod = method
        request.httpBody = body
        if let contentType { request.setValue(contentType, forHTTPHeaderField: "Content-Type") }
        let (data, response) = try await Self.session.data(for: request)
        let http = response as! HTTPURLResponse
        var headers: [String: String] = [:]
        for (key, value) in http.allHeaderFields { headers[String(describing: key).lowercased()] = String(describing: value) }
        return Answer(status: http.statusCode, headers: headers, body: data)
    }

    func post(_ path: String, json: String) async throws -> Answer {
        try await send("POST", path, body: Data(json.utf8))
    }
}

/// Starts `server` on an ephemeral loopback port, runs `body` with a client for it, and shuts the
/// server down gracefully (it stops accepting, finishes the requests in flight, the queue drains).
func withServer(_ server: TranslationServer, _ body: @escaping @Sendable (LoopbackClient) async throws -> Void) async throws {
    let (ports, portSink) = AsyncStream.makeStream(of: Int.self)
    let group = server.makeServiceGroup { port in portSink.yield(port) }
    try await withThrowingTaskGroup(of: Void.self) { tasks in
        tasks.addTask { try await group.run() }
        var next = ports.makeAsyncIterator()
        guard let port = await next.next() else { throw CancellationError() }
        do {
            try await body(LoopbackClient(port: port))
        } catch {
            await group.triggerGracefulShutdown()
            throw error
        }
        await group.triggerGracefulShutdown()
        try await tasks.waitForAll()
    }
}

/// Settings on port 0 (any free port) with the given changes.
func settings(_ change: (inout ServerSettings) -> Void = { _ in }) -> ServerSettings {
    var s = ServerSettings()
    s.port = 0
    change(&s)
    return s
}
