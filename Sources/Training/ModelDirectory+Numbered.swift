import Foundation
import Model
import ModelFolder

/// `checkpoint-STEP.safetensors`: the weights (no optimizer state) of each of the last K
/// checkpoints (`train --keep-checkpoints K`), which `seq2seq average` averages into one model.
extension ModelDirectory {
    static let numberedPrefix = "checkpoint-", numberedSuffix = ".safetensors"

    /// The path of the numbered weights file of `step`.
    public func numberedCheckpointPath(step: Int) -> String {
        path + "/" + Self.numberedPrefix + String(step) + Self.numberedSuffix
    }

    /// The numbered weights files in the folder, by ascending step (names that are not
    /// `checkpoint-` followed by a decimal step are passed over).
    public func numberedCheckpoints() -> [(step: Int, path: String)] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
        return names.compactMap { name -> (step: Int, path: String)? in
            guard name.hasPrefix(Self.numberedPrefix), name.hasSuffix(Self.numberedSuffix) else { return nil }
            let digits = name.dropFirst(Self.numberedPrefix.count).dropLast(Self.numberedSuffix.count)
            guard !digits.isEmpty, digits.allSatisfy({ $0.isASCII && $0.isNumber }), let step = Int(digits) else { return nil }
            return (step, path + "/" + name)
        }.sorted { $0.step < $1.step }
    }

    /// Writes the current weights as `checkpoint-STEP.safetensors` (atomically), then removes
    /// the numbered files beyond the `keep` of highest step. Throws the write error naming the file.
    public func saveNumberedCheckpoint(model: Seq2SeqModel, step: Int, keep: Int) throws {
        try SafeTensors.write(model.parameters.valueTensors.map { (name: $0.name, shape: $0.shape, values: .buffer($0.values)) },
                              metadata: ["format": CheckpointFile.formatName, "version": CheckpointFile.version, "step": String(step)],
                              to: numberedCheckpointPath(step: step), sync: false)
        for old in numberedCheckpoints().dropLast(keep) {
            try? FileManager.default.removeItem(atPath: old.path)
        }
    }
}
