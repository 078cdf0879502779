import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Testing
import TestSupport

/// `seq2seq serve` through the built binary: it answers on the port it prints, and SIGTERM lets
/// the request in flight finish before the process exits with status 0.
@Suite("serve through the binary")
struct ServeCLITests {
    /// Starts `serve` on port 0 and returns the process, its stderr reader and the port it printed.
    static func start(_ arguments: [String]) throws -> (Process, Pipe, Int) {
        let process = Process()
        process.executableURL = seq2seqBinary()
        process.arguments = ["serve", "--port", "0"] + arguments
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        // The first stderr line: "seq2seq: serving MODEL at http://127.0.0.1:PORT/ (…)".
        var line = Data()
        while !line.contains(0x0A) {
            let chunk = errors.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            line += chunk
        }
        let text = String(decoding: line, as: UTF8.self)
        guard let range = text.range(of: #"127\.0\.0\.1:[0-9]+"#, options: .regularExpression),
              let port = Int(text[range].split(separator: ":")[1]) else {
            Self.stop(process)
            throw CLITestError("serve did not print its address: \(text)")
        }
        return (process, errors, port)
    }

    /// Waits at most `seconds` for the process to end; false (and the process killed) when it did
    /// not, so a server that hangs fails the test instead of outliving it.
    static func waitForExit(_ process: Process, seconds: Double) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while process.isRunning && Date() < deadline { usleep(10_000) }
        if process.isRunning {
            stop(process)
            return false
        }
        process.waitUntilExit()
        return true
    }

    /// Ends a server the test no longer needs: SIGKILL (no test depends on how it ends here), then
    /// the wait, so no server outlives the suite.
    static func stop(_ process: Process) {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
    }

    /// A request sent from URLSession's own threads; ``wait(seconds:)`` blocks until its answer. No
    /// step needs a thread of Swift's cooperative pool, which other tests' blocking waits can hold
    /// for many seconds on 2 cores (a CI run once sent the request only after the server had gone).
    final class Exchange: @unchecked Sendable {
        private let done = DispatchSemaphore(value: 0)
        // Written once by the completion handler before `done` is signalled; read after the wait.
        private var result: Result<(status: Int, body: Data), Error> = .failure(CLITestError("no answer"))

        init(port: Int, path: String, json: String? = nil) {
            var request = URLRequest(url: URL(string: "http://127.0.0.1:\(port)\(path)")!)
            request.timeoutInterval = 60
            if let json {
                request.httpMethod = "POST"
                request.httpBody = Data(json.utf8)
                request.setValue("application/json", forHTTPHeaderField: "Content-Type")
            }
            URLSession.shared.dataTask(with: request) { data, response, error in
                if let error {
                    self.result = .failure(error)
                } else {
                    self.result = .success(((response as? HTTPURLResponse)?.statusCode ?? 0, data ?? Data()))
                }
                self.done.signal()
            }.resume()
        }

        /// The status and body; throws the transport's error, or when no answer came in `seconds`.
        func wait(seconds: Double) throws -> (status: Int, body: Data) {
            guard done.wait(timeout: .now() + seconds) == .success else {
                throw CLITestError("no answer within \(seconds) s")
            }
            return try result.get()
        }
    }

    @Test func sigtermFinishesTheRequestInFlightAndExitsZero() throws {
        let p = try pipeline()
        // A batch waits up to 10 s for company (the most --max-wait-ms allows), so the request is
        // still queued when SIGTERM arrives; only the shutdown lets it go sooner.
        let (process, _, port) = try Self.start(["--model", p.model, "--beam", "2", "--max-wait-ms", "10000"])
        defer { Self.stop(process) }
        let expected = try runSeq2seq(["translate", "--model", p.model, "--beam", "2"], stdin: Data("one two\nthree\n".utf8))
        let request = Exchange(port: port, path: "/translate", json: #"{"text": ["one two", "three"]}"#)
        // SIGTERM once the server holds the request (its two sentences wait in the queue).
        var queued = false
        let deadline = Date().addingTimeInterval(30)
        while !queued && Date() < deadline {
            let metrics = try Exchange(port: port, path: "/metrics").wait(seconds: 30)
            queued = String(decoding: metrics.body, as: UTF8.self).contains("seq2seq_queue_depth 2")
            if !queued { usleep(10_000) }
        }
        try #require(queued, "the request's two sentences never showed in seq2seq_queue_depth")
        #expect(process.isRunning)
        kill(process.processIdentifier, SIGTERM)
        let (status, body) = try request.wait(seconds: 60)
        #expect(status == 200)
        let translations = (try JSONSerialization.jsonObject(with: body) as? [String: Any])?["translations"] as? [String]
        #expect(translations == expected.stdoutText.split(separator: "\n", omittingEmptySubsequences: false).dropLast().map(String.init))
        #expect(Self.waitForExit(process, seconds: 60), "the server did not exit within 60 s of SIGTERM")
        #expect(process.terminationReason == .exit)
        #expect(process.terminationStatus == 0)
    }

    /// Whichever of the process's threads (BLAS, event loops, decoder) the signal lands on, it is
    /// a graceful stop with status 0, never the default action (143), and never ignored.
    @Test func everySigtermOrSigintIsAGracefulStop() throws {
        let p = try pipeline()
        for (round, signal) in [SIGTERM, SIGINT, SIGTERM, SIGTERM, SIGINT, SIGTERM].enumerated() {
            let (process, _, _) = try Self.start(["--model", p.model, "--threads", "2"])
            kill(process.processIdentifier, signal)
            let deadline = Date().addingTimeInterval(30)
            while process.isRunning && Date() < deadline { usleep(10_000) }
            if process.isRunning { Self.stop(process) }
            #expect(process.terminationReason == .exit && process.terminationStatus == 0,
                    "round \(round): \(process.terminationReason == .exit ? "status" : "signal") \(process.terminationStatus)")
        }
    }

    @Test func badServeOptionsAreOneLineErrors() throws {
        let p = try pipeline()
        expectOneLineError(try runSeq2seq(["serve", "--model", p.model, "--max-lines", "0"]), mentions: ["--max-lines"])
        expectOneLineError(try runSeq2seq(["serve", "--model", p.model, "--port", "70000"]), mentions: ["--port"])
        expectOneLineError(try runSeq2seq(["serve", "--model", p.model, "--n-best", "3", "--beam", "2"]), mentions: ["--n-best"])
        expectOneLineError(try runSeq2seq(["serve", "--model", "/nonexistent/model"]), mentions: ["/nonexistent/model"])
    }

    @Test func aPortInUseIsAOneLineError() throws {
        let p = try pipeline()
        let (first, _, port) = try Self.start(["--model", p.model])
        defer { Self.stop(first) }
        expectOneLineError(try runSeq2seq(["serve", "--model", p.model, "--port", String(port)]), mentions: ["\(port)"])
    }
}

struct CLITestError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
