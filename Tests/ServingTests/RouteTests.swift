import Foundation
import Kernels
import Serving
import Testing
import Translation

/// Every route through a live server on an ephemeral loopback port.
@Suite struct RouteTests {
    @Test func pageIsSelfContainedAndCallsTranslate() async throws {
        let server = try TranslationServer(translator: StubTranslator(), settings: settings(), defaultBeam: 5)
        try await withServer(server) { client in
            let page = try await client.send("GET", "/")
            #expect(page.status == 200)
            #expect(page.headers["content-type"]?.hasPrefix("text/html") == true)
            #expect(page.text.contains("<textarea") && page.text.contains("fetch(\"translate\""))
            // Nothing loaded from elsewhere: no external script, style or font.
            #expect(!page.text.contains("http://") && !page.text.contains("https://") && !page.text.contains("src="))
        }
    }

    @Test func healthAnswersOK() async throws {
        let server = try TranslationServer(translator: StubTranslator(), settings: settings(), defaultBeam: 5)
        try await withServer(server) { client in
            for path in ["/health", "/translator/health"] {
                let health = try await client.send("GET", path)
                #expect(health.status == 200)
                #expect(health.json as? [String: String] == ["status": "ok"])
            }
        }
    }

    @Test func metricsCountRequestsSentencesLatencyAndQueueDepth() async throws {
        let server = try TranslationServer(translator: StubTranslator(), settings: settings(), defaultBeam: 5)
        try await withServer(server) { client in
            _ = try await client.post("/translate", json: #"{"text": ["a", "b", "c"]}"#)
            _ = try await client.send("GET", "/nowhere")
            let metrics = try await client.send("GET", "/metrics")
            #expect(metrics.status == 200)
            #expect(metrics.headers["content-type"]?.hasPrefix("text/plain; version=0.0.4") == true)
            let text = metrics.text
            #expect(text.contains(#"seq2seq_requests_total{route="/translate",code="200"} 1"#), "\(text)")
            #expect(text.contains(#"seq2seq_requests_total{route="unknown",code="404"} 1"#), "\(text)")
            #expect(text.contains("seq2seq_sentences_total 3"), "\(text)")
            #expect(text.contains(#"seq2seq_request_duration_seconds_count{route="/translate"} 1"#), "\(text)")
            #expect(text.contains(#"seq2seq_request_duration_seconds_bucket{route="/translate",le="+Inf"} 1"#), "\(text)")
            #expect(text.contains("seq2seq_queue_depth 0"), "\(text)")
            #expect(text.contains("# TYPE seq2seq_batch_sentences histogram"), "\(text)")
            // The backend and instruction set that compute, named as `doctor` names them.
            let backend = GemmBackend.inUse
            #expect(text.contains(#"seq2seq_compute_info{gemm="\#(backend.rawValue)",gemm_isa="\#(backend.instructionSet)""#), "\(text)")
        }
    }

    @Test func translateAnswersEachSentenceInOrder() async throws {
        let server = try TranslationServer(translator: StubTranslator(), settings: settings(), defaultBeam: 5)
        try await withServer(server) { client in
            let answer = try await client.post("/translate", json: #"{"text": ["one", "", "three"]}"#)
            #expect(answer.status == 200)
            #expect(answer.headers["content-type"]?.hasPrefix("application/json") == true)
            let body = try JSONDecoder().decode(TranslateResponse.self, from: answer.body)
            #expect(body == TranslateResponse(translations: ["one#0", "#0", "three#0"]))
            // No n-best lists unless asked for.
            #expect((answer.json as? [String: Any])?["n_best"] == nil)
        }
    }

    @Test func translateGivesScoredNBestListsWhenAsked() async throws {
        let server = try TranslationServer(translator: StubTranslator(), settings: settings(), defaultBeam: 5)
        try await withServer(server) { client in
            let answer = try await client.post("/translate", json: #"{"text": ["x", "y"], "beam": 3, "n_best": 2}"#)
            #expect(answer.status == 200)
            let body = try JSONDecoder().decode(TranslateResponse.self, from: answer.body)
            #expect(body.translations == ["x#0", "y#0"])
            #expect(body.nBest == [
                [.init(text: "x#0", score: 0, logProb: -1), .init(text: "x#1", score: -1, logProb: -2)],
                [.init(text: "y#0", score: 0, logProb: -1), .init(text: "y#1", score: -1, logProb: -2)],
            ])
            let first = ((answer.json as? [String: Any])?["n_best"] as? [[[String: Any]]])?.first?.first
            #expect(first.map { Set($0.keys) } == ["text", "score", "log_prob"])
        }
    }

    /// OpenNMT-py's server.py: the outer list has n_best lists; the k-th holds the k-th best
    /// translation of every input in input order; each item has src, tgt, n_best, pred_score.
    @Test func openNMTRouteAnswersInOpenNMTPyFormat() async throws {
        for nBest in [1, 2] {
            let server = try TranslationServer(translator: StubTranslator(), settings: settings(), defaultBeam: 5, defaultNBest: nBest)
            try await withServer(server) { client in
                let answer = try await client.post("/translator/translate",
                                                   json: #"[{"src": "hello world", "id": 100}, {"src": "bye", "id": 100}]"#)
                #expect(answer.status == 200)
                let outer = try #require(answer.json as? [[[String: Any]]])
                #expect(outer.count == nBest)
                for (k, rank) in outer.enumerated() {
                    #expect(rank.count == 2)
                    for item in rank { #expect(Set(item.keys) == ["src", "tgt", "n_best", "pred_score"]) }
                    #expect(rank.map { $0["src"] as? String } == ["hello world", "bye"])
                    #expect(rank.map { $0["tgt"] as? String } == ["hello world#\(k)", "bye#\(k)"])
                    #expect(rank.map { $0["n_best"] as? Int } == [nBest, nBest])
                    #expect(rank.map { $0["pred_score"] as? Double } == [-Double(k), -Double(k)])
                }
            }
        }
    }

    /// The real decoder behind the routes: the server's answers are the Translator's own.
    @Test func routesAnswerWhatTheTranslatorGivesOnATinyModel() async throws {
        let translator = TinyModel.translator
        let lines = Array(TinyModel.sentences.prefix(5)) + [""]
        let expectedDefault = translator.translate(lines)  // beam 5, 1-best: the server's defaults here
        let defaults = translator.searchOptions
        translator.searchOptions.beamSize = 3
        translator.searchOptions.nBest = 2
        let expected = translator.translate(lines)
        translator.searchOptions = defaults
        let server = try TranslationServer(translator: translator, settings: settings(), defaultBeam: 5)
        try await withServer(server) { client in
            let request = TranslateRequest(text: lines, beam: 3, nBest: 2)
            let answer = try await client.send("POST", "/translate", body: try JSONEncoder().encode(request))
            #expect(answer.status == 200, "\(answer.text)")
            let body = try JSONDecoder().decode(TranslateResponse.self, from: answer.body)
            #expect(body.translations == expected.map { $0[0].text })
            #expect(body.nBest?.map { $0.map(\.text) } == expected.map { $0.map(\.text) })
            #expect(body.nBest?.map { $0.map(\.logProb) } == expected.map { $0.map { Optional($0.logProb) } })

            let plain = try await client.send("POST", "/translate", body: try JSONEncoder().encode(TranslateRequest(text: lines)))
            #expect(try JSONDecoder().decode(TranslateResponse.self, from: plain.body).translations == expectedDefault.map { $0[0].text })

            let items = lines.map { OpenNMTRequestItem(src: $0, id: 100) }
            let onmt = try await client.send("POST", "/translator/translate", body: try JSONEncoder().encode(items))
            let ranks = try JSONDecoder().decode([[OpenNMTResponseItem]].self, from: onmt.body)
            #expect(ranks.count == 1)
            #expect(ranks[0].map(\.tgt) == expectedDefault.map { $0[0].text })
            #expect(ranks[0].map(\.predScore) == expectedDefault.map { Optional($0[0].score) })
        }
    }
}
