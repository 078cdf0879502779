import Foundation

/// What `train` finds at its `--output` path, and so what it may do there.
public enum ModelFolderKind: Equatable, Sendable {
    /// Nothing there, or an empty folder: a new model folder is made (see
    /// ``ModelDirectory/createStaged(at:config:sourceVocabulary:targetVocabulary:)``).
    case absent
    /// A model folder without any weights (no `last.safetensors`, no `best.safetensors`): nothing
    /// was trained into it (a failed or killed start), so a plain retry may replace it.
    case untrainedModel
    /// A model folder with a checkpoint: continued with `--resume`, replaced only with `--overwrite`.
    case trainedModel
    /// A file, or a folder that holds other things than a seq2seq model: never written into.
    case other(reason: String)

    /// Looks at `path` without changing anything. A folder counts as a model folder when its
    /// `config.json` says `"format": "seq2seq-model"` (any version).
    public static func inspect(_ path: String) -> ModelFolderKind {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { return .absent }
        guard isDirectory.boolValue else { return .other(reason: "exists and is not a folder") }
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: path) else {
            return .other(reason: "cannot be listed")
        }
        if names.isEmpty { return .absent }
        struct Header: Decodable { var format: String? }
        guard let data = FileManager.default.contents(atPath: path + "/config.json"),
              (try? JSONDecoder().decode(Header.self, from: data))?.format == ModelFolderConfig.formatName else {
            return .other(reason: "exists and is not a seq2seq model folder")
        }
        // A shipped model may hold only best.safetensors: it is trained, never silently replaced.
        return names.contains("last.safetensors") || names.contains("best.safetensors") ? .trainedModel : .untrainedModel
    }
}
