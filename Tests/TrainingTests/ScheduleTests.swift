import Foundation
import Model
import ModelFolder
import RunLog
import Testing
import Training

/// Reads a model folder's log.jsonl.
func logLines(_ path: String) throws -> [LogLine] {
    try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n")
        .map { try JSONDecoder().decode(LogLine.self, from: Data($0.utf8)) }
}

/// Label smoothing, the plateau schedule, early stopping and validation BLEU in the training loop.
@Suite(.serialized) struct ScheduleTests {
    /// With ε > 0 the model trains on the smoothed loss (other weights than ε = 0) and the log
    /// holds it beside the plain NLL, whose perplexity is what `ppl` reports.
    @Test func labelSmoothingIsTrainedOnAndLoggedBesideThePlainLoss() throws {
        let fixture = try TrainingFixture()
        defer { fixture.cleanUp() }
        var weights: [[Float]] = []
        for (name, epsilon) in [("plain", Float?.none), ("smoothed", 0.1)] {
            var options = fixture.options(maxSteps: 6)
            options.logEvery = 3
            options.labelSmoothing = epsilon
            let trainer = try Trainer(directory: fixture.makeDirectory(name, options), shards: fixture.shards,
                                      validation: nil, resume: false, progress: quiet)
            _ = try trainer.run()
            weights.append(Array(trainer.model.parameters.values))
            let train = try logLines(fixture.path(name + "/log.jsonl")).filter { $0.event == "train" }
            #expect(train.count == 2)
            for line in train {
                let loss = try #require(line.loss), ppl = try #require(line.perplexity)
                #expect(abs(ppl - exp(loss)) < 1e-9 * ppl)
                if epsilon == nil {
                    #expect(line.smoothedLoss == nil)
                } else {
                    // The uniform part (mean −log p over V classes) is far above the NLL here.
                    let smoothed = try #require(line.smoothedLoss)
                    #expect(smoothed > loss)
                }
            }
        }
        #expect(weights[0] != weights[1])
    }
}
