import Corpus
import Foundation
import Glibc
import Text

extension ModelDirectory {
    /// Makes a new model folder at `path` (absent or an empty folder) so that a failed start
    /// leaves nothing: `config.json` and the vocabularies are written into a hidden sibling
    /// folder (`.NAME.partial-PID`), which is renamed to `path` once all three are written.
    /// On any error the sibling, and any parent folders made for it, are removed again.
    /// Throws ``TrainingError/file(path:message:)`` naming `path` or the file that failed.
    public static func createStaged(at path: String, config: ModelFolderConfig, sourceVocabulary: Vocabulary,
                                    targetVocabulary: Vocabulary, sourceCodes: BPECodes? = nil,
                                    targetCodes: BPECodes? = nil, sourceSentencePiece: SentencePieceModel? = nil,
                                    targetSentencePiece: SentencePieceModel? = nil) throws -> ModelDirectory {
        try createStaged(at: path, config: config, sourceVocabulary: sourceVocabulary,
                         targetVocabulary: targetVocabulary, sourceCodes: sourceCodes, targetCodes: targetCodes,
                         sourceSentencePiece: sourceSentencePiece, targetSentencePiece: targetSentencePiece,
                         beforeRename: {})
    }

    /// `beforeRename` runs once the staged files are written; tests throw from it to stand in
    /// for a failed write.
    static func createStaged(at path: String, config: ModelFolderConfig, sourceVocabulary: Vocabulary,
                             targetVocabulary: Vocabulary, sourceCodes: BPECodes? = nil, targetCodes: BPECodes? = nil,
                             sourceSentencePiece: SentencePieceModel? = nil, targetSentencePiece: SentencePieceModel? = nil,
                             beforeRename: () throws -> Void) throws -> ModelDirectory {
        try createStaged(at: path, config: config, sourceVocabulary: sourceVocabulary, targetVocabulary: targetVocabulary,
                         sourceCodes: sourceCodes, targetCodes: targetCodes, sourceSentencePiece: sourceSentencePiece,
                         targetSentencePiece: targetSentencePiece, writingInto: { _ in try beforeRename() })
    }

    /// As above; `writingInto` runs on the staged folder once its config, vocabularies and subword
    /// models are written, before the rename, so that files it writes there (`seq2seq average`'s
    /// weights) appear together with the folder or not at all.
    static func createStaged(at path: String, config: ModelFolderConfig, sourceVocabulary: Vocabulary,
                             targetVocabulary: Vocabulary, sourceCodes: BPECodes? = nil, targetCodes: BPECodes? = nil,
                             sourceSentencePiece: SentencePieceModel? = nil, targetSentencePiece: SentencePieceModel? = nil,
                             writingInto: (ModelDirectory) throws -> Void) throws -> ModelDirectory {
        let target = URL(fileURLWithPath: path).standardizedFileURL
        let parent = target.deletingLastPathComponent().path
        let staging = parent + "/." + target.lastPathComponent + ".partial-\(getpid())"
        var createdParents: [String] = []
        AbandonedStaging.remove(parent: parent, name: target.lastPathComponent)
        do {
            var missing: [String] = []
            var url = URL(fileURLWithPath: parent)
            while !FileManager.default.fileExists(atPath: url.path) && url.path != "/" {
                missing.insert(url.path, at: 0)
                url = url.deletingLastPathComponent()
            }
            for folder in missing {
                do {
                    try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: false)
                } catch {
                    throw TrainingError.file(path: path, message: "cannot create the model folder (\(error.localizedDescription))")
                }
                createdParents.append(folder)
            }
            try? FileManager.default.removeItem(atPath: staging)  // left by a killed run of this pid
            let staged = try ModelDirectory(creating: staging, config: config, sourceVocabulary: sourceVocabulary,
                                            targetVocabulary: targetVocabulary, sourceCodes: sourceCodes, targetCodes: targetCodes,
                                            sourceSentencePiece: sourceSentencePiece, targetSentencePiece: targetSentencePiece)
            try writingInto(staged)
            // rename(2) also replaces an empty folder, and fails if `path` filled up meanwhile.
            if rename(staging, path) != 0 {
                throw TrainingError.file(path: path, message: "cannot move the new model folder into place (\(String(cString: strerror(errno))))")
            }
        } catch {
            try? FileManager.default.removeItem(atPath: staging)
            for folder in createdParents.reversed() { rmdir(folder) }
            let text = "\(error)"
            // Name the folder the user asked for, not the hidden staging folder.
            if text.contains(staging) {
                throw TrainingError.file(path: path, message: "cannot write the new model folder ("
                    + text.replacingOccurrences(of: staging, with: path) + ")")
            }
            throw error
        }
        return try ModelDirectory(opening: path)
    }
}
