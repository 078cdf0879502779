import Foundation
import Model
@testable import ModelFolder
import TestSupport
import Testing
import Text

/// 3,000 deterministically mutated model folders through the whole read side (open the folder,
/// load `best` into a network, read `last` with its optimizer state): every one either loads or
/// throws an error whose text is one line naming a file of the folder. No trap, no hang (the time
/// limit: 5 minutes for what takes ~3 s alone, since a whole-suite run beside heavy disk writes once
/// took 234 s), and a folder that loads never holds more floats than its weights file's size allows.
@Suite struct LoaderFuzzTests {
    static let cases = 3000

    /// Numbers a mutated header or config may carry: boundaries, overflows, non-integers.
    static let numbers = ["0", "-1", "1", "3", "7", "8", "9", "16", "65536", "65537", "1303", "2147483648",
                          "1099511627776", "9223372036854775807", "9223372036854775808", "-9223372036854775808",
                          "1e30", "1e400", "4.5", "-0", "null", "\"4\"", "[]", "{}", "true"]

    @Test(.timeLimit(.minutes(5))) func mutatedFoldersLoadOrFailWithOneLine() throws {
        let root = makeScratchDirectory("seq2seq-loader-fuzz")
        defer { try? FileManager.default.removeItem(at: root) }
        let pristine = FolderFiles()
        let folder = root.appendingPathComponent("m")
        try pristine.write(to: folder)
        var rng = TestRNG(seed: 2024)
        var loaded = 0, refused = 0
        for index in 0..<Self.cases {
            var files = pristine
            let kind = Int(rng.next() % 10)
            mutate(&files, kind: kind, rng: &rng)
            // Only the files that differ are rewritten (and restored after the case).
            let changed = files.byName.filter { pristine.byName[$0.key] != $0.value }
            for (name, bytes) in changed { try Data(bytes).write(to: folder.appendingPathComponent(name)) }
            defer { for name in changed.keys { try? Data(pristine.byName[name]!).write(to: folder.appendingPathComponent(name)) } }
            do {
                let saved = try SavedModel(opening: folder.path)
                let model = try saved.loadModel(.best)
                let last = try saved.readCheckpoint(.last)
                #expect(model.parameters.count * 4 <= files.best.count, "case \(index) (kind \(kind))")
                #expect(last.optimizerState.allSatisfy { $0.values.count * 4 <= files.last.count })
                loaded += 1
            } catch {
                let text = "\(error)"
                #expect(!text.isEmpty && !text.contains("\n"), "case \(index) (kind \(kind)): \(text)")
                #expect(text.hasPrefix(folder.path), "case \(index) (kind \(kind)) names no file of the folder: \(text)")
                refused += 1
            }
        }
        // The mutations are real: most folders are refused, and some survive (harmless changes).
        #expect(refused > Self.cases / 2 && loaded > 0, "loaded \(loaded), refused \(refused)")
    }

    func mutate(_ files: inout FolderFiles, kind: Int, rng: inout TestRNG) {
        func pick<T>(_ list: [T]) -> T { list[Int(rng.next() % UInt64(list.count))] }
        func weights(_ body: (inout [UInt8]) -> Void) {
            if rng.next() % 2 == 0 { body(&files.best) } else { body(&files.last) }
        }
        switch kind {
        case 0: // one byte of a safetensors header
            weights { file in
                let (header, _) = split(file)
                let at = 8 + Int(rng.next() % UInt64(header.utf8.count))
                file[at] = UInt8(truncatingIfNeeded: rng.next())
            }
        case 1: // the header length
            weights { file in file[Int(rng.next() % 8)] = UInt8(truncatingIfNeeded: rng.next()) }
        case 2, 3: // a number of the header (a shape dimension or an offset), rewritten
            weights { file in
                let (header, data) = split(file)
                file = safetensorsFile(header: replaceNumber(in: header, with: pick(Self.numbers), rng: &rng), data: data)
            }
        case 4: // a dtype or metadata string
            weights { file in
                let (header, data) = split(file)
                let edits = [("\"F32\"", pick(["\"F16\"", "\"BF16\"", "\"F64\"", "\"I32\"", "\"\"", "\"f32\"", "3"])),
                             ("\"seq2seq-checkpoint\"", "\"other\""), ("\"version\":\"1\"", "\"version\":\"2\""),
                             ("\"__metadata__\"", "\"__other__\""), ("\"data_offsets\"", "\"offsets\"")]
                let (from, to) = pick(edits)
                let ranges = header.ranges(of: from)
                guard !ranges.isEmpty else { return }
                var text = header
                text.replaceSubrange(pick(ranges), with: to)
                file = safetensorsFile(header: text, data: data)
            }
        case 5: // data bytes: a flipped bit, a NaN, truncation or extra bytes
            weights { file in
                let dataStart = file.count - 4 * (file.count / 4 / 2)
                switch rng.next() % 4 {
                case 0: file[dataStart + Int(rng.next() % UInt64(file.count - dataStart))] ^= UInt8(1 << (rng.next() % 8))
                case 1: file.removeLast(1 + Int(rng.next() % 64))
                case 2: file += [UInt8](repeating: 0, count: 1 + Int(rng.next() % 8))
                default:
                    let at = file.count - 4 * (1 + Int(rng.next() % 16))
                    file.replaceSubrange(at..<at + 4, with: [0, 0, 0xC0, 0x7F])
                }
            }
        case 6, 7: // a number of config.json
            files.config = Array(replaceNumber(in: String(decoding: files.config, as: UTF8.self), with: pick(Self.numbers), rng: &rng).utf8)
        case 8: // config.json: a byte, a deleted key or a truncation
            var text = String(decoding: files.config, as: UTF8.self)
            switch rng.next() % 3 {
            case 0: files.config[Int(rng.next() % UInt64(files.config.count))] = UInt8(truncatingIfNeeded: rng.next())
            case 1:
                var lines = text.split(separator: "\n", omittingEmptySubsequences: false)
                lines.remove(at: 1 + Int(rng.next() % UInt64(lines.count - 2)))
                text = lines.joined(separator: "\n")
                files.config = Array(text.utf8)
            default: files.config.removeLast(Int(rng.next() % UInt64(files.config.count)))
            }
        default: // a vocabulary line
            var lines = String(decoding: files.sourceVocabulary, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            let at = Int(rng.next() % UInt64(lines.count - 1))
            switch rng.next() % 5 {
            case 0: lines.remove(at: at)
            case 1: lines.insert(lines[at], at: at)
            case 2: lines[at] = lines[at].replacingOccurrences(of: "\t", with: "\t" + pick(Self.numbers))
            case 3: lines[at] = lines[at].replacingOccurrences(of: "tokens=8", with: "tokens=" + pick(Self.numbers))
            default: lines[at] = String(lines[at].dropLast(1 + Int(rng.next() % 3)))
            }
            files.sourceVocabulary = Array(lines.joined(separator: "\n").utf8)
        }
    }

    /// `text` with one of its numbers (chosen by `rng`) replaced by `value`.
    func replaceNumber(in text: String, with value: String, rng: inout TestRNG) -> String {
        let ranges = text.ranges(of: #/-?[0-9]+(\.[0-9]+)?/#)
        guard !ranges.isEmpty else { return text }
        var result = text
        result.replaceSubrange(ranges[Int(rng.next() % UInt64(ranges.count))], with: value)
        return result
    }
}
