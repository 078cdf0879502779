import Foundation
import Model
@testable import ModelFolder
import TestSupport
import Text

/// The files of a tiny model folder (vocabulary 8, E 4, H 4, one layer) as bytes, exactly as
/// `seq2seq train` writes them; `write(to:)` puts them on disk.
struct FolderFiles {
    /// `config.json` as the trainer writes it today (and did before ModelConfig decoded through
    /// its own `init(from:)`): pretty-printed, keys sorted, with the training section.
    static let configText = """
        {
          "format" : "seq2seq-model",
          "formatVersion" : 1,
          "model" : {
            "dropout" : 0,
            "embedding" : 4,
            "hidden" : 4,
            "layers" : 1,
            "reverseSource" : true,
            "sourceVocabularySize" : 8,
            "targetVocabularySize" : 8
          },
          "sourceTokenizer" : {
            "joiners" : true,
            "language" : "en",
            "lowercase" : false,
            "normalization" : "nfc",
            "pretokenized" : false,
            "splitNumbers" : false
          },
          "targetTokenizer" : {
            "joiners" : true,
            "language" : "en",
            "lowercase" : false,
            "normalization" : "nfc",
            "pretokenized" : false,
            "splitNumbers" : false
          },
          "toolVersion" : "test",
          "training" : {
            "batchSize" : 8,
            "clipNorm" : 5,
            "dropout" : 0,
            "embedding" : 4,
            "epochs" : 3,
            "hidden" : 4,
            "layers" : 1,
            "learningRate" : 0.01,
            "learningRateDecay" : 0.5,
            "logEvery" : 1000,
            "maxBadBatches" : 5,
            "maxLength" : 80,
            "maxSteps" : 2,
            "optimizer" : "adam",
            "reverseSource" : true,
            "seed" : 11,
            "windowSize" : 24
          }
        }
        """

    static let config = ModelConfig(sourceVocabularySize: 8, targetVocabularySize: 8, embedding: 4, hidden: 4, layers: 1)

    var config = Array(FolderFiles.configText.utf8)
    var sourceVocabulary = FolderFiles.vocabulary(["a", "b", "c", "d"])
    var targetVocabulary = FolderFiles.vocabulary(["w", "x", "y", "z"])
    var best: [UInt8]
    var last: [UInt8]
    /// The weights written to both files.
    let values: [Float]

    init(seed: UInt64 = 7) {
        let model = Seq2SeqModel(config: FolderFiles.config, seed: seed)
        values = Array(model.parameters.values)
        let metadata = ["format": "seq2seq-checkpoint", "version": "1", "step": "3"]
        best = SafeTensors.encode(model.parameters.valueTensors, metadata: metadata)
        let n = model.parameters.count
        var rng = TestRNG(seed: seed)
        let moments = (0..<2 * n).map { _ in Float(rng.next() % 1000) / 1e4 }
        var arrays = model.parameters.tensors.map { t in
            (name: t.name, shape: t.shape, values: Array(model.parameters.values[t.offset..<t.offset + t.shape.reduce(1, *)]))
        }
        arrays.append((name: "optimizer/adam.m", shape: [n], values: Array(moments[0..<n])))
        arrays.append((name: "optimizer/adam.v", shape: [n], values: Array(moments[n...])))
        last = SafeTensors.encode(arrays: arrays, metadata: metadata.merging(["optimizer_steps": "3"]) { $1 })
    }

    static func vocabulary(_ words: [String]) -> [UInt8] {
        let tokens = ["<pad>", "<unk>", "<s>", "</s>"] + words  // the four reserved entries
        let vocabulary = Vocabulary(tokens: tokens, counts: tokens.indices.map { $0 < 4 ? 0 : 10 - $0 }, options: TokenizerOptions())
        return Array(vocabulary.serialized().utf8)
    }

    /// Every file's bytes by its name in the folder.
    var byName: [String: [UInt8]] {
        ["config.json": config, "source.vocab": sourceVocabulary, "target.vocab": targetVocabulary,
         "best.safetensors": best, "last.safetensors": last]
    }

    func write(to folder: URL) throws {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        for (name, bytes) in byName { try Data(bytes).write(to: folder.appendingPathComponent(name)) }
    }
}

/// A safetensors file from a header text and data bytes (the header padded to 8 bytes).
func safetensorsFile(header: String, data: [UInt8]) -> [UInt8] {
    var h = Array(header.utf8)
    while h.count % 8 != 0 { h.append(0x20) }
    return (0..<8).map { UInt8((h.count >> (8 * $0)) & 0xFF) } + h + data
}

/// Header text and data of a safetensors file.
func split(_ file: [UInt8]) -> (header: String, data: [UInt8]) {
    let n = file[0..<8].enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
    return (String(decoding: file[8..<(8 + n)], as: UTF8.self), Array(file[(8 + n)...]))
}

/// What the encoder wrote before checksums existed: the same header without `data_fnv1a64`.
func withoutChecksum(_ file: [UInt8]) -> [UInt8] {
    let (header, data) = split(file)
    let stripped = header.replacing(#/"data_fnv1a64":"[0-9a-f]{16}",?/#, with: "")
        .replacingOccurrences(of: ",}", with: "}")
        .trimmingCharacters(in: .whitespaces)
    return safetensorsFile(header: stripped, data: data)
}

/// Peak resident memory of this process so far, in bytes.
func peakResidentBytes() -> Int {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return usage.ru_maxrss * 1024
}

/// A fresh directory in memory (`/dev/shm`) where there is one, else a temporary directory: the
/// fuzz test rewrites thousands of small files, and a file write on this machine's disk costs
/// 2–10 ms, on tmpfs 0.02 ms. Removed by the caller.
func makeScratchDirectory(_ prefix: String) -> URL {
    if FileManager.default.isWritableFile(atPath: "/dev/shm") {
        let url = URL(fileURLWithPath: "/dev/shm/\(prefix)-\(UUID().uuidString)", isDirectory: true)
        if (try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)) != nil { return url }
    }
    return makeTemporaryDirectory(prefix)
}
