import ArgumentParser
import Corpus
import Decoding
import Foundation
import Kernels
import ModelFolder
import Training
import Translation

/// Search options shared by `translate`, `evaluate` and `bench translate`.
struct SearchArguments: ParsableArguments {
    @Option(help: "Beam size; 1 is greedy decoding.") var beam: Int = 5
    @Option(help: "GNMT length penalty alpha: hypotheses are ranked by logP / ((5+|y|)/6)^alpha; 0 ranks by logP.")
    var lengthPenalty: Double = 0.6
    @Option(help: "Maximum output length is ratio·|source| + --max-length tokens.") var maxLengthRatio: Double = 2
    @Option(help: "Tokens added to the length limit (b in a·|source| + b).") var maxLength: Int = 10
    @Option(help: "Unknown words in the output: forbid (pick the best known word), keep (print <unk>) or replace (as --replace-unk).")
    var unk: UnknownWordPolicy = .forbid
    @Flag(help: "Let <unk> be chosen, then copy in its place the source token with the highest attention weight (Luong et al. 2015b; models with attention). Same as --unk replace.")
    var replaceUnk = false

    /// The policy `--unk` and `--replace-unk` ask for.
    var unknownWords: UnknownWordPolicy { replaceUnk ? .replace : unk }

    /// Called from `run()` (not as ArgumentParser's `validate()`) so that the range checks are the
    /// same code for translate and evaluate; `Seq2Seq.main` reports the thrown error as one line.
    func check() throws {
        if replaceUnk && unk != .forbid && unk != .replace {
            throw ValidationError("--replace-unk and --unk \(unk.rawValue) disagree; give one of them")
        }
        guard beam >= 1 else { throw ValidationError("--beam must be at least 1") }
        guard beam <= 1000 else { throw ValidationError("--beam must be at most 1000") }
        guard lengthPenalty >= 0 else { throw ValidationError("--length-penalty must be >= 0") }
        guard maxLengthRatio > 0, maxLength >= 0 else { throw ValidationError("--max-length-ratio must be > 0 and --max-length >= 0") }
        // The remaining ranges (finite penalty, ratio ≤ 1000, offset ≤ 1e6) are Decoding's own.
        do { try searchOptions.validate() } catch let error as DecodingError {
            guard case .invalidOption(let message) = error else { throw error }
            throw ValidationError(message)
        }
    }

    var searchOptions: SearchOptions {
        var o = SearchOptions()
        o.beamSize = beam
        o.lengthPenalty = lengthPenalty
        o.maxLengthRatio = maxLengthRatio
        o.maxLengthOffset = maxLength
        return o
    }
}

extension UnknownWordPolicy: ExpressibleByArgument {}

/// What `translate` does with an input line that is not valid UTF-8 (`--on-invalid`).
enum InvalidInputPolicy: String, ExpressibleByArgument, CaseIterable {
    /// Stop with `FILE:LINE: invalid UTF-8`, after writing the translations of every line before it.
    case error
    /// Write an empty line in its place (so output lines still match input lines) and warn.
    case skip
    /// Decode it with U+FFFD in place of each ill-formed sequence, and translate that.
    case replace
}

extension CheckpointChoice: ExpressibleByArgument {}

