import Foundation
import Testing
import TestSupport

/// `train`'s schedule options (label smoothing, plateau, early stopping, validation BLEU, kept
/// checkpoints) and `average`, through the built binary on the pipeline fixture's corpus.
@Suite("schedule options through the binary")
struct ScheduleCLITests {
    static let scheduleOptions = ["--label-smoothing", "0.1", "--lr-schedule", "plateau", "--plateau-patience", "0",
                                  "--lr-decay-factor", "0.5", "--early-stopping", "3", "--valid-bleu", "--select-by", "bleu",
                                  "--valid-every", "5", "--keep-checkpoints", "2", "--save-every", "5"]

    /// A run with every option trains, logs validation BLEU and the learning rate, keeps two
    /// numbered checkpoints, and `average` turns them into a folder `translate` reads.
    @Test func scheduledTrainingAndAverageMakeATranslatableModel() throws {
        let p = try pipeline()
        let dir = makeTemporaryDirectory("schedule-cli")
        defer { try? FileManager.default.removeItem(at: dir) }
        let model = dir.appendingPathComponent("m").path
        let train = try runSeq2seq(p.trainArguments(output: model, maxSteps: 30) + Self.scheduleOptions)
        #expect(train.status == 0, "\(train.stderrText)")
        #expect(train.stderrText.contains("BLEU"), "\(train.stderrText)")
        let log = try String(contentsOfFile: model + "/log.jsonl", encoding: .utf8).split(separator: "\n").map {
            try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
        }
        let valid = log.filter { $0["event"] as? String == "valid" }
        #expect(!valid.isEmpty && valid.allSatisfy { $0["valid_bleu"] is Double && $0["lr"] is Double })
        #expect(log.filter { $0["event"] as? String == "train" }.allSatisfy { $0["smoothed_loss"] is Double })
        let numbered = try FileManager.default.contentsOfDirectory(atPath: model).filter { $0.hasPrefix("checkpoint-") }
        #expect(numbered.count == 2, "\(numbered)")

        // plot stacks validation BLEU and the learning rate under the perplexity chart.
        let plot = try runSeq2seq(["plot", "--model", model])
        #expect(plot.status == 0, "\(plot.stderrText)")
        // One point per validated step (an epoch's end that is also a --valid-every step logs twice).
        let validatedSteps = Set(valid.compactMap { $0["step"] as? Int }).count
        #expect(plot.stdoutText.contains("\(validatedSteps) validation BLEU points"), "\(plot.stdoutText)")
        let svg = try String(contentsOfFile: model + "/perplexity.svg", encoding: .utf8)
        #expect(svg.contains(": validation BLEU (greedy)</text>") && svg.contains(": learning rate</text>"))

        let averaged = dir.appendingPathComponent("avg").path
        let average = try runSeq2seq(["average", "--model", model, "--last", "2", "--output", averaged])
        #expect(average.status == 0, "\(average.stderrText)")
        #expect(average.stdoutText.hasPrefix("wrote \(averaged): the mean of 2 checkpoints"), "\(average.stdoutText)")
        let translate = try runSeq2seq(["translate", "--model", averaged, "--beam", "1"], stdin: Data("one two\nthree\n".utf8))
        #expect(translate.status == 0, "\(translate.stderrText)")
        #expect(translate.stdoutText.split(separator: "\n", omittingEmptySubsequences: false).count == 3)

        // Resuming with another value of a schedule option is refused, naming it.
        let resume = try runSeq2seq(["train", "--shards", p.shards, "--output", model, "--resume", "--label-smoothing", "0.2"])
        expectOneLineError(resume, mentions: ["--label-smoothing 0.2"])
        let tooMany = try runSeq2seq(["average", "--model", model, "--last", "3", "--output", dir.appendingPathComponent("x").path])
        expectOneLineError(tooMany, mentions: [model, "fewer than --last 3"])
    }

    /// Options that cannot act are one-line errors before anything is written.
    @Test(arguments: [
        (["--lr-decay-factor", "0.5"], "--lr-schedule plateau"),
        (["--lr-schedule", "plateau", "--lr-decay", "0.5"], "--lr-decay"),
        (["--select-by", "bleu"], "--valid-bleu"),
        (["--valid-bleu-lowercase"], "--valid-bleu"),
        (["--label-smoothing", "1"], "--label-smoothing"),
        (["--lr-schedule", "plateau", "--lr-decay-factor", "1.5"], "--lr-decay-factor"),
        (["--early-stopping", "0"], "--early-stopping"),
    ])
    func unusableScheduleOptionsAreRefused(options: [String], mention: String) throws {
        let p = try pipeline()
        let dir = makeTemporaryDirectory("schedule-cli-refuse")
        defer { try? FileManager.default.removeItem(at: dir) }
        let model = dir.appendingPathComponent("m").path
        let run = try runSeq2seq(p.trainArguments(output: model, maxSteps: 2) + options)
        expectOneLineError(run, mentions: [mention])
        #expect(!FileManager.default.fileExists(atPath: model))
    }

    @Test func scheduleOptionsWithoutAValidationSetAreRefused() throws {
        let p = try pipeline()
        let dir = makeTemporaryDirectory("schedule-cli-novalid")
        defer { try? FileManager.default.removeItem(at: dir) }
        for option in [["--early-stopping", "2"], ["--valid-bleu"], ["--lr-schedule", "plateau"]] {
            let run = try runSeq2seq(["train", "--shards", p.shards, "--source-vocab", p.sourceVocab, "--target-vocab", p.targetVocab,
                                      "--output", dir.appendingPathComponent("m").path, "--max-steps", "2"] + option)
            expectOneLineError(run, mentions: [option[0], "--valid-source"])
        }
    }
}
