import ArgumentParser
import Foundation
import Training

/// `seq2seq average --model DIR --last K --output DIR2`: the element-wise mean of the last K
/// numbered checkpoints of a model folder, as a new model folder (Training's `CheckpointAverage`).
struct Average: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "average",
        abstract: "Average the weights of a model's last K checkpoints into a new model folder.",
        discussion: """
            Reads DIR/checkpoint-STEP.safetensors (kept by `train --keep-checkpoints K`), takes the K of \
            highest step, and writes DIR2 with DIR's config.json and vocabularies and their element-wise \
            mean as best.safetensors, which `translate --model DIR2` and `evaluate` load. DIR2 must not \
            exist or be an empty folder; it appears whole or not at all. Every checkpoint is checked \
            against DIR's config.json first (an error names the file).
            """)

    @Option(help: ArgumentHelp("Model folder trained with --keep-checkpoints.", valueName: "dir"))
    var model: String

    @Option(help: ArgumentHelp("How many of the latest numbered checkpoints to average.", valueName: "k"))
    var last: Int

    @Option(help: ArgumentHelp("New model folder to write.", valueName: "dir"))
    var output: String

    func validate() throws {
        if last < 1 { throw ValidationError("--last must be at least 1") }
    }

    func run() throws {
        try StandardOutput.shared.requireOpen()  // the report of what was written goes there
        let result = try CheckpointAverage.average(model: model, last: last, output: output)
        try StandardOutput.shared.writeLine("wrote \(result.output): the mean of \(result.steps.count) checkpoints "
            + "(steps \(result.steps.map(String.init).joined(separator: ", ")))")
    }
}
