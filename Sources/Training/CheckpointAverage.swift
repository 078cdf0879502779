import Foundation
import Kernels
import Model
import ModelFolder

/// `seq2seq average`: the element-wise mean of the weights of a model folder's last K numbered
/// checkpoints (`checkpoint-STEP.safetensors`, kept by `train --keep-checkpoints K`), written as a
/// new model folder that `translate` loads.
public enum CheckpointAverage {
    /// What was averaged.
    public struct Result: Sendable {
        /// The steps of the checkpoints averaged, ascending.
        public var steps: [Int]
        /// The new folder.
        public var output: String
    }

    /// Averages the `last` numbered checkpoints of the model folder `model` (ascending step; each
    /// parameter summed in Double in that fixed order, then divided by K and rounded to the
    /// element type once) into a new model folder `output` holding the same `config.json`
    /// settings, both vocabularies and the mean as `best.safetensors` (no `last.safetensors`: the
    /// result is for translation, not for `--resume`). The folder appears whole or not at all
    /// (it is staged beside `output` and renamed).
    ///
    /// Throws ``TrainingError`` naming the folder when `model` is not a model folder, holds fewer
    /// than `last` numbered checkpoints, or `output` exists and is not an empty folder; a
    /// `ModelFolderError` naming the checkpoint whose tensors do not match the folder's config
    /// (names, shapes, a non-finite value, a bad checksum); and write errors naming the file.
    public static func average(model path: String, last count: Int, output: String) throws -> Result {
        guard count >= 1 else { throw TrainingError.invalidOption("--last must be at least 1") }
        switch ModelFolderKind.inspect(output) {
        case .absent: break
        case .other(let reason): throw TrainingError.file(path: output, message: "\(reason); choose another --output")
        case .untrainedModel, .trainedModel:
            throw TrainingError.file(path: output, message: "already holds a model; choose a new --output")
        }
        let source = try ModelDirectory(opening: path)
        let available = source.numberedCheckpoints()
        guard available.count >= count else {
            throw TrainingError.file(path: path, message: "holds \(available.count) numbered checkpoint"
                + "\(available.count == 1 ? "" : "s") (checkpoint-STEP.safetensors), fewer than --last \(count); "
                + "train with --keep-checkpoints \(count) or more")
        }
        let chosen = Array(available.suffix(count))
        let network = Seq2SeqModel(config: source.config.model, seed: 0)
        let parameters = network.parameters
        var sum = [Double](repeating: 0, count: parameters.count)
        for checkpoint in chosen {
            // Checked against the folder's config (every name, shape and value) before it is used.
            try CheckpointFile(path: checkpoint.path, config: source.config.model).load(into: network)
            let values = parameters.values
            for i in 0..<sum.count { sum[i] += Double(values[i]) }
        }
        let k = Double(count)
        for i in 0..<sum.count { parameters.values[i] = Scalar(sum[i] / k) }
        _ = try ModelDirectory.createStaged(at: output, config: source.config, sourceVocabulary: source.sourceVocabulary,
                                            targetVocabulary: source.targetVocabulary, sourceCodes: source.saved.sourceCodes,
                                            targetCodes: source.saved.targetCodes, sourceSentencePiece: source.saved.sourceSentencePiece,
                                            targetSentencePiece: source.saved.targetSentencePiece,
                                            writingInto: { staged in try staged.saveBest(model: network, step: chosen.map(\.step).max() ?? 0) })
        return Result(steps: chosen.map(\.step), output: output)
    }
}
