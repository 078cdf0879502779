import ArgumentParser
import Corpus
import Foundation
import Text

// Input plumbing shared by the text subcommands (tokenize, detokenize, vocab); output and errors
// go through StandardStreams.swift.

extension Normalization: ExpressibleByArgument {}

/// Tokenizer flags shared by `tokenize` and `vocab`, so a vocabulary is built with exactly the
/// options the data will be tokenized with.
struct TokenizerFlags: ParsableArguments {
    @Option(name: .customLong("normalize"), help: "Unicode normalization before segmentation.")
    var normalization: Normalization = .nfc
    @Flag(help: "Lowercase with ICU's locale-aware case mapping (see --lang).")
    var lowercase = false
    @Option(name: .customLong("lang"),
            help: "Language/locale: case mapping (tr: I→ı) and clitics (en: don ￭'t; fr, it, ca: l'￭ homme).")
    var language = "en"
    @Flag(help: "Split numbers at separators (3 ￭,￭ 5) instead of keeping 3,5 / 1,000.50 / 10-20 whole.")
    var splitNumbers = false
    @Flag(help: "Write no joiner marks (￭); output can then not be detokenized exactly.")
    var noJoiners = false
    @Flag(help: "Text is already tokenized: after normalization and case mapping, split on spaces and tabs only (recorded in vocabularies, so training and translation do the same).")
    var pretokenized = false

    var options: TokenizerOptions {
        TokenizerOptions(normalization: normalization, lowercase: lowercase, language: language,
                         splitNumbers: splitNumbers, joiners: !noJoiners, pretokenized: pretokenized)
    }

    func validate() throws {
        do { try options.validate() } catch { throw ValidationError("\(error)") }
    }
}

/// Calls `body` with each line of `path` (stdin when nil) as bytes without its `\n` (and without
/// a `\r` before it, so CRLF files read like LF files), and the line number from 1. A last line
/// without a newline is still a line. Memory stays at one chunk plus the longest line.
///
/// `.gz` and `.zst` files go through Corpus's streaming line reader (which validates UTF-8 and
/// names the file and line itself); everything else is read here in 1 MiB chunks.
func readLines(path: String?, _ body: (UnsafeBufferPointer<UInt8>, Int) throws -> Void) throws {
    if let path, path.hasSuffix(".gz") || path.hasSuffix(".zst") {
        let reader = try LineReader(path: path)
        while var line = try reader.next() {
            try line.withUTF8 { try body($0, reader.lineNumber) }
        }
        return
    }
    let name = path ?? "stdin"
    let fd: Int32 = path.map { open($0, O_RDONLY | O_CLOEXEC) } ?? 0
    guard fd >= 0 else { throw TextError.io(path: name, reason: String(cString: strerror(errno))) }
    defer { if path != nil { close(fd) } }

    var capacity = 1 << 20
    var buffer = UnsafeMutablePointer<UInt8>.allocate(capacity: capacity)
    defer { buffer.deallocate() }
    var filled = 0
    var lineNumber = 0

    func emit(_ start: Int, _ end: Int) throws {
        var end = end
        if end > start && buffer[end - 1] == 0x0D { end -= 1 }
        lineNumber += 1
        try body(UnsafeBufferPointer(start: buffer + start, count: end - start), lineNumber)
    }

    while true {
        if filled == capacity {  // one line longer than the buffer: grow
            let bigger = UnsafeMutablePointer<UInt8>.allocate(capacity: capacity * 2)
            bigger.update(from: buffer, count: filled)
            buffer.deallocate()
            buffer = bigger
            capacity *= 2
        }
        let n = read(fd, buffer + filled, capacity - filled)
        if n < 0 {
            if errno == EINTR { continue }
            throw TextError.io(path: name, reason: String(cString: strerror(errno)))
        }
        if n == 0 { break }
        let scanFrom = filled
        filled += n
        var start = 0
        var cursor = scanFrom
        while cursor < filled, let hit = memchr(buffer + cursor, 0x0A, filled - cursor) {
            let newline = buffer.distance(to: hit.assumingMemoryBound(to: UInt8.self))
            try emit(start, newline)
            start = newline + 1
            cursor = start
        }
        if start > 0 {
            memmove(buffer, buffer + start, filled - start)  // regions may overlap
            filled -= start
        }
    }
    if filled > 0 { try emit(0, filled) }
}
