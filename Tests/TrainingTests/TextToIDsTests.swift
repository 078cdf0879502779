import Basics
import Corpus
import Foundation
import Model
import Testing
import TestSupport
import Text
import Training

// What training reads from text: the pairs packed by `shard` and the --valid-* files become ids
// through `PairPreparer`; text never reaches a reserved id, and the validation files follow the
// one line-reading policy whatever their kind.

@Suite struct TextToIDsTests {
    static let pretokenized = TokenizerOptions(normalization: .nfc, lowercase: false, language: "en",
                                               splitNumbers: false, joiners: true, pretokenized: true)

    @Test func aLiteralEndOfSentenceInATargetIsAWordNotTheEnd() throws {
        var sourceCounts = VocabularyBuilder(options: Self.pretokenized)
        sourceCounts.add(tokens: ["ein", "Hund"])
        var targetCounts = VocabularyBuilder(options: Self.pretokenized)
        targetCounts.add(tokens: ["a", "dog", "</s>", "a"])
        let preparer = try PairPreparer(sourceVocabulary: sourceCounts.build(), targetVocabulary: targetCounts.build(),
                                        maxLength: nil)
        let pair = try #require(preparer.prepare(SentencePair(source: "ein <s> Hund <pad>", target: "a </s> dog <unk>")))
        let target = preparer.targetVocabulary
        #expect(pair.target == [target.id("a"), target.id("</s>"), target.id("dog"), TokenID.unknown])
        #expect(pair.target[1] >= Int32(TokenID.reservedCount))
        #expect(pair.source == [preparer.sourceVocabulary.id("ein"), TokenID.unknown,
                                preparer.sourceVocabulary.id("Hund"), TokenID.unknown])

        // The batch ends the sentence once, after all four words.
        let batch = Batch(sources: [pair.source], targets: [pair.target])
        #expect(batch.targetOutput == pair.target + [TokenID.end])
        #expect(batch.targetOutput.filter { $0 == TokenID.end }.count == 1)
    }

    @Test(arguments: ["gz", "zst"])
    func validationFilesReadCRLFAndBOMFromCompressedFilesLikePlainLF(_ kind: String) throws {
        let dir = makeTemporaryDirectory("validation-lines")
        defer { try? FileManager.default.removeItem(at: dir) }
        func write(_ name: String, _ bytes: [UInt8]) throws -> String {
            let path = dir.appendingPathComponent(name).path
            try Data(bytes).write(to: URL(fileURLWithPath: path))
            return path
        }
        var counts = VocabularyBuilder(options: Self.pretokenized)
        counts.add(tokens: ["a", "dog", "runs", ".", "two"])
        let vocabulary = counts.build()
        let preparer = try PairPreparer(sourceVocabulary: vocabulary, targetVocabulary: vocabulary, maxLength: nil)
        let plain = try ValidationSet(sourcePath: write("s.txt", Array("a dog runs .\ntwo\n".utf8)),
                                      targetPath: write("t.txt", Array("two dog\na\n".utf8)),
                                      preparer: preparer, batchSize: 8)
        let bom: [UInt8] = [0xEF, 0xBB, 0xBF]
        let compress = kind == "gz" ? gzipStored : zstdRaw
        let crlf = try ValidationSet(sourcePath: write("s.\(kind)", compress(bom + Array("a dog runs .\r\ntwo\r\n".utf8))),
                                     targetPath: write("t.\(kind)", compress(Array("two dog\r\na\r".utf8))),
                                     preparer: preparer, batchSize: 8)
        #expect(crlf.pairCount == 2 && plain.pairCount == 2)
        #expect(crlf.batches.map(\.targetOutput) == plain.batches.map(\.targetOutput))
        #expect(crlf.batches.map(\.source) == plain.batches.map(\.source))
        #expect(!crlf.batches[0].source.contains(TokenID.unknown))
    }
}
