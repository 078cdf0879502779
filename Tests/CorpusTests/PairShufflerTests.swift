import Basics
@testable import Corpus
import Foundation
import Testing
import TestSupport

/// `shard --shuffle SEED`: a seeded permutation of the input pairs, the same for the same seed,
/// with memory bounded by one bucket and no scratch file left behind.
@Suite struct PairShufflerTests {
    /// `count` pairs "s<i> w…" / "t<i>", sorted by length as a length-sorted corpus would be.
    func writeSortedCorpus(_ dir: TempDir, count: Int) -> (String, String) {
        let order = (0..<count).sorted { ($0 % 9, $0) < ($1 % 9, $1) }
        let source = order.map { (["s\($0)"] + Array(repeating: "w", count: $0 % 9)).joined(separator: " ") }
        let target = order.map { "t\($0)" }
        return (dir.write("src.txt", Fixture.text(source)), dir.write("tgt.txt", Fixture.text(target)))
    }

    func pack(_ dir: TempDir, _ files: (String, String), seed: UInt64?, output: String) throws -> [SentencePair] {
        _ = try ShardPacker.pack(sourcePath: files.0, targetPath: files.1, output: dir.path(output),
                                 options: ShardOptions(pairsPerShard: 50, shuffleSeed: seed), tokenCount: Fixture.spaceTokens)
        return try readAll(try ShardSet(directory: dir.path(output)))
    }

    @Test func shuffledShardsHoldEveryPairOnceInASeededOrder() throws {
        let dir = TempDir()
        let files = writeSortedCorpus(dir, count: 400)
        let plain = try pack(dir, files, seed: nil, output: "plain")
        let first = try pack(dir, files, seed: 7, output: "a")
        let again = try pack(dir, files, seed: 7, output: "b")
        let other = try pack(dir, files, seed: 8, output: "c")
        #expect(Set(first) == Set(plain) && first.count == plain.count)
        #expect(first == again)
        #expect(first != other && first != plain)
        // Shard bytes are identical for the same seed.
        for name in try FileManager.default.contentsOfDirectory(atPath: dir.path("a")) where name.hasSuffix(".zst") {
            #expect(dir.bytes("a/" + name) == dir.bytes("b/" + name))
        }
        // No scratch folder or bucket file is left anywhere.
        let left = try FileManager.default.contentsOfDirectory(atPath: dir.url.path).sorted()
        #expect(left == ["a", "b", "c", "plain", "src.txt", "tgt.txt"])
        // The length order is gone: about half the length changes go up.
        let lengths = first.map { $0.source.split(separator: " ").count }
        let changes = zip(lengths, lengths.dropFirst()).filter { $0 != $1 }
        let up = Double(changes.filter { $0 < $1 }.count) / Double(changes.count)
        #expect(up > 0.35 && up < 0.65, "fraction of increases \(up)")
    }

    /// With buckets far smaller than the input (many bucket files) the result is still a
    /// permutation; every pair's position is spread over the whole output.
    @Test func manyBucketsStillGiveAPermutation() throws {
        let dir = TempDir()
        let shuffler = try PairShuffler(seed: 3, inputBytes: 10_000, folder: dir.path("scratch"), bucketBytes: 1000)
        for i in 0..<1000 { try shuffler.add(source: "s\(i)", target: "t\(i)") }
        var out: [Int] = []
        try shuffler.drain { source, target in
            #expect(source.dropFirst() == target.dropFirst())
            out.append(Int(source.dropFirst())!)
        }
        shuffler.removeFiles()
        #expect(out.sorted() == Array(0..<1000))
        #expect(!FileManager.default.fileExists(atPath: dir.path("scratch")))
        // The first tenth of the output draws from the whole input, not from its first tenth.
        #expect(out.prefix(100).filter { $0 >= 500 }.count > 30)
    }
}
