import ArgumentParser
import Corpus
import Foundation
import Metrics

/// `seq2seq bleu REF [REF...] [-i HYP]`: BLEU or chrF exactly as sacreBLEU 2.6's command prints them.
///
/// Output choices: `--format text` (default) prints sacreBLEU's `-f text` line with width 1 like its
/// command (`--width` changes it); `--format json` prints one object like sacreBLEU's `-f json` but with
/// the full-precision score and the statistics (precisions, counts, totals, bp, ratio, hyp_len,
/// ref_len). `--sentence` prints one line per segment (compact JSON objects with `--format json`,
/// where sacreBLEU always prints text). The signature's version is `seq2seq-<version>`, so a line can
/// never be mistaken for one printed by sacreBLEU itself.
struct Bleu: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bleu",
        abstract: "Score hypotheses with BLEU or chrF, agreeing with sacreBLEU 2.6.",
        discussion: """
            Lines are read like every seq2seq command reads them (plain, .gz or .zst; a \\r before \\n \
            and a leading byte-order mark removed), then like sacreBLEU's command: a lone \\r also ends \
            a line of standard input, and trailing whitespace is stripped. Several REF files give several references \
            per segment. Tab-separated multi-system input on standard input is not supported: a tab is \
            part of the hypothesis.
            """)

    @Argument(help: "Reference file(s), one segment per line.")
    var references: [String]

    @Option(name: [.customShort("i"), .customLong("input")], help: "Hypothesis file (default: standard input).")
    var input: String?

    @Option(help: "BLEU tokenizer: 13a, intl, char or none.")
    var tokenize: String = "13a"

    @Flag(help: "Case-insensitive scoring (BLEU and chrF).")
    var lowercase = false

    @Option(help: "BLEU smoothing: exp, floor, add-k or none.")
    var smooth: String = "exp"

    @Option(help: "Value for floor (default 0.1) and add-k (default 1) smoothing.")
    var smoothValue: Double?

    @Option(help: "bleu or chrf.")
    var metric: String = "bleu"

    @Option(help: "chrF word n-gram order; 2 gives chrF++.")
    var chrfWordOrder: Int = 0

    @Option(help: "text or json.")
    var format: String = "text"

    @Flag(help: "Print only the score.")
    var scoreOnly = false

    @Flag(help: "One sentence-level score per line (BLEU with effective order, as sacreBLEU does).")
    var sentence = false

    @Option(help: "Decimals of the printed score (sacreBLEU's command default is 1).")
    var width: Int = 1

    func validate() throws {
        if references.isEmpty { throw ValidationError("give at least one reference file") }
        if BLEUTokenizer(rawValue: tokenize) == nil {
            throw ValidationError("--tokenize must be one of 13a, intl, char, none; got '\(tokenize)'")
        }
        if BLEU.Smoothing(rawValue: smooth) == nil {
            throw ValidationError("--smooth must be one of exp, floor, add-k, none; got '\(smooth)'")
        }
        if metric != "bleu" && metric != "chrf" { throw ValidationError("--metric must be bleu or chrf; got '\(metric)'") }
        if format != "text" && format != "json" { throw ValidationError("--format must be text or json; got '\(format)'") }
        if chrfWordOrder < 0 { throw ValidationError("--chrf-word-order must be 0 or more; got \(chrfWordOrder)") }
        if width < 0 || width > 20 { throw ValidationError("--width must be between 0 and 20; got \(width)") }
    }

    func run() throws {
        let hypName = input ?? "<stdin>"
        let hypotheses: [String]
        if let input {
            hypotheses = try LineFile.read(path: input)
        } else {
            hypotheses = try LineFile.read(try LineReader(name: hypName), universalNewlines: true)
        }
        // sacreBLEU refuses an empty system too ("contains no sentence").
        if hypotheses.isEmpty { throw BleuCommandError.noLines(hypName) }
        var refs: [[String]] = []
        for path in references {
            let lines = try LineFile.read(path: path)
            if lines.count != hypotheses.count {
                throw BleuCommandError.lineCountMismatch(hypotheses: hypName, hypothesisLines: hypotheses.count,
                                                         reference: path, referenceLines: lines.count)
            }
            refs.append(lines)
        }
        let version = "seq2seq-\(seq2seqVersion)"
        let out: String
        if metric == "bleu" {
            out = report(BLEU(tokenize: BLEUTokenizer(rawValue: tokenize)!, lowercase: lowercase,
                              smooth: BLEU.Smoothing(rawValue: smooth)!, smoothValue: smoothValue,
                              effectiveOrder: sentence),
                         hypotheses, refs, version: version)
        } else {
            out = report(CHRF(wordOrder: chrfWordOrder, lowercase: lowercase), hypotheses, refs, version: version)
        }
        FileHandle.standardOutput.write(Data(out.utf8))
    }
}

