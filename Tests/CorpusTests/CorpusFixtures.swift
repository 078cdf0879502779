import Foundation
@testable import Corpus
import TestSupport

/// Synthetic parallel text whose content is known: TABs, "\r", Unicode of several scripts,
/// blank sides (skipped) and one long pair (skipped under maxLength 5).
enum Fixture {
    static let source: [String] = [
        "Hello\tworld",                 // TAB inside a sentence must survive
        "Ça va ?",
        "",                             // empty source: skipped
        "naïve café",                   // precomposed accents
        "e\u{301}te\u{301}",            // combining accents
        "東京は晴れ",
        "emoji 👩‍👩‍👧 ok",
        "  spaced  ",
        "a\rb",
        "x",
        "one two three four five six seven eight",  // 8 tokens: skipped under maxLength 5
        "مرحبا",
        "last",
    ]
    static let target: [String] = [
        "Bonjour\tle monde",
        "How are you?",
        "not empty",
        "naive cafe",
        "summer",
        "Tokyo is sunny",
        "😀",
        "  espacé  ",
        "c\rd",
        "   ",                          // blank target: skipped
        "short",
        "hello",
        "dernier",
    ]
    static let emptyIndices: Set<Int> = [2, 9]
    static let longIndex = 10

    /// Pairs expected in the corpus, in input order.
    static func kept(maxLength: Int?) -> [SentencePair] {
        source.indices.compactMap { i in
            if emptyIndices.contains(i) || (maxLength != nil && i == longIndex) { return nil }
            return SentencePair(source: source[i], target: target[i])
        }
    }

    static func text(_ lines: [String]) -> String { lines.map { $0 + "\n" }.joined() }

    static func spaceTokens(_ text: String) -> Int { text.split(separator: " ").count }
}

/// A temporary directory that removes itself.
final class TempDir {
    let url: URL
    init() { url = makeTemporaryDirectory("corpus-test") }
    deinit { try? FileManager.default.removeItem(at: url) }
    func path(_ name: String) -> String { url.appendingPathComponent(name).path }

    @discardableResult
    func write(_ name: String, _ text: String) -> String {
        write(name, bytes: Array(text.utf8))
    }

    @discardableResult
    func write(_ name: String, bytes: [UInt8]) -> String {
        let p = path(name)
        _ = FileManager.default.createFile(atPath: p, contents: Data(bytes))
        return p
    }

    func bytes(_ name: String) -> [UInt8] { Array(FileManager.default.contents(atPath: path(name)) ?? Data()) }

    /// Packs the fixture (with `pairsPerShard` small so there are several shards).
    @discardableResult
    func packFixture(maxLength: Int? = nil, pairsPerShard: Int = 3, output: String = "corpus",
                     overwrite: Bool = false) throws -> PackSummary {
        let src = write("src.txt", Fixture.text(Fixture.source))
        let tgt = write("tgt.txt", Fixture.text(Fixture.target))
        return try ShardPacker.pack(sourcePath: src, targetPath: tgt, output: path(output),
                                    options: ShardOptions(pairsPerShard: pairsPerShard, maxLength: maxLength,
                                                          command: "test", overwrite: overwrite),
                                    tokenCount: Fixture.spaceTokens)
    }
}

/// All pairs of a corpus in stored order.
func readAll(_ set: ShardSet) throws -> [SentencePair] {
    var pairs: [SentencePair] = []
    for index in set.manifest.shards.indices {
        let reader = try ShardReader(shards: set, index: index)
        while let pair = try reader.next() { pairs.append(pair) }
    }
    return pairs
}

/// Synthetic corpus of `count` pairs "s<i>" with 1–7 tokens, for stream tests.
func makeNumberedCorpus(_ dir: TempDir, count: Int, pairsPerShard: Int, name: String = "numbered") throws -> ShardSet {
    let writer = try ShardWriter(directory: dir.path(name), options: ShardOptions(pairsPerShard: pairsPerShard),
                                 tokenCount: Fixture.spaceTokens)
    for i in 0..<count {
        let words = Array(repeating: "w", count: i % 7)
        try writer.add(source: (["s\(i)"] + words).joined(separator: " "), target: "t\(i)")
    }
    _ = try writer.finish()
    return try ShardSet(directory: dir.path(name))
}

/// Id of a numbered pair ("s12 w w" → 12).
func pairID(_ pair: SentencePair) -> Int { Int(pair.target.dropFirst())! }
