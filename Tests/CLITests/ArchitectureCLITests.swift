import Foundation
import Testing
import TestSupport

/// Every architecture through the built binary: `train --cell/--bidirectional/--residual/--attention` records
/// the choice in the model folder, trains, resumes exactly, and translates with greedy and beam
/// search; bad combinations are one-line errors that write nothing.
@Suite struct ArchitectureCLITests {
    static let architectures: [[String]] = [
        ["--cell", "gru"], ["--cell", "rnn-tanh"], ["--cell", "irnn"], ["--cell", "lstm", "--bidirectional"],
        ["--cell", "gru", "--bidirectional", "--residual", "--layers", "2"], ["--residual", "--layers", "3"],
        ["--attention", "general"], ["--attention", "mlp", "--cell", "gru", "--bidirectional"],
        ["--attention", "dot", "--no-input-feed", "--dropout", "0.2"],
    ]

    /// The fixture's arguments with `extra` appended (later options win in ArgumentParser).
    func arguments(_ p: PipelineFixture, output: String, maxSteps: Int, _ extra: [String]) -> [String] {
        p.trainArguments(output: output, maxSteps: maxSteps) + extra
    }

    @Test(arguments: architectures)
    func trainsResumesExactlyAndTranslates(_ extra: [String]) throws {
        let p = try pipeline()
        let dir = makeTemporaryDirectory("architecture-cli")
        defer { try? FileManager.default.removeItem(at: dir) }
        let straight = dir.appendingPathComponent("straight").path, resumed = dir.appendingPathComponent("resumed").path
        let a = try runSeq2seq(arguments(p, output: straight, maxSteps: 30, extra))
        #expect(a.status == 0, "\(a.stderrText)")
        let b = try runSeq2seq(arguments(p, output: resumed, maxSteps: 20, extra))
        #expect(b.status == 0, "\(b.stderrText)")
        let c = try runSeq2seq(["train", "--shards", p.shards, "--output", resumed, "--resume", "--max-steps", "30",
                                "--valid-source", p.validSource, "--valid-target", p.validTarget, "--threads", "1"])
        #expect(c.status == 0, "\(c.stderrText)")
        #expect(try safetensorsContent(straight + "/last.safetensors").data
                == safetensorsContent(resumed + "/last.safetensors").data, "resumed run differs")

        // The choice is recorded in the model folder.
        let config = try #require(try JSONSerialization.jsonObject(
            with: Data(contentsOf: URL(fileURLWithPath: straight + "/config.json"))) as? [String: Any])
        let model = try #require(config["model"] as? [String: Any])
        let cellIndex = extra.firstIndex(of: "--cell")
        let encoder = try #require(model["encoder"] as? [String: Any]), decoder = try #require(model["decoder"] as? [String: Any])
        #expect((model["cell"] as? [String: Any])?["type"] as? String == cellIndex.map { extra[$0 + 1] } ?? "lstm", "\(model)")
        #expect(encoder["bidirectional"] as? Bool == extra.contains("--bidirectional"))
        // The architecture is recorded once, in the model section, not again among the training options.
        let training = try #require(config["training"] as? [String: Any])
        for key in ["embedding", "hidden", "layers", "dropout", "reverseSource", "cell", "bidirectional", "residual"] {
            #expect(training[key] == nil, "training.\(key) duplicates the model section")
        }
        #expect(encoder["residual"] as? Bool == extra.contains("--residual") && decoder["residual"] as? Bool == extra.contains("--residual"))

        let input = try Data(contentsOf: URL(fileURLWithPath: p.testSource))
        let lines = String(decoding: input, as: UTF8.self).split(separator: "\n").count
        for beam in ["1", "3"] {
            let t = try runSeq2seq(["translate", "--model", straight, "--beam", beam], stdin: input)
            #expect(t.status == 0, "\(t.stderrText)")
            #expect(t.stdoutText.split(separator: "\n", omittingEmptySubsequences: false).count == lines + 1,
                    "beam \(beam): \(t.stdoutText)")
        }
    }

    /// --resume continues the recorded architecture: a different one is refused (nothing changes),
    /// the same flags repeated are accepted; --bidirectional alone records a natural-order source.
    @Test func resumeRefusesAnotherArchitectureAndBidirectionalReadsInOrder() throws {
        let p = try pipeline()
        let dir = makeTemporaryDirectory("architecture-cli-resume")
        defer { try? FileManager.default.removeItem(at: dir) }
        let output = dir.appendingPathComponent("model").path
        let first = try runSeq2seq(arguments(p, output: output, maxSteps: 10, ["--cell", "gru", "--bidirectional"]))
        #expect(first.status == 0, "\(first.stderrText)")
        let config = try #require(try JSONSerialization.jsonObject(
            with: Data(contentsOf: URL(fileURLWithPath: output + "/config.json"))) as? [String: Any])
        let encoder = try #require((config["model"] as? [String: Any])?["encoder"] as? [String: Any])
        #expect(encoder["reverseSource"] as? Bool == false)
        let before = try snapshot(output)
        for other in [["--cell", "lstm"], ["--residual", "--layers", "2"], ["--hidden", "32"], ["--save-every", "3"],
                      ["--max-length", "7"], ["--source-vocab", p.targetVocab]] {
            let refused = try runSeq2seq(arguments(p, output: output, maxSteps: 20, ["--cell", "gru", "--bidirectional"] + other + ["--resume"]))
            expectOneLineError(refused, mentions: [output, other[0]])
            #expect(try snapshot(output) == before)
        }
        let both = try runSeq2seq(arguments(p, output: output, maxSteps: 20, ["--cell", "gru", "--bidirectional", "--resume", "--overwrite"]))
        expectOneLineError(both, mentions: ["--resume", "--overwrite"])
        #expect(try snapshot(output) == before)
        let same = try runSeq2seq(arguments(p, output: output, maxSteps: 20, ["--cell", "gru", "--bidirectional", "--resume"]))
        #expect(same.status == 0, "\(same.stderrText)")
        let reversal = try runSeq2seq(arguments(p, output: dir.appendingPathComponent("x").path, maxSteps: 5,
                                                ["--reverse-source", "--no-reverse-source"]))
        expectOneLineError(reversal, mentions: ["--reverse-source", "--no-reverse-source"])
    }

    @Test(arguments: [
        (["--bidirectional", "--hidden", "15"], "even hidden size"),
        (["--residual", "--layers", "1"], "at least 2 layers"),
        (["--cell", "lstmx"], "--cell"),
        (["--attention", "bahdanau"], "--attention"),
        (["--no-input-feed"], "--no-input-feed"),
    ])
    func badConfigurationIsOneLineAndWritesNothing(_ extra: [String], _ mention: String) throws {
        let p = try pipeline()
        let dir = makeTemporaryDirectory("architecture-cli-bad")
        defer { try? FileManager.default.removeItem(at: dir) }
        let output = dir.appendingPathComponent("model").path
        let result = try runSeq2seq(arguments(p, output: output, maxSteps: 5, extra))
        expectOneLineError(result, mentions: [mention])
        #expect(!FileManager.default.fileExists(atPath: output), "a folder was left behind")
    }
}
