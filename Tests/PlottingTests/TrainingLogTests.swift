import Foundation
import Testing
@testable import Plotting
import RunLog

/// Lines shaped exactly like `seq2seq train`'s log (keys sorted, `null` for non-finite values).
func trainLine(_ step: Int, _ epoch: Double, _ ppl: String) -> String {
    #"{"clipped_fraction":0.88,"epoch":\#(epoch),"event":"train","grad_norm":11.8,"loss":2.187,"lr":0.002,"ppl":\#(ppl),"step":\#(step),"tokens_per_s":6352.1}"#
}

func validLine(_ step: Int, _ epoch: Int, _ ppl: String) -> String {
    #"{"epoch":\#(epoch),"event":"valid","seconds":71.2,"step":\#(step),"valid_ppl":\#(ppl)}"#
}

@Suite("TrainingLog")
struct TrainingLogTests {
    @Test func readsTrainValidAndSkippedEvents() throws {
        let text = [
            trainLine(100, 0.25, "40.5"),
            #"{"event":"skipped_batch","step":150}"#,
            trainLine(200, 0.5, "20"),
            #"{"event":"something_new","step":250,"detail":[1,{"a":null}]}"#,
            "",
            trainLine(300, 0.75, "12.25"),
            trainLine(400, 1.0, "10"),
            validLine(400, 1, "11.5"),
        ].joined(separator: "\n") + "\n"
        let log = try TrainingLog(parsing: text, file: "log.jsonl")
        #expect(log.training == [
            .init(step: 100, epoch: 0.25, perplexity: 40.5, learningRate: 0.002), .init(step: 200, epoch: 0.5, perplexity: 20, learningRate: 0.002),
            .init(step: 300, epoch: 0.75, perplexity: 12.25, learningRate: 0.002), .init(step: 400, epoch: 1.0, perplexity: 10, learningRate: 0.002),
        ])
        #expect(log.validation == [.init(step: 400, epoch: 1, perplexity: 11.5)])
        #expect(log.skippedBatchSteps == [150])
    }

    @Test func nullPerplexityIsKeptAsNil() throws {
        let log = try TrainingLog(parsing: trainLine(100, 0.5, "null") + "\n" + validLine(200, 1, "null"), file: "log.jsonl")
        #expect(log.training.map(\.perplexity) == [nil])
        #expect(log.validation.map(\.perplexity) == [nil])
    }

    @Test func crlfAndTrailingSpacesAreAccepted() throws {
        let log = try TrainingLog(parsing: trainLine(100, 0.5, "3") + " \r\n  \r\n" + validLine(200, 1, "4") + "\r\n", file: "log.jsonl")
        #expect(log.training.count == 1 && log.validation.count == 1)
    }

    @Test func resumeFromAnEarlierCheckpointDropsTheAbandonedTimeline() throws {
        // First run: steps 100..500 and an end-of-epoch validation at 454; resumed from the
        // checkpoint at step 300, the new run re-logs 400 (different figures) and goes on.
        let text = [
            trainLine(100, 0.22, "50"), trainLine(200, 0.44, "30"), trainLine(300, 0.66, "20"), trainLine(400, 0.88, "15"),
            validLine(454, 1, "14"), trainLine(500, 1.1, "13"),
            trainLine(400, 0.88, "16"), validLine(454, 1, "14.5"), trainLine(500, 1.1, "12"), trainLine(600, 1.32, "11"),
        ].joined(separator: "\n")
        let log = try TrainingLog(parsing: text, file: "log.jsonl")
        #expect(log.training.map(\.step) == [100, 200, 300, 400, 500, 600])
        #expect(log.training.map(\.perplexity) == [50, 30, 20, 16, 12, 11])
        #expect(log.validation.map(\.perplexity) == [14.5])
    }

    @Test func aRepeatedStepOfTheSameEventKeepsTheLaterLine() throws {
        let text = [trainLine(100, 0.5, "9"), validLine(100, 0, "8"), trainLine(100, 0.5, "7")].joined(separator: "\n")
        let log = try TrainingLog(parsing: text, file: "log.jsonl")
        #expect(log.training.map(\.perplexity) == [7])
        #expect(log.validation.map(\.perplexity) == [8])
    }

    @Test func midEpochValidationIsPlacedByItsStep() throws {
        // 200 steps per epoch; validations at steps 150, 300 and 350 log completed epochs 0 and 1.
        let text = [trainLine(100, 0.5, "9"), validLine(150, 0, "8"), trainLine(200, 1.0, "7"), trainLine(300, 1.5, "6"),
                    validLine(300, 1, "5.5"), validLine(350, 1, "5")].joined(separator: "\n")
        let log = try TrainingLog(parsing: text, file: "log.jsonl")
        // 150 is interpolated, 300 lies on a point, 350 is extrapolated past the last one.
        #expect(log.validation.map(\.epoch) == [0.75, 1.5, 1.75])
    }

    @Test func validationWithoutTrainingPointsSitsAtItsEpoch() throws {
        let log = try TrainingLog(parsing: validLine(10, 2, "3"), file: "log.jsonl")
        #expect(log.validation.map(\.epoch) == [2])
    }

    @Test func stringEscapesAndNumberFormsAreDecoded() throws {
        let line = #"{"event":"tr\u0061in","note":"a\"b\\c\n\ud83d\ude00","epoch":5e-1,"ppl":1.5E1,"step":1.0e2}"#
        let log = try TrainingLog(parsing: line, file: "log.jsonl")
        #expect(log.training == [.init(step: 100, epoch: 0.5, perplexity: 15)])
    }

    /// Foundation's JSONDecoder words the reason; the line names the file and line either way.
    @Test(arguments: [
        (#"{"event":"train","step":1"#, ""),
        ("not json", ""),
        (#"{"event":"train"} x"#, ""),
        (#"{"event":"train","step":01}"#, ""),
        (#"{"event":"train","step":-}"#, ""),
        (#"{"event":"train","step":nul}"#, ""),
        (#"{"event":"tra"#, ""),
        (#"{"event" "train"}"#, ""),
        (#"[1, 2]"#, ""),
        (#"{"event":"train","step":1,"ppl":"high","epoch":1}"#, "'ppl'"),
        (#"{"step":3}"#, "'event': no string 'event' field"),
    ])
    func malformedLineNamesFileAndLine(line: String, reason: String) {
        let text = trainLine(100, 0.5, "3") + "\n\n" + line + "\n" + trainLine(200, 1, "2")
        do {
            _ = try TrainingLog(parsing: text, file: "models/m/log.jsonl")
            Issue.record("no error for \(line)")
        } catch let error as TrainingLogError {
            guard case let .malformedLine(file, lineNumber, message) = error else {
                Issue.record("unexpected \(error)")
                return
            }
            #expect(file == "models/m/log.jsonl" && lineNumber == 3)
            #expect(message.hasPrefix(reason), "\(message)")
            #expect(error.description.hasPrefix("models/m/log.jsonl:3: malformed log line: "))
            #expect(!error.description.contains("\n"), "\(error)")
        } catch {
            Issue.record("unexpected \(error)")
        }
    }

    @Test func missingFieldsAreNamed() {
        #expect(throws: TrainingLogError.missingField(file: "f", line: 1, event: "train", field: "step")) {
            try TrainingLog(parsing: #"{"epoch":1,"event":"train","ppl":3}"#, file: "f")
        }
        #expect(throws: TrainingLogError.missingField(file: "f", line: 2, event: "valid", field: "valid_ppl")) {
            try TrainingLog(parsing: trainLine(1, 0.1, "2") + "\n" + #"{"epoch":1,"event":"valid","step":4}"#, file: "f")
        }
        #expect(throws: TrainingLogError.missingField(file: "f", line: 1, event: "train", field: "step")) {
            try TrainingLog(parsing: #"{"epoch":1,"event":"train","ppl":3,"step":1.5}"#, file: "f")
        }
        let message = TrainingLogError.missingField(file: "f", line: 2, event: "valid", field: "epoch").description
        #expect(message == "f:2: 'valid' event without a numeric 'epoch' field")
    }

    @Test func anUnfinishedLastLineIsSkippedButAFinishedBadOneIsNot() throws {
        let complete = trainLine(100, 0.5, "3") + "\n"
        let partial = String(trainLine(200, 1, "2").prefix(40))
        let log = try TrainingLog(parsing: complete + partial, file: "f")
        #expect(log.training.map(\.step) == [100])
        #expect(throws: TrainingLogError.self) { try TrainingLog(parsing: complete + partial + "\n", file: "f") }
    }

    @Test func emptyLogHasNoPoints() throws {
        let log = try TrainingLog(parsing: "\n\n", file: "log.jsonl")
        #expect(log.training.isEmpty && log.validation.isEmpty && log.skippedBatchSteps.isEmpty)
    }
}

/// Lines exactly as the trainer wrote them before the log had a `Codable` record (hand-built JSON,
/// keys sorted, `null` for non-finite numbers), and as it writes them now.
@Suite("log.jsonl compatibility")
struct LogCompatibilityTests {
    static let writtenByTheOldTrainer = """
        {"clipped_fraction":0,"epoch":0.3125,"event":"train","grad_norm":4.132,"loss":2.0794415416798357,"lr":0.001,"ppl":8.000000000000002,"step":10,"tokens_per_s":5133.7}
        {"event":"skipped_batch","step":11}
        {"clipped_fraction":0.1,"epoch":0.625,"event":"train","grad_norm":null,"loss":null,"lr":0.001,"ppl":null,"step":20,"tokens_per_s":4890.25}
        {"epoch":1,"event":"valid","seconds":3.5123,"step":32,"valid_ppl":6.25}

        """

    @Test func linesWrittenBeforeTheCodableRecordStillRead() throws {
        let log = try TrainingLog(parsing: Self.writtenByTheOldTrainer, file: "log.jsonl")
        #expect(log.training == [.init(step: 10, epoch: 0.3125, perplexity: 8.000000000000002, learningRate: 0.001),
                                 .init(step: 20, epoch: 0.625, perplexity: nil, learningRate: 0.001)])
        #expect(log.validation.map(\.step) == [32] && log.validation.map(\.perplexity) == [6.25])
        #expect(log.skippedBatchSteps == [11])
        let first = try JSONDecoder().decode(LogLine.self, from: Data(Self.writtenByTheOldTrainer.split(separator: "\n")[0].utf8))
        #expect(first == LogLine(event: "train", step: 10, epoch: 0.3125, loss: 2.0794415416798357, perplexity: 8.000000000000002,
                                 tokensPerSecond: 5133.7, gradientNorm: 4.132, learningRate: 0.001, clippedFraction: 0))
    }

    @Test func theRecordWritesSortedKeysAndNullForNonFiniteNumbers() throws {
        let line = LogLine(event: "train", step: 20, epoch: 0.625, loss: .infinity, perplexity: .nan, learningRate: 0.001)
        let text = String(decoding: line.jsonLine(), as: UTF8.self)
        #expect(text == #"{"epoch":0.625,"event":"train","loss":null,"lr":0.001,"ppl":null,"step":20}"# + "\n")
        let back = try JSONDecoder().decode(LogLine.self, from: line.jsonLine())
        #expect(back.step == 20 && back.perplexity!.isNaN && back.loss!.isNaN && back.gradientNorm == nil)
    }

    @Test func mpiTrainLinesCarryTheExchangeTimeAndStillPlot() throws {
        let line = LogLine(event: "train", step: 40, epoch: 0.5, perplexity: 9, tokensPerSecond: 1400, exchangeMilliseconds: 31.5)
        let text = String(decoding: line.jsonLine(), as: UTF8.self)
        #expect(text == #"{"allreduce_ms":31.5,"epoch":0.5,"event":"train","ppl":9,"step":40,"tokens_per_s":1400}"# + "\n")
        #expect(try JSONDecoder().decode(LogLine.self, from: line.jsonLine()) == line)
        let log = try TrainingLog(parsing: text, file: "log.jsonl")
        #expect(log.training == [.init(step: 40, epoch: 0.5, perplexity: 9)])
    }

    @Test func checkpointLinesCarryTheTimeAndThePlotIgnoresThem() throws {
        let text = String(decoding: LogLine(event: "checkpoint", step: 32, seconds: 3.5).jsonLine(), as: UTF8.self)
        #expect(text == #"{"event":"checkpoint","seconds":3.5,"step":32}"# + "\n")
        let log = try TrainingLog(parsing: Self.writtenByTheOldTrainer + text, file: "log.jsonl")
        #expect(log.training.count == 2 && log.validation.count == 1)
    }
}
