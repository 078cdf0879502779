import ArgumentParser
import Text

struct Tokenize: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Split UTF-8 lines into space-separated tokens with joiner marks (￭).",
        discussion: """
            Reads stdin (or --input FILE) and writes one line of tokens per input line; the line \
            count never changes and an empty line stays empty. Text is normalized (NFC by default), \
            segmented with ICU's word break rules, punctuation and symbols are split off, and numbers \
            such as 3,5 / 1,000.50 / 10-20 stay whole unless --split-numbers.

            Joiner marks make the output lossless: "Hello, world!" becomes "Hello ￭, world ￭!", and \
            `seq2seq detokenize` restores the normalized text with each run of spaces, tabs and other \
            whitespace (U+2009 thin space too) folded to one space. No-break spaces are kept as tokens <nbsp> (U+00A0), \
            <nnbsp> (U+202F) and <figsp> (U+2007); a ￭ in the input is written <joiner>.

            Invalid UTF-8 stops with an error naming the line, unless --replace-invalid, which \
            replaces each ill-formed sequence with U+FFFD. Lines are read like every command reads them: a CR before the line \
            end (CRLF files) and a byte-order mark at the start are dropped; .gz and .zst files are \
            decompressed.
            """
    )

    @Option(help: "Read this file instead of stdin.")
    var input: String?
    @OptionGroup var tokenizer: TokenizerFlags
    @Flag(help: "Replace invalid UTF-8 with U+FFFD instead of stopping with an error.")
    var replaceInvalid = false

    func run() throws {
        let splitter = try Tokenizer(options: tokenizer.options)
        let source = input ?? "stdin"
        let output = StandardOutput.shared
        try readLines(path: input, replacingInvalid: replaceInvalid) { bytes, line in
            try output.append { buffer in
                guard splitter.appendTokenized(utf8: bytes, replacingInvalid: replaceInvalid, to: &buffer) else {
                    throw TextError.invalidUTF8(source: source, line: line)
                }
                buffer.append(0x0A)
            }
        }
    }
}
