import ArgumentParser
import Corpus
import Foundation
import TranslationMetrics

/// `seq2seq bleu REF [REF...] [-i HYP]`: BLEU and chrF exactly as sacreBLEU 2.6's command prints them,
/// with sacreBLEU's option names (`-m bleu chrf -lc -tok intl -w 2 -b …`).
///
/// Output choices: `--format text` (default; sacreBLEU's own default is json) prints sacreBLEU's `-f
/// text` lines with width 1 like its command (`--width` changes it); several metrics come sorted by
/// name (BLEU, then chrF) with the lines aligned on `=`, as sacreBLEU aligns them. `--format json`
/// prints one object per metric like sacreBLEU's `-f json` but with the full-precision score and the
/// statistics (precisions, counts, totals, bp, ratio, hyp_len, ref_len), several metrics as a JSON
/// array. `--score-only` prints the scores alone, one per line (a JSON array of numbers for several
/// metrics with json). `--sentence-level` prints one line per segment for one metric (compact JSON
/// objects with `--format json`, where sacreBLEU always prints text). The signature's version is
/// `seq2seq-<version>`, so a line can never be mistaken for one printed by sacreBLEU itself.
struct Bleu: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bleu",
        abstract: "Score hypotheses with BLEU and chrF, agreeing with sacreBLEU 2.6 (same options).",
        discussion: """
            Lines are read like every seq2seq command reads them (plain, .gz or .zst; a \\r before \\n \
            and a leading byte-order mark removed), then like sacreBLEU's command: a lone \\r also ends \
            a line of standard input, and trailing whitespace is stripped. Several REF files give several references \
            per segment. Tab-separated multi-system input on standard input is not supported: a tab is \
            part of the hypothesis.

            Options are sacreBLEU's, short and long: `seq2seq bleu REF -i HYP -m bleu chrf -lc -tok intl \
            -w 2` prints what `sacrebleu REF -i HYP -m bleu chrf -lc -tok intl -w 2 -f text` prints \
            (text is the default here, json is sacreBLEU's), with the version in the signature changed. \
            As in sacreBLEU, -lc lowercases BLEU only; chrF has --chrf-lowercase.
            """)

    @Argument(help: "Reference file(s), one segment per line.")
    var references: [String]

    @Option(name: [.customShort("i"), .customLong("input")], help: "Hypothesis file (default: standard input).")
    var input: String?

    @Option(name: [.customShort("m"), .customLong("metrics"), .customLong("metric")], parsing: .upToNextOption,
            help: "Metrics, one or more of bleu and chrf (printed in that order).")
    var metrics: [String] = ["bleu"]

    @Option(name: [.customLong("tok", withSingleDash: true), .customLong("tokenize")],
            help: "BLEU tokenizer: 13a (default), intl, char or none.")
    var tokenize: String?

    @Flag(name: [.customLong("lc", withSingleDash: true), .customLong("lowercase")],
          help: "Case-insensitive BLEU (as sacreBLEU's -lc; chrF has --chrf-lowercase).")
    var lowercase = false

    @Option(name: [.customShort("s"), .customLong("smooth-method"), .customLong("smooth")],
            help: "BLEU smoothing: exp (default), floor, add-k or none.")
    var smooth: String?

    @Option(name: [.customLong("sv", withSingleDash: true), .customLong("smooth-value")],
            help: "Value for floor (default 0.1) and add-k (default 1) smoothing.")
    var smoothValue: Double?

    @Option(name: [.customLong("cc", withSingleDash: true), .customLong("chrf-char-order")],
            help: "chrF character n-gram order (default 6).")
    var chrfCharOrder: Int?

    @Option(name: [.customLong("cw", withSingleDash: true), .customLong("chrf-word-order")],
            help: "chrF word n-gram order (default 0); 2 gives chrF++.")
    var chrfWordOrder: Int?

    @Option(help: "chrF beta (default 2): recall weighs beta times as much as precision.")
    var chrfBeta: Int?

    @Flag(help: "Case-insensitive chrF.")
    var chrfLowercase = false

    @Flag(help: "Keep whitespace in chrF's character n-grams.")
    var chrfWhitespace = false

    @Flag(help: "chrF++.py/Moses eps smoothing instead of sacreBLEU's effective order.")
    var chrfEpsSmoothing = false

    @Option(name: [.customShort("f"), .customLong("format")], help: "text or json.")
    var format: String = "text"

    @Flag(name: [.customShort("b"), .customLong("score-only")], help: "Print only the score(s).")
    var scoreOnly = false

    @Flag(name: [.customLong("sl", withSingleDash: true), .customLong("sentence-level"), .customLong("sentence")],
          help: "One sentence-level score per line, for one metric (BLEU with effective order, as sacreBLEU does).")
    var sentence = false

    @Option(name: [.customShort("w"), .customLong("width")],
            help: "Decimals of the printed score (sacreBLEU's command default is 1).")
    var width: Int = 1

    /// The largest chrF character or word n-gram order accepted (sacreBLEU's defaults are 6 and 0/2).
    static let maximumOrder = 100

    func validate() throws {
        if references.isEmpty { throw ValidationError("give at least one reference file") }
        if metrics.isEmpty { throw ValidationError("--metrics needs at least one of bleu, chrf") }
        for metric in metrics where metric != "bleu" && metric != "chrf" {
            throw ValidationError("--metrics takes bleu and chrf; got '\(metric)'")
        }
        if sentence && Set(metrics).count > 1 {
            throw ValidationError("--sentence-level scores one metric at a time; got \(metrics.joined(separator: " "))")
        }
        // An option of a metric that is not computed would be silently ignored: refuse it.
        if !metrics.contains("bleu") {
            let given = [("-tok", tokenize != nil), ("-lc", lowercase), ("-s", smooth != nil), ("-sv", smoothValue != nil)]
                .filter(\.1).map(\.0)
            if !given.isEmpty {
                throw ValidationError("\(given.joined(separator: ", ")) \(given.count == 1 ? "applies" : "apply") only to BLEU, which --metrics does not include")
            }
        }
        if !metrics.contains("chrf") {
            let given = [("--chrf-char-order", chrfCharOrder != nil), ("--chrf-word-order", chrfWordOrder != nil),
                         ("--chrf-beta", chrfBeta != nil), ("--chrf-lowercase", chrfLowercase),
                         ("--chrf-whitespace", chrfWhitespace), ("--chrf-eps-smoothing", chrfEpsSmoothing)]
                .filter(\.1).map(\.0)
            if !given.isEmpty {
                throw ValidationError("\(given.joined(separator: ", ")) \(given.count == 1 ? "applies" : "apply") only to chrF, which --metrics does not include")
            }
        }
        if let tokenize, BLEUTokenizer(rawValue: tokenize) == nil {
            throw ValidationError("--tokenize must be one of 13a, intl, char, none; got '\(tokenize)'")
        }
        if let smooth, BLEU.Smoothing(rawValue: smooth) == nil {
            throw ValidationError("--smooth-method must be one of exp, floor, add-k, none; got '\(smooth)'")
        }
        if smoothValue != nil && smooth != "floor" && smooth != "add-k" {
            throw ValidationError("--smooth-value only applies to --smooth-method floor or add-k")
        }
        if format != "text" && format != "json" { throw ValidationError("--format must be text or json; got '\(format)'") }
        let charOrder = chrfCharOrder ?? 6, wordOrder = chrfWordOrder ?? 0
        if charOrder < 0 || wordOrder < 0 || charOrder + wordOrder == 0 {
            throw ValidationError("--chrf-char-order and --chrf-word-order must be 0 or more, and not both 0")
        }
        // n-gram tables are kept per order: an order in the billions would ask for gigabytes.
        if charOrder > Self.maximumOrder || wordOrder > Self.maximumOrder {
            throw ValidationError("--chrf-char-order and --chrf-word-order must be at most \(Self.maximumOrder); got \(charOrder) and \(wordOrder)")
        }
        if let smoothValue, !(smoothValue.isFinite && smoothValue >= 0) {
            throw ValidationError("--smooth-value must be a finite number >= 0; got \(smoothValue)")
        }
        if let chrfBeta, chrfBeta < 1 { throw ValidationError("--chrf-beta must be at least 1; got \(chrfBeta)") }
        if width < 0 || width > 20 { throw ValidationError("--width must be between 0 and 20; got \(width)") }
    }

    func run() throws {
        let hypName = input ?? "stdin"
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
        // validate() has checked both raw values.
        guard let tokenizer = BLEUTokenizer(rawValue: tokenize ?? "13a"),
              let smoothing = BLEU.Smoothing(rawValue: smooth ?? "exp") else {
            throw ValidationError("invalid --tokenize or --smooth-method")
        }
        // sacreBLEU computes each named metric once, in sorted name order (BLEU, CHRF).
        var results: [[String]] = []
        if metrics.contains("bleu") {
            results.append(report(BLEU(tokenize: tokenizer, lowercase: lowercase, smooth: smoothing,
                                       smoothValue: smoothValue, effectiveOrder: sentence),
                                  hypotheses, refs, version: version))
        }
        if metrics.contains("chrf") {
            results.append(report(CHRF(charOrder: chrfCharOrder ?? 6, wordOrder: chrfWordOrder ?? 0, beta: chrfBeta ?? 2,
                                       lowercase: chrfLowercase, whitespace: chrfWhitespace,
                                       epsSmoothing: chrfEpsSmoothing),
                                  hypotheses, refs, version: version))
        }
        for line in Self.arrange(results, json: format == "json", scoreOnly: scoreOnly, sentence: sentence) {
            try StandardOutput.shared.writeLine(line)
        }
    }

    /// The printed lines for the rendered results of each metric (one string each, or one per segment
    /// with `--sentence-level`, which allows one metric only). Several corpus results are combined as
    /// sacreBLEU's `print_single_results` does: text lines right-aligned on the ` = ` before the
    /// score (score-only lines as they are), json as an array.
    static func arrange(_ results: [[String]], json: Bool, scoreOnly: Bool, sentence: Bool) -> [String] {
        let lines = results.flatMap { $0 }
        if sentence || lines.count <= 1 { return lines }
        if json { return ["[\n" + lines.joined(separator: ",\n") + "\n]"] }
        if scoreOnly { return lines }
        let heads = lines.map { line in line.range(of: " = ").map { line.distance(from: line.startIndex, to: $0.lowerBound) } ?? 0 }
        let width = heads.max() ?? 0
        return zip(lines, heads).map { String(repeating: " ", count: width - $1) + $0 }
    }
}

