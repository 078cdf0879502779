/// subword-nmt's vocabulary files (`subword-nmt get-vocab`): one `word count` line per word,
/// by count descending, ties in order of first occurrence. `apply-bpe --vocabulary` reads them to
/// undo merges that make pieces seen fewer than `--vocabulary-threshold` times.
public enum SubwordVocabulary {
    /// Counts the space-separated words of lines, as `get-vocab` does.
    public struct Counter {
        private var index: [ByteKey: Int] = [:]
        private var words: [String] = []
        private var counts: [Int] = []

        public init() {}

        /// Counts the words of one line (UTF-8, no newline; empty tokens skipped).
        public mutating func add(line: UnsafeBufferPointer<UInt8>) {
            var start = 0
            for i in 0...line.count where i == line.count || line[i] == 0x20 {
                var end = i
                if i == line.count { while end > start && (line[end - 1] == 0x0D || line[end - 1] == 0x0A) { end -= 1 } }
                if end > start {
                    let word = String(decoding: UnsafeBufferPointer(rebasing: line[start..<end]), as: UTF8.self)
                    let key = ByteKey(word)
                    if let k = index[key] { counts[k] += 1 } else {
                        index[key] = words.count
                        words.append(word)
                        counts.append(1)
                    }
                }
                start = i + 1
            }
        }

        /// (word, count) by count descending, ties in first-seen order (Python's stable sort).
        public var entries: [(word: String, count: Int)] {
            let order = words.indices.sorted { counts[$0] != counts[$1] ? counts[$0] > counts[$1] : $0 < $1 }
            return order.map { (words[$0], counts[$0]) }
        }

        /// The file's text.
        public func serialized() -> String {
            var text = ""
            for (word, count) in entries {
                text += word
                text += " "
                text += String(count)
                text += "\n"
            }
            return text
        }
    }

    /// The words of a vocabulary file counted at least `threshold` times (all when nil).
    /// Throws `TextError` naming `path` and the line of a line that is not `word count`.
    public static func read(contentsOf path: String, threshold: Int?) throws -> Set<String> {
        try parse(bytes: FileBytes.read(path), path: path, threshold: threshold)
    }

    /// Parses vocabulary-file bytes; `path` names the source in errors.
    public static func parse(bytes: [UInt8], path: String, threshold: Int?) throws -> Set<String> {
        var words = Set<String>()
        var lines = bytes.split(separator: 0x0A, omittingEmptySubsequences: false)
        if lines.last?.isEmpty == true { lines.removeLast() }
        for (offset, raw) in lines.enumerated() {
            let number = offset + 1
            var s = raw.startIndex, e = raw.endIndex
            while s < e && (raw[s] == 0x0D || raw[s] == 0x20) { s += 1 }
            while e > s && (raw[e - 1] == 0x0D || raw[e - 1] == 0x20) { e -= 1 }
            let parts = raw[s..<e].split(separator: 0x20, omittingEmptySubsequences: false)
            guard parts.count == 2, !parts[0].isEmpty else {
                throw TextError.malformedSubwords(file: path, line: number,
                                                  hint: "expected 'word count' (subword-nmt get-vocab format)")
            }
            guard let word = String(validating: parts[0], as: UTF8.self) else {
                throw TextError.invalidUTF8(source: path, line: number)
            }
            guard let count = Int(String(decoding: parts[1], as: UTF8.self)) else {
                throw TextError.malformedSubwords(file: path, line: number,
                                                  hint: "count '\(String(decoding: parts[1], as: UTF8.self))' is not an integer")
            }
            if threshold.map({ count >= $0 }) ?? true { words.insert(word) }
        }
        return words
    }
}