struct Translate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Translate sentences from stdin (or --input) with beam search, one line out per line in.",
        discussion: """
        Applies the model's recorded normalization, tokenization, vocabulary and source reversal, then \
        detokenizes. From a terminal (or with --flush) each line is answered as soon as it is read; \
        piped input is decoded in length-sorted batches, and each batch's lines are written (in input \
        order) as soon as they and every line before them are translated. An empty line gives an empty \
        line. A source of any length is translated whole: the encoder reads long sources in chunks, so \
        memory stays bounded (a bidirectional encoder reads each sentence whole).

        Piped input that stalls (0.2 s without a new line, or 2 s since the oldest line waiting) has \
        what was read so far translated and written, so a slow producer sees its answers. Ctrl-C \
        (SIGINT) or SIGTERM stops reading, translates and writes every line already read (whole lines, \
        a prefix of the full output) and exits with status 130 or 143; a second signal exits at once.

        --n-best K writes K lines per input line, best first, in the Moses/Marian n-best format: \
        `N ||| TEXT ||| F0= LOGPROB ||| SCORE`, N the input line number counted from 0, LOGPROB the \
        sum of the token log-probabilities (natural log, </s> included) and SCORE the length-normalised \
        score the beam ranks by (log P / ((5+|y|)/6)^alpha); an empty input line gives one empty \
        translation with scores 0. With --rescore-with, `F0= LOGPROB F1= RESCORE`, F1 the rescoring \
        models' mean log-probability, and SCORE ((1 − λ)·F0 + λ·F1) / ((5+|y|)/6)^alpha.

        Several --model folders translate as an ensemble: each beam step scores the weighted mean \
        (--weights) of the members' log-probabilities; the members share the target vocabulary and \
        each reads the source its own way.

        --alignment (models with attention) appends Marian's hard alignment to each output line, \
        `TEXT ||| S-T S-T ...`: for each target token T (counted from 0, before detokenization) the \
        source token S (of the tokenized input, from 0) with the highest attention weight when T was \
        produced. With --n-best the alignment is a field after the text: `N ||| TEXT ||| ALIGNMENT ||| F0= ...`.
        """)

    @OptionGroup var translation: TranslatorArguments
    @Option(help: "Read sentences from FILE instead of stdin.") var input: String?
    @Flag(help: "Append the hard alignment `||| S-T ...` (source-target token pairs, from 0) to each line (models with attention).")
    var alignment = false
    @Option(help: "Sentences decoded together when input is piped (default 64; not with --flush).") var batchSize: Int?
    @Flag(help: "Translate and write each line as soon as it is read.") var flush = false
    @Option(help: "A line that is not UTF-8: error (stop, naming the line, after writing every line before it), skip (write an empty line and warn) or replace (U+FFFD for each ill-formed sequence).")
    var onInvalid: InvalidInputPolicy = .error

    /// Piped input that stalls this long (milliseconds) has what was read so far translated and written.
    static let stallMilliseconds = 200
    /// A line read is written at most about this long (milliseconds, plus its translation) after it
    /// arrived, however slowly the following lines come.
    static let waitMilliseconds = 2000

    func run() throws {
        try translation.check()
        let nBest = translation.nBest
        if flush && batchSize != nil {
            throw ValidationError("--batch-size has no effect with --flush, which translates each line as it is read")
        }
        let batchSize = self.batchSize ?? 64
        guard batchSize >= 1 else { throw ValidationError("--batch-size must be at least 1") }
        guard batchSize <= maximumBatchSize else { throw ValidationError("--batch-size must be at most \(maximumBatchSize)") }
        if let input {
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: input, isDirectory: &isDirectory), isDirectory.boolValue {
                throw CLIError("\(input): is a directory, not a text file")
            }
        }
        StopSignals.install()
        let translator = try translation.makeTranslator()
        if alignment && translator.directory.config.model.attention == .none {
            throw CLIError("\(translation.model[0]): --alignment needs a model with attention (train --attention), this one has none")
        }
        let lines = try openLines(input)
        let out = StandardOutput.shared
        let interactive = flush || lines.isTerminal
        var lineNumber = 0  // of the next line written, from 0 (Moses/Marian n-best numbering)

        func write(_ translations: [Translation]) throws {
            if translations.isEmpty && nBest > 1 {
                // A line skipped by --on-invalid skip: one empty translation, as for an empty line.
                try out.writeLine("\(lineNumber) ||| \(alignment ? " ||| " : "")||| F0= 0.0000 ||| 0.0000")
            } else if nBest == 1 {
                let best = translations.first
                try out.writeLine((best?.text ?? "") + (alignment ? " ||| " + (best?.alignmentPairs ?? "") : ""))
            } else {
                for t in translations {
                    let pairs = alignment ? " ||| \(t.alignmentPairs)" : ""
                    let f1 = t.rescoringLogProb.map { " F1= " + String(format: "%.4f", $0) } ?? ""
                    try out.writeLine("\(lineNumber) ||| \(t.text)\(pairs) ||| F0= \(String(format: "%.4f", t.logProb))\(f1) ||| \(String(format: "%.4f", t.score))")
                }
            }
            lineNumber += 1
        }

        /// The next input line, read with every finished line already written: a stop signal that
        /// arrives while waiting for input exits at once (nothing finished is pending). A line that
        /// is not UTF-8 is handled by `--on-invalid`: an error naming the line (thrown), U+FFFD in
        /// place of each ill-formed sequence, or skipped (nil line: written as an empty line, with a
        /// warning naming the line).
        func nextLine(waiting: Bool = true) throws -> String?? {
            try out.flush()
            let read = { () throws -> String?? in
                guard let bytes = try lines.nextBytes(replacingInvalid: true) else { return .none }
                if !LineReader.isWellFormedUTF8(bytes) {
                    switch onInvalid {
                    case .error: throw CorpusError.invalidUTF8(path: lines.path, line: lines.lineNumber)
                    case .skip:
                        printError("translate: warning: \(lines.path):\(lines.lineNumber): invalid UTF-8; written as an empty line (--on-invalid skip)")
                        return .some(nil)
                    case .replace: break  // String(decoding:) puts U+FFFD in place of each ill-formed sequence
                    }
                }
                return .some(String(decoding: bytes, as: UTF8.self))
            }
            return waiting ? try StopSignals.whileWaitingForInput(read) : try read()
        }

        if interactive {
            while let line = try nextLine() {
                if let line { try write(translator.translate([line])[0]) } else { try write([]) }
            }
        } else {
            // Bounded memory: read a chunk, translate it in length-sorted batches, and after each
            // batch write the lines that are finished and have no unfinished line before them. A
            // chunk is translated when it is full, at the end of input, when input stalls
            // (`stallMilliseconds` without a new line, or its first line read `waitMilliseconds`
            // ago), before an input error is reported, and after a stop signal: every line read is
            // written.
            let chunkSize = batchSize * 16
            var chunk: [String?] = []
            var chunkStarted = 0.0
            func translateChunk() throws {
                let order = chunk.indices.sorted { (chunk[$0]?.utf8.count ?? 0, $0) < (chunk[$1]?.utf8.count ?? 0, $1) }
                    .filter { chunk[$0] != nil }
                var results = chunk.map { $0 == nil ? [Translation]() : nil }
                var written = 0
                func writeFinished() throws {
                    while written < results.count, let translations = results[written] {
                        try write(translations)
                        written += 1
                    }
                    try out.flush()
                }
                try writeFinished()
                var start = 0
                while start < order.count {
                    let batch = Array(order[start..<min(start + batchSize, order.count)])
                    let translated = translator.translate(batch.map { chunk[$0]! })
                    for (k, index) in batch.enumerated() { results[index] = translated[k] }
                    start += batchSize
                    try writeFinished()
                }
                chunk.removeAll(keepingCapacity: true)
            }
            while true {
                if !chunk.isEmpty {
                    let waited = Int((monotonicSeconds() - chunkStarted) * 1000)
                    let ready = try lines.waitForLine(milliseconds: min(Self.stallMilliseconds, max(0, Self.waitMilliseconds - waited)))
                    if StopSignals.exitStatus != nil || !ready {
                        try translateChunk()
                        continue
                    }
                }
                let line: String??
                do {
                    line = try nextLine(waiting: chunk.isEmpty)
                } catch {
                    // Lines before a fault are always written.
                    if !chunk.isEmpty { try translateChunk() }
                    throw error
                }
                guard let line else { break }
                if chunk.isEmpty { chunkStarted = monotonicSeconds() }
                chunk.append(line)
                if chunk.count == chunkSize { try translateChunk() }
            }
            if !chunk.isEmpty { try translateChunk() }
        }
        if let status = StopSignals.exitStatus { throw ExitCode(status) }
    }
}
