import Foundation
import Model
@testable import ModelFolder
import TestSupport
import Testing
import Text

/// Runs `body`, which must throw; returns the error's text after checking it is one line.
func oneLineError(_ body: () throws -> Void, sourceLocation: SourceLocation = #_sourceLocation) -> String {
    do {
        try body()
        Issue.record("no error", sourceLocation: sourceLocation)
        return ""
    } catch {
        let text = "\(error)"
        #expect(!text.isEmpty && !text.contains("\n"), "not one line: \(text)", sourceLocation: sourceLocation)
        return text
    }
}

@Suite struct ModelConfigDecodingTests {
    @Test func theCurrentConfigFileDecodesToTheSameValue() throws {
        struct File: Decodable { var model: ModelConfig }
        let decoded = try JSONDecoder().decode(File.self, from: Data(FolderFiles.configText.utf8)).model
        #expect(decoded == FolderFiles.config)
        let saved = try JSONDecoder().decode(SavedModelConfig.self, from: Data(FolderFiles.configText.utf8))
        #expect(saved.model == FolderFiles.config && saved.sourceTokenizer == TokenizerOptions())
    }

    @Test func missingKeysDecodeToTodaysDefaults() throws {
        let decoded = try JSONDecoder().decode(ModelConfig.self, from: Data(#"{"sourceVocabularySize":9,"targetVocabularySize":10}"#.utf8))
        #expect(decoded == ModelConfig(sourceVocabularySize: 9, targetVocabularySize: 10))
        #expect(decoded.embedding == 256 && decoded.hidden == 256 && decoded.layers == 2 && decoded.dropout == 0 && decoded.reverseSource)
        // Encoding writes the architecture in its sections, with today's values.
        let object = try #require(try JSONSerialization.jsonObject(with: JSONEncoder().encode(decoded)) as? [String: Any])
        #expect(object["sourceVocabularySize"] as? Int == 9 && object["targetVocabularySize"] as? Int == 10)
        #expect(object["embedding"] as? Int == 256 && object["dropout"] as? Double == 0)
        #expect((object["cell"] as? [String: Any])?["type"] as? String == "lstm")
        let encoder = try #require(object["encoder"] as? [String: Any]), decoder = try #require(object["decoder"] as? [String: Any])
        #expect(encoder["hidden"] as? Int == 256 && encoder["layers"] as? Int == 2 && encoder["reverseSource"] as? Bool == true)
        #expect(encoder["bidirectional"] as? Bool == false && encoder["residual"] as? Bool == false)
        #expect(decoder["hidden"] as? Int == 256 && decoder["layers"] as? Int == 2 && decoder["residual"] as? Bool == false)
        #expect(object["hidden"] == nil && object["layers"] == nil, "one source of truth: no flat copies")
    }

    /// Every architecture survives encode → decode; the flat form of older files (and the flat
    /// `"cell": "gru"` string of the first files that had cells) decodes to the same value.
    @Test(arguments: CellType.allCases, [(false, false), (true, false), (false, true), (true, true)])
    func sectionsRoundTripAndTheFlatFormDecodesTheSame(cell: CellType, shape: (bidirectional: Bool, residual: Bool)) throws {
        let config = ModelConfig(sourceVocabularySize: 11, targetVocabularySize: 12, embedding: 6, hidden: 8, layers: 3,
                                 dropout: 0.25, reverseSource: !shape.bidirectional, cell: cell,
                                 bidirectional: shape.bidirectional, residual: shape.residual)
        #expect(try JSONDecoder().decode(ModelConfig.self, from: JSONEncoder().encode(config)) == config)
        let flat = """
            {"sourceVocabularySize":11,"targetVocabularySize":12,"embedding":6,"hidden":8,"layers":3,"dropout":0.25,\
            "reverseSource":\(!shape.bidirectional),"cell":"\(cell.rawValue)","bidirectional":\(shape.bidirectional),"residual":\(shape.residual)}
            """
        #expect(try JSONDecoder().decode(ModelConfig.self, from: Data(flat.utf8)) == config)
    }

    /// Either section may be missing: its keys take the other section's values, or the defaults.
    @Test func aMissingSectionTakesTheOtherOrTheDefaults() throws {
        let onlyEncoder = #"{"sourceVocabularySize":9,"targetVocabularySize":10,"encoder":{"layers":3,"hidden":8,"residual":true}}"#
        let onlyDecoder = #"{"sourceVocabularySize":9,"targetVocabularySize":10,"decoder":{"layers":3,"hidden":8,"residual":true}}"#
        let expected = ModelConfig(sourceVocabularySize: 9, targetVocabularySize: 10, hidden: 8, layers: 3, residual: true)
        #expect(try JSONDecoder().decode(ModelConfig.self, from: Data(onlyEncoder.utf8)) == expected)
        #expect(try JSONDecoder().decode(ModelConfig.self, from: Data(onlyDecoder.utf8)) == expected)
    }

    @Test(arguments: [
        #"{"layers":2,"hidden":8},"decoder":{"layers":3,"hidden":8}"#, #"{"layers":2,"hidden":8},"decoder":{"layers":2,"hidden":6}"#,
        #"{"layers":2,"hidden":8,"residual":true},"decoder":{"layers":2,"hidden":8,"residual":false}"#,
        #"{"layers":"two"},"decoder":{}"#,
    ])
    func sectionsThatDisagreeOrHaveWrongTypesAreDecodingErrors(sections: String) {
        let text = #"{"sourceVocabularySize":9,"targetVocabularySize":10,"encoder":"# + sections + "}"
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(ModelConfig.self, from: Data(text.utf8)) }
    }

    @Test func aMissingVocabularySizeIsADecodingError() {
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(ModelConfig.self, from: Data(#"{"sourceVocabularySize":9}"#.utf8)) }
    }

    @Test(arguments: [
        (\ModelConfig.hidden, -32, "hidden"), (\ModelConfig.layers, 0, "layers"), (\ModelConfig.layers, 1_000_000_000_000, "layers"),
        (\ModelConfig.embedding, 2_147_483_648, "embedding"), (\ModelConfig.hidden, 65_537, "hidden"),
        (\ModelConfig.layers, 65, "layers"), (\ModelConfig.sourceVocabularySize, 3, "sourceVocabularySize"),
        (\ModelConfig.targetVocabularySize, (1 << 24) + 1, "targetVocabularySize"), (\ModelConfig.embedding, Int.min, "embedding"),
    ])
    func validateRejectsAnOutOfBoundsSizeNamingTheKey(key: WritableKeyPath<ModelConfig, Int>, value: Int, name: String) {
        var config = FolderFiles.config
        config[keyPath: key] = value
        let message = oneLineError { try config.validate() }
        #expect(message.hasPrefix(name + " must be in "), "\(message)")
    }

    @Test func validateRejectsDropoutAndOversizedNetworksNamingThem() {
        var config = FolderFiles.config
        for dropout: Float in [-0.1, 1, .nan, .infinity] {
            config.dropout = dropout
            #expect(oneLineError { try config.validate() }.hasPrefix("dropout must be in [0, 1)"))
        }
        // Every size within its bound, the whole beyond 2^31 parameters (and no overflow computing it).
        let huge = ModelConfig(sourceVocabularySize: 1 << 24, targetVocabularySize: 1 << 24, embedding: 1 << 16, hidden: 1 << 16, layers: 64)
        #expect(oneLineError { try huge.validate() }.contains("parameters"))
        #expect(huge.parameterCount > ModelConfig.maximumParameterCount)
        #expect(FolderFiles.config.parameterCount == Seq2SeqModel(config: FolderFiles.config, seed: 1).parameters.count)
    }
}

@Suite struct SavedModelTests {
    func folder(_ files: FolderFiles = FolderFiles()) throws -> URL {
        let url = makeTemporaryDirectory("model-folder")
        try files.write(to: url)
        return url
    }

    @Test func aFolderInTheCurrentFormatOpensAndLoadsItsWeights() throws {
        let files = FolderFiles()
        let url = try folder(files)
        defer { try? FileManager.default.removeItem(at: url) }
        let saved = try SavedModel(opening: url.path)
        #expect(saved.config.model == FolderFiles.config && saved.sourceVocabulary.count == 8)
        for choice in CheckpointChoice.allCases {
            let model = try saved.loadModel(choice)
            #expect(Array(model.parameters.values) == files.values)
        }
        #expect(try saved.readCheckpoint(.last).optimizerState.map(\.name) == ["adam.m", "adam.v"])
    }

    @Test func weightsWrittenBeforeChecksumsStillLoad() throws {
        var files = FolderFiles()
        files.best = withoutChecksum(files.best)
        #expect(!String(decoding: split(files.best).header.utf8, as: UTF8.self).contains("data_fnv1a64"))
        let url = try folder(files)
        defer { try? FileManager.default.removeItem(at: url) }
        let model = try SavedModel(opening: url.path).loadModel(.best)
        #expect(Array(model.parameters.values) == files.values)
    }

    @Test func aFlippedByteInsideATensorIsCaughtByTheChecksum() throws {
        var files = FolderFiles()
        files.best[files.best.count - 37] ^= 0x01
        let url = try folder(files)
        defer { try? FileManager.default.removeItem(at: url) }
        let saved = try SavedModel(opening: url.path)
        let message = oneLineError { _ = try saved.loadModel(.best) }
        #expect(message.hasPrefix(url.path + "/best.safetensors: ") && message.contains("checksum"), "\(message)")
    }

    /// The crashes of the issue: each value once made the loader trap, hang or allocate 66 GB.
    @Test(arguments: [
        (#""hidden" : 4,"#, #""hidden" : -32,"#, "hidden"),
        (#""layers" : 1,"#, #""layers" : 0,"#, "layers"),
        (#""layers" : 1,"#, #""layers" : 1000000000000,"#, "layers"),
        (#""embedding" : 4,"#, #""embedding" : 2147483648,"#, "embedding"),
        (#""hidden" : 4,"#, #""hidden" : 4.5,"#, "hidden"),
        (#""hidden" : 4,"#, #""hidden" : "4","#, "hidden"),
        (#""layers" : 1,"#, #""layers" : 1e400,"#, "layers"),
        (#""dropout" : 0,"#, #""dropout" : 1,"#, "dropout"),
        (#""sourceVocabularySize" : 8,"#, #""sourceVocabularySize" : 9,"#, "source.vocab"),
        (#""sourceVocabularySize" : 8,"#, "", "sourceVocabularySize"),
    ])
    func aBadConfigValueIsOneLineNamingTheFileAndKey(original: String, replacement: String, mention: String) throws {
        var files = FolderFiles()
        let text = FolderFiles.configText
        #expect(text.contains(original))
        files.config = Array(text.replacingOccurrences(of: original, with: replacement).utf8)
        let url = try folder(files)
        defer { try? FileManager.default.removeItem(at: url) }
        let message = oneLineError { _ = try SavedModel(opening: url.path).loadModel(.best) }
        #expect(message.hasPrefix(url.path + "/"), "\(message)")
        #expect(message.contains(mention), "\(message)")
        if mention != "source.vocab" { #expect(message.hasPrefix(url.path + "/config.json: "), "\(message)") }
    }

    @Test func weightsOfAnotherShapeThanTheConfigAreRefused() throws {
        var files = FolderFiles()
        files.config = Array(FolderFiles.configText.replacingOccurrences(of: #""hidden" : 4,"#, with: #""hidden" : 5,"#).utf8)
        let url = try folder(files)
        defer { try? FileManager.default.removeItem(at: url) }
        let message = oneLineError { _ = try SavedModel(opening: url.path).loadModel(.best) }
        #expect(message.hasPrefix(url.path + "/best.safetensors: ") && message.contains("config.json implies"), "\(message)")
    }

    @Test func nonFiniteWeightsAreRefused() throws {
        for bad: Float in [.nan, .infinity, -.infinity] {
            var values = FolderFiles().values
            values[5] = bad
            let layout = Seq2SeqModel.layout(FolderFiles.config)
            var offset = 0
            let arrays = layout.map { t -> (name: String, shape: [Int], values: [Float]) in
                defer { offset += t.shape.reduce(1, *) }
                return (t.name, t.shape, Array(values[offset..<offset + t.shape.reduce(1, *)]))
            }
            let file = SafeTensors.encode(arrays: arrays, metadata: ["format": "seq2seq-checkpoint", "version": "1"])
            let url = makeTemporaryDirectory("nan-weights")
            defer { try? FileManager.default.removeItem(at: url) }
            try Data(file).write(to: url.appendingPathComponent("w.safetensors"))
            let message = oneLineError { _ = try CheckpointFile(path: url.path + "/w.safetensors", config: FolderFiles.config) }
            #expect(message.contains("source_embedding") && message.contains("index 5"), "\(message)")
        }
    }

    @Test func extraAndMissingTensorsAndBadOptimizerStateAreRefused() throws {
        let url = makeTemporaryDirectory("tensor-sets")
        defer { try? FileManager.default.removeItem(at: url) }
        let model = Seq2SeqModel(config: FolderFiles.config, seed: 3)
        var arrays = model.parameters.tensors.map { t in
            (name: t.name, shape: t.shape, values: Array(model.parameters.values[t.offset..<t.offset + t.shape.reduce(1, *)]))
        }
        let metadata = ["format": "seq2seq-checkpoint", "version": "1"]
        let path = url.path + "/w.safetensors"
        func message(_ tensors: [(name: String, shape: [Int], values: [Float])]) throws -> String {
            try Data(SafeTensors.encode(arrays: tensors, metadata: metadata)).write(to: URL(fileURLWithPath: path))
            return oneLineError { _ = try CheckpointFile(path: path, config: FolderFiles.config) }
        }
        #expect(try message(arrays + [("extra", [1], [0])]).contains("does not have: \"extra\""))
        #expect(try message(Array(arrays.dropLast())).contains("lacks tensor output.bias"))
        arrays.append(("optimizer/adam.m", [3], [0, 0, 0]))
        #expect(try message(arrays).contains("optimizer tensor \"adam.m\" has shape [3]"))
    }
}

@Suite struct SafeTensorsDefectTests {
    /// The shapes of the issue: their element counts overflow Int (they trapped in `reduce(1, *)`).
    @Test(arguments: [[1_099_511_627_776, 1_099_511_627_776], [1303, 9_223_372_036_854_775_807], [4, 4_611_686_018_427_387_904]])
    func aShapeWhoseSizeOverflowsIsRefused(shape: [Int]) {
        let header = #"{"w":{"dtype":"F32","shape":\#(shape),"data_offsets":[0,16]}}"#
        let message = oneLineError { _ = try SafeTensors.decode(safetensorsFile(header: header, data: [UInt8](repeating: 0, count: 16))) }
        #expect(message.contains("tensor \"w\"") && message.contains("too large"), "\(message)")
    }

    @Test(arguments: [
        (#"{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#, 12, "after the last tensor"),
        (#"{"w":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#, 8, "belong to no tensor"),
        (#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#, 8, "overlaps"),
        (#"{"w":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}"#, 8, "outside the 8 data bytes"),
        (#"{"w":{"dtype":"F32","shape":[2],"data_offsets":[8,0]}}"#, 8, "outside"),
        (#"{"w":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}}"#, 8, "negative dimension"),
        (#"{"w":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}"#, 8, "span 8 bytes"),
        (#"{"w":{"dtype":"F16","shape":[4],"data_offsets":[0,8]}}"#, 8, "F16"),
        (#"{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8,8]}}"#, 8, "3 data_offsets"),
        (#"{"w":{"dtype":"F32","shape":[2]}}"#, 8, "data_offsets"),
        (#"{"w":{"dtype":"F32","shape":[2.5],"data_offsets":[0,8]}}"#, 8, "not a JSON object"),
        (#"{"__metadata__":{"k":1},"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#, 8, "__metadata__"),
        (#"{"__metadata__":{"data_fnv1a64":"0000000000000000"},"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#, 8, "checksum"),
        (#"[1, 2]"#, 0, "not a JSON object"),
        (#"{"w":{"dtype":"F32""#, 8, "not a JSON object"),
    ])
    func aStructuralDefectIsOneLineNamingIt(header: String, dataBytes: Int, mention: String) {
        let message = oneLineError { _ = try SafeTensors.decode(safetensorsFile(header: header, data: [UInt8](repeating: 0, count: dataBytes))) }
        #expect(message.hasPrefix("safetensors: ") && message.contains(mention), "\(message)")
    }

    @Test func aHeaderLengthBeyondTheFileIsRefused() {
        var file = safetensorsFile(header: "{}", data: [])
        file[6] = 1
        #expect(oneLineError { _ = try SafeTensors.decode(file) }.contains("exceeds the file"))
        #expect(oneLineError { _ = try SafeTensors.decode([1, 2, 3]) }.contains("shorter than"))
    }

    /// A header may claim any size; only what the file holds is ever allocated. A 4 GiB tensor
    /// claimed by a 40-byte file, and a config whose network (1.6 G floats) is far bigger than its
    /// weights file, are refused without the process's peak memory growing.
    @Test func claimsBeyondTheFileAreRefusedBeforeAllocating() throws {
        let before = peakResidentBytes()
        let header = #"{"w":{"dtype":"F32","shape":[1073741824],"data_offsets":[0,4294967296]}}"#
        #expect(oneLineError { _ = try SafeTensors.decode(safetensorsFile(header: header, data: [UInt8](repeating: 0, count: 16))) }
            .contains("outside"))

        var files = FolderFiles()
        files.config = Array(FolderFiles.configText
            .replacingOccurrences(of: #""hidden" : 4,"#, with: #""hidden" : 8192,"#)
            .replacingOccurrences(of: #""layers" : 1,"#, with: #""layers" : 2,"#).utf8)
        let url = makeTemporaryDirectory("claims")
        defer { try? FileManager.default.removeItem(at: url) }
        try files.write(to: url)
        let saved = try SavedModel(opening: url.path)
        #expect(saved.config.model.parameterCount > 1_500_000_000)
        #expect(oneLineError { _ = try saved.loadModel(.best) }.contains("config.json implies"))
        let grown = peakResidentBytes() - before
        #expect(grown < 512 << 20, "peak memory grew by \(grown >> 20) MiB")
    }
}
