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

/// Opens Corpus's line reader (the one policy for every command: "\r" before "\n" removed, a
/// leading BOM removed, plain/.gz/.zst recognised, invalid UTF-8 an error naming file and line) on
/// `path`, or on standard input (named "stdin" in errors) when `path` is nil or "-".
func openLines(_ path: String?) throws -> LineReader {
    if let path, path != "-" { return try LineReader(path: path) }
    return try LineReader()
}

/// Calls `body` with each line of `path` (stdin when nil) as bytes, read by `openLines`, and the
/// line number from 1. The bytes are valid UTF-8 unless `replacingInvalid`, in which case the body
/// must replace ill-formed sequences itself. Memory stays at one buffer plus the longest line.
func readLines(path: String?, replacingInvalid: Bool = false,
               _ body: (UnsafeBufferPointer<UInt8>, Int) throws -> Void) throws {
    let reader = try openLines(path)
    while let bytes = try reader.nextBytes(replacingInvalid: replacingInvalid) {
        try body(bytes, reader.lineNumber)
    }
}