extension Bleu {
    /// The corpus score, or one line per segment with `--sentence`, in the chosen form.
    func report<M: SegmentMetric>(_ metric: M, _ hypotheses: [String], _ refs: [[String]],
                                  version: String) -> String {
        let signature = metric.signature(referenceCount: refs.count, version: version)
        func render(_ s: M.Score, indent: Bool) -> String {
            scoreOnly ? s.formattedScore(width: width)
                : format == "json" ? s.json(signature: signature, width: width, indent: indent)
                : s.formatted(signature: signature, width: width)
        }
        guard sentence else {
            return render(metric.corpusScore(hypotheses: hypotheses, references: refs), indent: true) + "\n"
        }
        var out = ""
        for stats in metric.segmentStatistics(hypotheses: hypotheses, references: refs) {
            out += render(metric.score(from: stats), indent: false) + "\n"
        }
        return out
    }
}

/// Input errors of `seq2seq bleu`, each one line naming the file.
enum BleuCommandError: Error, CustomStringConvertible {
    case missingFile(String)
    case unreadable(String, String)
    case invalidUTF8(file: String, line: Int)
    case noLines(String)
    case lineCountMismatch(hypotheses: String, hypothesisLines: Int, reference: String, referenceLines: Int)

    var description: String {
        switch self {
        case .missingFile(let path): return "\(path): no such file"
        case .unreadable(let path, let why): return "\(path): cannot read (\(why))"
        case .invalidUTF8(let file, let line): return "\(file):\(line): invalid UTF-8"
        case .noLines(let file): return "\(file): no lines to score"
        case .lineCountMismatch(let h, let hn, let r, let rn):
            return "hypotheses \(h) have \(hn) lines but reference \(r) has \(rn)"
        }
    }
}

/// Whole-file line reading through Corpus's `LineReader`, then as sacreBLEU treats lines.
enum LineFile {
    /// Every line of `path` (plain, .gz or .zst), right-stripped.
    static func read(path: String) throws -> [String] {
        try read(LineReader(path: path), universalNewlines: false)
    }

    /// Every line of `reader`, right-stripped of Python whitespace; with `universalNewlines`
    /// (standard input, as Python's text mode reads it) a lone \r also ends a line.
    static func read(_ reader: LineReader, universalNewlines: Bool) throws -> [String] {
        var result: [String] = []
        while let line = try reader.next() {
            if universalNewlines && line.utf8.contains(0x0D) {
                for piece in line.utf8.split(separator: 0x0D, omittingEmptySubsequences: false) {
                    result.append(rstrip(String(Substring(piece))))
                }
            } else {
                result.append(rstrip(line))
            }
        }
        return result
    }

    /// `str.rstrip()`: only decodes the tail when the last byte could be whitespace.
    static func rstrip(_ line: String) -> String {
        guard let last = line.utf8.last, last >= 0x80 || PythonText.isSpace(UInt32(last)) else { return line }
        var scalars = line.unicodeScalars[...]
        while let s = scalars.last, PythonText.isSpace(s.value) { scalars = scalars.dropLast() }
        return String(scalars)
    }
}
