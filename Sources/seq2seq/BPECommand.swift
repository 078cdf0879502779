import ArgumentParser
import Basics
import Foundation
import Text

/// `seq2seq bpe …`: byte-pair encoding compatible with subword-nmt (Sennrich et al. 2016).
struct BPE: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bpe",
        abstract: "Learn and apply byte-pair-encoding subwords, compatible with subword-nmt.",
        discussion: """
            All three read tokenized text (the output of `seq2seq tokenize`): words are separated \
            by spaces. Codes and vocabulary files are subword-nmt's formats, so codes made by \
            `subword-nmt learn-bpe` work here and the other way round, with the same merges and \
            the same segmentation.
            """,
        subcommands: [BPELearn.self, BPEApply.self, BPEVocab.self, BPEUndo.self]
    )
}

struct BPELearn: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "learn",
        abstract: "Learn BPE merges from tokenized text (like subword-nmt learn-bpe).",
        discussion: """
            Words of every --input file are counted together (joint BPE over source and target \
            when both are given; give one side's files for per-side codes). Each merge joins the \
            most frequent pair of adjacent symbols, ties going to the pair greater as text, with \
            subword-nmt's pruning, so the merges and their order equal `subword-nmt learn-bpe`'s \
            on the same input. The codes file starts with '#version: 0.2' and is written \
            atomically (nothing is written on error).
            """
    )

    @Option(parsing: .upToNextOption, help: "Tokenized text files (one or more; plain, .gz or .zst).")
    var input: [String] = []
    @Option(help: "Number of merges to learn (subword-nmt's --symbols).")
    var merges: Int = 10_000
    @Flag(help: "Treat --merges as a budget of symbols in all: subtract the number of distinct characters first (subword-nmt's --total-symbols).")
    var totalSymbols = false
    @Option(help: "Stop when no pair occurs at least this often.")
    var minFrequency: Int = 2
    @Option(help: "Codes file to write, e.g. vocab/joint.bpe.")
    var output: String

    func validate() throws {
        guard !input.isEmpty else { throw ValidationError("give at least one --input FILE") }
        guard merges >= 0 && merges <= 100_000_000 else { throw ValidationError("--merges must be between 0 and 100000000") }
        guard minFrequency >= 1 else { throw ValidationError("--min-frequency must be at least 1") }
    }

    func run() throws {
        var learner = BPELearner()
        for path in input {
            try readLines(path: path) { bytes, _ in learner.add(line: bytes) }
        }
        var stoppedAt: Int?
        let codes = learner.learn(merges: merges, minimumFrequency: minFrequency, totalSymbols: totalSymbols) { stoppedAt = $0 }
        try codes.write(to: output)
        let reason = stoppedAt.map { " (stopped: the best pair occurs \($0) times, below --min-frequency \(minFrequency))" } ?? ""
        printError("bpe learn: wrote \(output): \(codes.merges.count) merges from \(learner.wordCount) distinct words\(reason)")
    }
}

/// Options that say how codes are applied, shared by `bpe apply` and the commands that take codes.
struct BPEApplyFlags: ParsableArguments {
    @Option(help: "Use only the first N merges of the codes file.")
    var merges: Int?
    @Option(help: "Appended to every piece but a word's last.")
    var separator: String = "@@"
    @Option(help: "subword-nmt vocabulary file (`seq2seq bpe vocab` / get-vocab): undo merges that make pieces it lacks.")
    var vocabulary: String?
    @Option(help: "With --vocabulary: pieces counted fewer times than this count as missing.")
    var vocabularyThreshold: Int?
    @Option(parsing: .upToNextOption, help: "Regular expressions of words never split (subword-nmt's --glossaries).")
    var glossaries: [String] = []

    func validate() throws {
        if let merges, merges < 0 { throw ValidationError("--merges must be at least 0") }
        if vocabularyThreshold != nil && vocabulary == nil {
            throw ValidationError("--vocabulary-threshold needs --vocabulary")
        }
        guard !separator.isEmpty, !separator.contains(" "), !separator.contains("\t") else {
            throw ValidationError("--separator must be non-empty and without spaces")
        }
    }

    /// The encoder for `codesPath`. Throws `TextError` naming the codes or vocabulary file.
    func encoder(codesPath: String) throws -> BPEEncoder {
        let codes = try BPECodes(contentsOf: codesPath)
        let words = try vocabulary.map { try SubwordVocabulary.read(contentsOf: $0, threshold: vocabularyThreshold) }
        return try BPEEncoder(codes: codes, merges: merges, separator: separator, vocabulary: words, glossaries: glossaries)
    }
}

struct BPEApply: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "apply",
        abstract: "Split the words of tokenized text into BPE pieces (a filter, like subword-nmt apply-bpe).",
        discussion: """
            Reads stdin (or --input) and writes one line per line: each word is split by the codes \
            (`wor@@ ld`), exactly as `subword-nmt apply-bpe` splits it, with the same --merges, \
            --separator, --vocabulary, --vocabulary-threshold and --glossaries. Joiner marks (￭) \
            of `seq2seq tokenize` stay in their pieces, so `seq2seq bpe undo` and `seq2seq \
            detokenize` give the text back.
            """
    )

    @Option(help: "Codes file (from `seq2seq bpe learn` or `subword-nmt learn-bpe`).")
    var codes: String
    @Option(help: "Read this file instead of stdin.")
    var input: String?
    @OptionGroup var flags: BPEApplyFlags

    func run() throws {
        let encoder = try flags.encoder(codesPath: codes)
        let output = StandardOutput.shared
        try readLines(path: input) { bytes, _ in
            try output.append { buffer in
                encoder.appendSegmented(line: bytes, to: &buffer)
                buffer.append(0x0A)
            }
        }
    }
}

struct BPEVocab: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vocab",
        abstract: "Count the words of BPE-split text in subword-nmt's vocabulary format (like get-vocab).",
        discussion: """
            Writes 'word count' lines, by count descending, ties in order of first occurrence, to \
            --output (atomically) or stdout. The file is what `bpe apply --vocabulary` reads.
            """
    )

    @Option(parsing: .upToNextOption, help: "Text files (stdin when none).")
    var input: [String] = []
    @Option(help: "File to write (stdout when not given).")
    var output: String?

    func run() throws {
        var counter = SubwordVocabulary.Counter()
        for path in input.isEmpty ? [nil] : input.map(Optional.some) {
            try readLines(path: path) { bytes, _ in counter.add(line: bytes) }
        }
        if let output {
            try AtomicFileWriter.write(counter.serialized().utf8, to: output, sync: false)
        } else {
            try StandardOutput.shared.write(counter.serialized())
        }
    }
}

struct BPEUndo: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "undo",
        abstract: "Join BPE pieces back into words (removes the separator and the space after it).",
        discussion: """
            The inverse of `bpe apply`: a piece ending in the separator is glued to the next one \
            ('wor@@ ld' → 'world'), as `sed -r 's/(@@ )|(@@ ?$)//g'` does.
            """
    )

    @Option(help: "Read this file instead of stdin.")
    var input: String?
    @Option(help: "The separator the pieces were written with.")
    var separator: String = "@@"

    func validate() throws {
        guard !separator.isEmpty, !separator.contains(" ") else { throw ValidationError("--separator must be non-empty and without spaces") }
    }

    func run() throws {
        let mark = Array(separator.utf8)
        try readLines(path: input) { bytes, _ in
            try StandardOutput.shared.append { buffer in
                SubwordJoiner.appendJoined(line: bytes, separator: mark, to: &buffer)
                buffer.append(0x0A)
            }
        }
    }
}
