import Foundation
import Serving
import Seq2Seq
import Testing
import Translation

/// The batching queue: many clients, one decoder.
@Suite struct QueueTests {
    /// 40 clients at once, each with its own 1–3 sentences: every client gets exactly its own
    /// sentences' answers in its own order, and the decoder saw batches mixing several clients.
    @Test func concurrentClientsGetTheirOwnAnswersInRequestOrder() async throws {
        let stub = StubTranslator()
        let server = try TranslationServer(translator: stub, settings: settings { s in
            s.batchSize = 16; s.maxWaitMilliseconds = 50
        }, defaultBeam: 5)
        try await withServer(server) { client in
            try await withThrowingTaskGroup(of: Void.self) { group in
                for c in 0..<40 {
                    group.addTask {
                        let lines = (0...(c % 3)).map { "client\(c) line\($0)" }
                        let answer = try await client.send("POST", "/translate", body: try JSONEncoder().encode(TranslateRequest(text: lines)))
                        #expect(answer.status == 200)
                        let body = try JSONDecoder().decode(TranslateResponse.self, from: answer.body)
                        #expect(body.translations == lines.map { "\($0)#0" })
                    }
                }
                try await group.waitForAll()
            }
        }
        let batches = stub.batches
        let decoded: Int = batches.map(\.count).reduce(0, +)
        let sent: Int = (0..<40).map { $0 % 3 + 1 }.reduce(0, +)
        #expect(decoded == sent)
        #expect(batches.allSatisfy { $0.count <= 16 })
        let clientsPerBatch = batches.map { Set($0.map { $0.split(separator: " ")[0] }).count }
        #expect(clientsPerBatch.max() ?? 0 > 1, "batches: \(batches.map(\.count))")
    }

    /// A batch holds requests in arrival order; a request larger than the batch size is decoded
    /// in several searches and still answered whole and in order; different beams are decoded apart.
    @Test func batchesFollowArrivalOrderAndSplitLargeRequests() async throws {
        let gate = Gate(open: false)
        let stub = StubTranslator(gate: gate)
        let queue = TranslationQueue(translator: stub, batchSize: 4, maxWait: 0, capacity: 100)
        let blocker = Task { try await queue.translate(["blocker"], beam: 5, nBest: 1) }
        try await waitUntil { stub.started == 1 }
        let big = Task { try await queue.translate((0..<6).map { "big\($0)" }, beam: 5, nBest: 1) }
        try await waitUntil { queue.depth == 6 }
        let small = Task { try await queue.translate(["s0", "s1"], beam: 5, nBest: 1) }
        try await waitUntil { queue.depth == 8 }
        let greedy = Task { try await queue.translate(["g0"], beam: 1, nBest: 1) }
        try await waitUntil { queue.depth == 9 }
        gate.open()
        #expect(try await blocker.value.map { $0[0].text } == ["blocker#0"])
        #expect(try await big.value.map { $0[0].text } == (0..<6).map { "big\($0)#0" })
        #expect(try await small.value.map { $0[0].text } == ["s0#0", "s1#0"])
        #expect(try await greedy.value.map { $0[0].text } == ["g0#0"])
        // blocker; big alone is over the batch size (4 + 2); then small with greedy beside it (2 searches).
        #expect(stub.batches == [["blocker"], ["big0", "big1", "big2", "big3"], ["big4", "big5"], ["s0", "s1"], ["g0"]])
        await queue.shutdown()
    }

    /// Shutdown refuses new work, finishes every queued request, and only then returns.
    @Test func shutdownFinishesQueuedRequestsAndRefusesNewOnes() async throws {
        let gate = Gate(open: false)
        let stub = StubTranslator(gate: gate)
        let queue = TranslationQueue(translator: stub, batchSize: 2, maxWait: 0, capacity: 100)
        let inFlight = Task { try await queue.translate(["a", "b", "c"], beam: 5, nBest: 1) }
        try await waitUntil { stub.started == 1 }
        let queued = Task { try await queue.translate(["d"], beam: 5, nBest: 1) }
        try await waitUntil { queue.depth == 1 }
        let stopped = Task { await queue.shutdown() }
        try await waitUntil { queue.isShuttingDown }
        await #expect(throws: Seq2SeqError.shuttingDown) { try await queue.translate(["late"], beam: 5, nBest: 1) }
        gate.open()
        await stopped.value
        #expect(try await inFlight.value.map { $0[0].text } == ["a#0", "b#0", "c#0"])
        #expect(try await queued.value.map { $0[0].text } == ["d#0"])
    }

    @Test func settingsOutOfRangeAreRefusedNamingTheOption() throws {
        let cases: [(ServerSettings, String)] = [
            (settings { $0.batchSize = 0 }, "--batch-size"),
            (settings { $0.port = 70000 }, "--port"),
            (settings { $0.maxLines = 10; $0.queueCapacity = 5 }, "--queue-size"),
            (settings { $0.maxLineBytes = 0 }, "--max-line-bytes"),
            (settings { $0.maxBodyBytes = 0 }, "--max-body-bytes"),
            (settings { $0.maxWaitMilliseconds = -1 }, "--max-wait-ms"),
        ]
        for (bad, option) in cases {
            #expect { try bad.validate() } throws: { ($0 as? ServingError)?.description.contains(option) == true }
        }
        #expect(throws: ServingError.self) { try TranslationServer(translator: StubTranslator(), settings: settings(), defaultBeam: 2, defaultNBest: 3) }
    }
}
