import ArgumentParser
import Foundation
import Basics
import Text

struct Vocab: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Count tokens in text files and write a vocabulary (.vocab).",
        discussion: """
            Raw text is tokenized on the way with the given tokenizer options, which are recorded \
            in the file header so that training and translation reuse them (--pretokenized splits \
            already tokenized text on spaces only, and is recorded too). Memory grows with the number of distinct tokens, \
            not with the corpus.

            File format v1: a header line '#seq2seq-vocab v1 tokens=N <options>', then one \
            'token<TAB>count' line per id: <pad> <unk> <s> </s> at ids 0-3 with count 0, then \
            tokens by count descending and UTF-8 bytes ascending, so the same input always gives \
            a byte-identical file. --max-size counts the 4 specials. Text never reaches ids 0-3: a \
            token spelled <pad>, <unk>, <s> or </s> in the input (with --pretokenized) is counted as \
            an ordinary word with its own entry after the specials.

            Coverage goes to stderr: types kept and dropped, the share of running tokens covered, \
            and with --report FILE the out-of-vocabulary rate of FILE's tokens. Inputs are UTF-8 \
            files, plain, .gz or .zst, read like every command reads lines (CRLF and a leading \
            byte-order mark removed).

            With --bpe-codes CODES (from `seq2seq bpe learn` or `subword-nmt learn-bpe`) the tokens \
            are split into BPE pieces before counting, non-final pieces marked with ￭￭ (two joiner \
            marks, which tokenizer output cannot contain, so joining them back is lossless). Every \
            character seen at least --min-count times is kept as a piece in both forms (`c` and \
            `c￭￭`, count 0 when that form was never counted; --max-size cuts other pieces first), \
            so that BPE-dropout in training \
            (`train --bpe-dropout`) can split any piece the vocabulary lacks into known ones \
            instead of `<unk>`. The codes' checksum goes into the header (bpe=…); `train --bpe-codes` then checks that it is \
            given the same codes and copies them into the model folder.

            With --spm-model MODEL (a SentencePiece .model, from spm_train or another toolkit), each \
            raw line is split into that model's pieces instead of being tokenized (SentencePiece \
            normalizes text itself; the tokenizer flags are then not used); the model's checksum \
            goes into the header (spm=…) and `train --spm-model` copies it into the model folder.
            """
    )

    @Option(parsing: .upToNextOption, help: "Text files to count (one or more).")
    var input: [String] = []
    @Option(help: "Vocabulary file to write, e.g. vocab/fr.vocab (its folder is created).")
    var output: String
    @Option(help: "Keep tokens seen at least this many times.")
    var minCount = 1
    @Option(help: "Keep at most this many entries, the 4 specials included.")
    var maxSize: Int?
    @OptionGroup var tokenizer: TokenizerFlags
    @Option(help: "Split tokens into BPE pieces with these codes (subword-nmt format) before counting.")
    var bpeCodes: String?
    @Option(help: "Split raw lines into the pieces of this SentencePiece model instead of tokenizing.")
    var spmModel: String?
    @Option(help: "Also report the out-of-vocabulary rate of this file's tokens.")
    var report: String?
    @Flag(help: "Replace invalid UTF-8 with U+FFFD instead of stopping with an error.")
    var replaceInvalid = false

    func validate() throws {
        guard !input.isEmpty else { throw ValidationError("give at least one --input FILE") }
        guard minCount >= 1 else { throw ValidationError("--min-count must be at least 1") }
        if bpeCodes != nil && spmModel != nil { throw ValidationError("give --bpe-codes or --spm-model, not both") }
        if let maxSize, maxSize < 5 {
            throw ValidationError("--max-size \(maxSize) leaves no room beside the 4 special tokens")
        }
    }

    func run() throws {
        var options = tokenizer.options
        let codes = try bpeCodes.map { try BPECodes(contentsOf: $0) }
        options.bpeCodes = codes?.checksum
        let pieces = try spmModel.map { try SentencePieceModel(contentsOf: $0) }
        options.sentencePiece = pieces?.checksum
        let tokenize = try tokenizeFunction(options, codes: codes, sentencePiece: pieces)
        var builder = VocabularyBuilder(options: options)
        for path in input {
            try forEachLineTokens(path: path, tokenize) { tokens in
                if codes == nil { builder.add(tokens: tokens) } else {
                    builder.add(pieces: tokens, separator: SubwordJoiner.tokenizerSeparator)
                }
            }
        }
        let vocabulary = builder.build(minCount: minCount, maxSize: maxSize)
        // A vocabulary of the 4 specials only would make every word <unk>: refuse to write one.
        if vocabulary.count <= TokenID.reservedCount {
            let coverage = builder.coverage(of: vocabulary)
            let files = input.joined(separator: ", ")
            throw CLIError(coverage.typesSeen == 0
                ? "\(files): no words in the input; a vocabulary of the 4 specials only would make every word <unk>"
                : "\(files): none of the \(coverage.typesSeen) word types occurs --min-count \(minCount) times; nothing to write")
        }
        // --report is read before the vocabulary is written, so a bad report file leaves nothing.
        var reportLine: String?
        if let report {
            var total = 0, unknown = 0
            try forEachLineTokens(path: report, tokenize) { tokens in
                total += tokens.count
                for token in tokens where !vocabulary.contains(token) { unknown += 1 }
            }
            reportLine = "vocab: \(report): \(total) tokens, \(unknown) out of vocabulary, OOV rate " + percent(unknown, of: total)
        }
        let folder = URL(fileURLWithPath: output).deletingLastPathComponent().path
        try? FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try vocabulary.write(to: output)

        let coverage = builder.coverage(of: vocabulary)
        printError("vocab: wrote \(output): \(vocabulary.count) entries (4 specials) [\(options.summary)]")
        printError("vocab: types seen \(coverage.typesSeen), kept \(coverage.typesKept), "
                   + "dropped \(coverage.typesDropped) (min-count \(minCount)"
                   + (maxSize.map { ", max-size \($0)" } ?? "") + ")")
        if codes != nil {
            let characters = builder.characterPieces(minCount: minCount)
            let kept = characters.filter { vocabulary.contains($0) }.count
            printError("vocab: character pieces (both forms of each character seen at least --min-count times): "
                       + (kept == characters.count ? "\(kept)" : "\(kept) of \(characters.count) (--max-size cut the rarest)"))
            if kept * 4 > vocabulary.count {
                printError("vocab: warning: character pieces take \(percent(kept, of: vocabulary.count)) of the entries; "
                           + "give a larger --max-size, or a higher --min-count to keep fewer rare characters")
            }
        }
        printError("vocab: running tokens \(coverage.runningTokens), covered "
                   + percent(coverage.runningTokensCovered, of: coverage.runningTokens))
        if let reportLine { printError(reportLine) }
    }

    private func tokenizeFunction(_ options: TokenizerOptions, codes: BPECodes?,
                                  sentencePiece: SentencePieceModel?) throws -> (String) -> [String] {
        let segmenter = try TextSegmenter(options: options, codes: codes, codesPath: bpeCodes ?? "",
                                          sentencePiece: sentencePiece, sentencePiecePath: spmModel ?? "")
        return { segmenter.tokens($0) }
    }

    private func forEachLineTokens(path: String, _ tokenize: (String) -> [String],
                                   _ body: ([String]) -> Void) throws {
        try readLines(path: path, replacingInvalid: replaceInvalid) { bytes, line in
            body(tokenize(try decodeUTF8Line(bytes, source: path, line: line, replacingInvalid: replaceInvalid)))
        }
    }

    private func percent(_ part: Int, of whole: Int) -> String {
        whole == 0 ? "n/a" : String(format: "%.2f%%", 100 * Double(part) / Double(whole))
    }
}
