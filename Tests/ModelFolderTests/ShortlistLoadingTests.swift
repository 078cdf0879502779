import Foundation
@testable import Lexicon
@testable import ModelFolder
import TestSupport
import Testing

/// `SavedModel.loadShortlist`: absent is nil, a good file loads, every bad one is one
/// `ModelFolderError` naming `shortlist.bin`.
@Suite struct ShortlistLoadingTests {
    /// The fixture folder's vocabularies hold 8 source and 8 target ids.
    static func shortlist(source: Int = 8, target: Int = 8) throws -> Shortlist {
        try Shortlist(sourceVocabularySize: source, targetVocabularySize: target, topK: 2, frequent: [1, 3, Int32(target - 1)],
                      lists: (0..<source).map { $0 < 4 ? [] : [Int32(4 + $0 % 3), 7] })
    }

    func folder(shortlist bytes: [UInt8]?) throws -> (URL, SavedModel) {
        let dir = makeTemporaryDirectory("shortlist-loading")
        try FolderFiles().write(to: dir)
        if let bytes { try Data(bytes).write(to: dir.appendingPathComponent(Shortlist.fileName)) }
        return (dir, try SavedModel(opening: dir.path))
    }

    @Test func absentIsNilAndAGoodFileLoads() throws {
        let (dir, none) = try folder(shortlist: nil)
        defer { try? FileManager.default.removeItem(at: dir) }
        #expect(try none.loadShortlist() == nil)
        let good = try Self.shortlist()
        let (dir2, saved) = try folder(shortlist: good.encoded())
        defer { try? FileManager.default.removeItem(at: dir2) }
        #expect(try saved.loadShortlist() == good)
    }

    @Test func badFilesAreOneErrorNamingTheFile() throws {
        let good = try Self.shortlist().encoded()
        var wrongMagic = good; wrongMagic[1] = 0
        var corrupt = good; corrupt[40] ^= 0x10
        // A list holding id 8 (a file for Vt 9) with Vt patched to 8 and the checksum recomputed.
        var idTooLarge = try Self.shortlist(target: 9).encoded()
        idTooLarge[16] = 8
        let sum = Shortlist.fnv1a(idTooLarge[..<(idTooLarge.count - 8)])
        for b in 0..<8 { idTooLarge[idTooLarge.count - 8 + b] = UInt8(truncatingIfNeeded: sum >> (8 * UInt64(b))) }
        let cases: [(String, [UInt8], String)] = [
            ("wrong magic", wrongMagic, "magic"),
            ("truncated", Array(good.prefix(good.count - 5)), "truncated"),
            ("corrupt", corrupt, "checksum"),
            ("source vocabulary size", try Self.shortlist(source: 9).encoded(), "9/8"),
            ("target vocabulary size", try Self.shortlist(target: 9).encoded(), "8/9"),
            ("empty", [], "magic"),
            ("id ≥ V", idTooLarge, "target id 8"),
        ]
        for (name, bytes, mention) in cases {
            let (dir, saved) = try folder(shortlist: bytes)
            defer { try? FileManager.default.removeItem(at: dir) }
            do {
                _ = try saved.loadShortlist()
                Issue.record("\(name): loaded")
            } catch let error as ModelFolderError {
                #expect(error.path == saved.shortlistPath, "\(name)")
                #expect(error.description.contains(mention), "\(name): \(error)")
                #expect(!error.description.contains("\n"), "\(name)")
            }
        }
    }
}