extension Bleu {
    /// The corpus score as one string, or one string per segment with `--sentence-level`, in the chosen form.
    func report<M: SegmentMetric>(_ metric: M, _ hypotheses: [String], _ refs: [[String]],
                                  version: String) -> [String] {
        let signature = metric.signature(referenceCount: refs.count, version: version)
        func render(_ s: M.Score, indent: Bool) -> String {
            scoreOnly ? s.formattedScore(width: width)
                : format == "json" ? s.json(signature: signature, width: width, indent: indent)
                : s.formatted(signature: signature, width: width)
        }
        guard sentence else {
            return [render(metric.corpusScore(hypotheses: hypotheses, references: refs), indent: true)]
        }
        return metric.segmentStatistics(hypotheses: hypotheses, references: refs).map {
            render(metric.score(from: $0), indent: false)
        }
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
    /// The longest segment (line) `bleu` scores: 1 MiB, about 150,000 words; far above any
    /// sentence, and it bounds the n-gram counts' memory (about 60 MB).
    static let maximumSegmentBytes = 1 << 20

    /// Every line of `path` (plain, .gz or .zst), right-stripped.
    static func read(path: String) throws -> [String] {
        try read(LineReader(path: path), universalNewlines: false)
    }

    /// Every line of `reader`, right-stripped of Python whitespace; with `universalNewlines`
    /// (standard input, as Python's text mode reads it) a lone \r also ends a line.
    static func read(_ reader: LineReader, universalNewlines: Bool) throws -> [String] {
        var result: [String] = []
        while let line = try reader.next() {
            // Counting a segment's n-grams takes about 60 bytes per byte of text: bound it.
            if line.utf8.count > maximumSegmentBytes {
                throw CLIError("\(reader.path):\(reader.lineNumber): a segment of \(line.utf8.count) bytes; "
                               + "bleu scores segments of at most \(maximumSegmentBytes >> 20) MiB (is this one sentence per line?)")
            }
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
