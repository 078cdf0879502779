import ArgumentParser
import Text

struct Detokenize: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Join space-separated tokens back into text using their joiner marks (￭).",
        discussion: """
            The inverse of `seq2seq tokenize`: tokens are separated by one space unless one side \
            carries ￭; <nbsp>, <nnbsp>, <figsp> and <joiner> turn back into their characters. One \
            line out per line in. Invalid UTF-8 stops with an error naming the line unless \
            --replace-invalid.
            """
    )

    @Option(help: "Read this file instead of stdin.")
    var input: String?
    @Flag(help: "Replace invalid UTF-8 with U+FFFD instead of stopping with an error.")
    var replaceInvalid = false

    func run() throws {
        let source = input ?? "stdin"
        try readLines(path: input, replacingInvalid: replaceInvalid) { bytes, line in
            var text = try decodeUTF8Line(bytes, source: source, line: line, replacingInvalid: replaceInvalid)
            try StandardOutput.shared.append { buffer in
                text.withUTF8 { Detokenizer.appendDetokenized(utf8: $0, to: &buffer) }
                buffer.append(0x0A)
            }
        }
    }
}
