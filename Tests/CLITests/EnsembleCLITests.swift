import Foundation
import Testing
import TestSupport

/// `--model A --model B` (an ensemble) and `--weights` through the built binary, on the pipeline
/// fixture's digit model.
@Suite("ensembles through the binary")
struct EnsembleCLITests {
    static let input = "one two three\n\nfour five\nsix seven eight nine\nzero one\n"

    /// The same model twice translates as the model alone (n-best lines, scores to 4 decimals,
    /// included), with a shortlist in both members too; `evaluate` takes the same options.
    @Test func theSameModelTwiceTranslatesAsTheModelAlone() throws {
        let p = try pipeline()
        let (dir, model) = try p.copyOfModel()
        defer { try? FileManager.default.removeItem(at: dir) }
        for extra in [[], ["--beam", "4", "--n-best", "3"]] {
            let alone = try runSeq2seq(["translate", "--model", p.model] + extra, stdin: Data(Self.input.utf8))
            let pair = try runSeq2seq(["translate", "--model", p.model, "--model", model, "--weights", "3,1"] + extra,
                                      stdin: Data(Self.input.utf8))
            #expect(alone.status == 0 && pair.status == 0, "\(alone.stderrText) \(pair.stderrText)")
            #expect(pair.stdoutText == alone.stdoutText)
        }
        let build = try runSeq2seq(["shortlist", "--model", model, "--shards", p.shards, "--top-k", "2", "--frequent", "3"])
        #expect(build.status == 0, "\(build.stderrText)")
        let listed = try runSeq2seq(["translate", "--model", model], stdin: Data(Self.input.utf8))
        let listedPair = try runSeq2seq(["translate", "--model", model, "--model", model], stdin: Data(Self.input.utf8))
        #expect(listedPair.status == 0 && listedPair.stdoutText == listed.stdoutText)
        let single = try runSeq2seq(["evaluate", "--model", p.model, "--source", p.testSource, "--reference", p.testReference])
        let evaluate = try runSeq2seq(["evaluate", "--model", p.model, "--model", p.model, "--source", p.testSource,
                                       "--reference", p.testReference])
        #expect(evaluate.status == 0, "\(evaluate.stderrText)")
        #expect(evaluate.stdoutText.split(separator: "\n").prefix(2) == single.stdoutText.split(separator: "\n").prefix(2))
    }

    /// `--rescore-with` a model (here the same one) writes `F0= … F1= …` n-best lines whose F1 is the
    /// forced log-probability, equal to F0 for the model itself; a λ outside [0, 1] is one error line.
    @Test func rescoringWritesBothLogProbabilitiesAndRefusesABadWeight() throws {
        let p = try pipeline()
        let result = try runSeq2seq(["translate", "--model", p.model, "--rescore-with", p.model, "--rescore-weight", "0.5",
                                     "--beam", "3", "--n-best", "2"], stdin: Data("one two\nthree\n".utf8))
        #expect(result.status == 0, "\(result.stderrText)")
        let lines = result.stdoutText.split(separator: "\n")
        #expect(lines.count == 4, "\(result.stdoutText)")
        for line in lines {
            let fields = line.components(separatedBy: " ||| ")
            let scores = fields[2].split(separator: " ")
            #expect(scores.count == 4 && scores[0] == "F0=" && scores[2] == "F1=", "\(line)")
            if scores.count == 4, let f0 = Double(scores[1]), let f1 = Double(scores[3]) { #expect(abs(f0 - f1) < 2e-3, "\(line)") }
        }
        expectOneLineError(try runSeq2seq(["translate", "--model", p.model, "--rescore-with", p.model, "--rescore-weight", "1.5"],
                                          stdin: Data("one\n".utf8)), mentions: ["--rescore-weight"])
    }

    @Test func weightsThatDoNotFitAreOneErrorLine() throws {
        let p = try pipeline()
        for (weights, mentions) in [("1", ["--weights", "1 values for 2"]), ("1,-2", ["--weights"]), ("1,nan", ["--weights"]),
                                    ("1,", ["--weights"]),
                                    ("1e-30,1e30", ["too far apart"])] {
            let result = try runSeq2seq(["translate", "--model", p.model, "--model", p.model, "--weights", weights],
                                        stdin: Data("one\n".utf8))
            expectOneLineError(result, mentions: mentions)
        }
        expectOneLineError(try runSeq2seq(["translate"], stdin: Data("one\n".utf8)), mentions: ["--model"])
        // Weights at Float's limits are normalised in Double: no overflow to infinity, no trap.
        let huge = try runSeq2seq(["translate", "--model", p.model, "--model", p.model, "--weights", "3e38,3e38"],
                                  stdin: Data("one\n".utf8))
        #expect(huge.status == 0, "\(huge.stderrText)")
        expectOneLineError(try runSeq2seq(["translate", "--model", p.model, "--model", "/nonexistent/m"], stdin: Data("one\n".utf8)),
                           mentions: ["/nonexistent/m"])
    }
}

/// `bench library` runs the library's latency and throughput measurements on a model folder.
@Suite("bench library through the binary")
struct BenchLibraryCLITests {
    @Test func itReportsLatencyInBothPrecisionsAndThroughput() throws {
        let p = try pipeline()
        let result = try runSeq2seq(["bench", "library", "--model", p.model, "--input", p.testSource, "--repeats", "2", "--callers", "3"])
        #expect(result.status == 0, "\(result.stderrText)")
        #expect(result.stdoutText.contains("latency float32") && result.stdoutText.contains("latency int8"))
        #expect(result.stdoutText.contains("3 callers"), "\(result.stdoutText)")
        expectOneLineError(try runSeq2seq(["bench", "library", "--model", p.model, "--input", "/nonexistent/in"]), mentions: ["/nonexistent/in"])
    }
}

/// `bench translate --count-allocations` runs itself again with the counter preloaded and reports
/// the allocations per output token, in all and in the steady state. (The figure that matters,
/// 0 per extra token at one thread, is the release build's: the debug build's arrays are not
/// optimized; see docs/results/speed.md.)
@Suite("allocation count through the binary")
struct AllocationCountCLITests {
    @Test func countAllocationsReportsAllocationsPerToken() throws {
        let result = try runSeq2seq(["bench", "translate", "--preset", "small", "--source-vocab", "64", "--target-vocab", "64",
                                     "--embedding", "8", "--hidden", "8", "--source-length", "4", "--kinds", "beam",
                                     "--batches", "1", "--sentences", "2", "--count-allocations", "--threads", "1"])
        #expect(result.status == 0, "\(result.stderrText)")
        let lines = result.stdoutText.split(separator: "\n").filter { $0.contains("allocations:") && $0.contains("per extra token in the steady state") }
        #expect(lines.count == 1, "\(result.stdoutText)")
    }
}
