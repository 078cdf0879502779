import ArgumentParser
import Foundation
import Serving

struct Serve: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Serve a model over HTTP: JSON translation routes, an OpenNMT-py-compatible route, metrics and a page to try it.",
        discussion: """
        Loads the model once (every option of `translate` that applies to a server) and answers \
        POST /translate ({"text": [...], "beam": 5, "n_best": 1}), POST /translator/translate \
        (OpenNMT-py's REST format), GET /health, GET /metrics (Prometheus) and GET / (a page to \
        type a sentence and read its translation). Requests from all clients are batched together \
        (up to --batch-size sentences, or --max-wait-ms of waiting) and decoded on one worker thread.

        Limits answer with one JSON error line: 413 for a body over --max-body-bytes, more than \
        --max-lines sentences or a sentence over --max-line-bytes; 400 for invalid UTF-8, malformed \
        JSON or an option out of range; 404 for an unknown route; 503 with Retry-After when \
        --queue-size sentences are already waiting. SIGTERM or Ctrl-C stops accepting connections, \
        finishes the requests in flight and exits with status 0.
        """)

    @OptionGroup var translation: TranslatorArguments
    @Option(help: "Address to listen on.") var host: String = "127.0.0.1"
    @Option(help: "TCP port (0: any free port, printed at start).") var port: Int = 8080
    @Option(help: "Most sentences decoded together, from one or many requests.") var batchSize: Int = 32
    @Option(name: .customLong("max-wait-ms"), help: "Milliseconds a sentence waits for others to fill its batch.")
    var maxWaitMilliseconds: Int = 5
    @Option(help: "Sentences that may wait for the decoder; beyond it requests get 503.") var queueSize: Int = 1024
    @Option(help: "Largest request body in bytes.") var maxBodyBytes: Int = 1 << 20
    @Option(help: "Most sentences in one request.") var maxLines: Int = 256
    @Option(help: "Longest sentence in UTF-8 bytes.") var maxLineBytes: Int = 4096
    @Option(help: "Largest beam a request may ask for.") var maxRequestBeam: Int = 32
    @Option(help: "Seconds in the Retry-After header of a 503.") var retryAfter: Int = 1
    @Option(help: "Seconds before a connection that sends nothing (between requests, or mid-request) is closed.")
    var idleTimeout: Int = 30

    func run() throws {
        try translation.check()
        var settings = ServerSettings()
        settings.host = host
        settings.port = port
        settings.batchSize = batchSize
        settings.maxWaitMilliseconds = maxWaitMilliseconds
        settings.queueCapacity = queueSize
        settings.maxBodyBytes = maxBodyBytes
        settings.maxLines = maxLines
        settings.maxLineBytes = maxLineBytes
        settings.maxBeam = max(maxRequestBeam, translation.search.beam)
        settings.retryAfterSeconds = retryAfter
        settings.idleTimeoutSeconds = idleTimeout
        do { try settings.validate() } catch let error as ServingError { throw ValidationError(error.description) }

        // From here on SIGTERM/SIGINT, on whichever thread they arrive, only record the signal; the
        // server polls for it and drains (see `TranslationServer.run`).
        StopSignals.install()
        let translator = try translation.makeTranslator()
        let server = try TranslationServer(translator: translator, settings: settings,
                                           defaultBeam: translation.search.beam, defaultNBest: translation.nBest)
        let model = translation.modelNames
        let outcome = Outcome()
        let done = DispatchSemaphore(value: 0)
        Task {
            do {
                try await server.run(onServerRunning: { port in
                    let shownHost = host.contains(":") ? "[\(host)]" : host
                    printError("seq2seq: serving \(model) at http://\(shownHost):\(port)/ (SIGTERM or Ctrl-C stops)")
                }, until: {
                    while StopSignals.exitStatus == nil && !Task.isCancelled {
                        try? await Task.sleep(for: .milliseconds(50))
                    }
                })
            } catch {
                outcome.error = error
            }
            done.signal()
        }
        done.wait()
        if let error = outcome.error { throw error }
    }
}

/// The error the server task ended with, handed to the blocked main thread (written once, read
/// after the semaphore).
private final class Outcome: @unchecked Sendable {
    var error: Error?
}
