/// Errors from user input and files read by the Text module; `description` is one user-facing line.
public enum TextError: Error, CustomStringConvertible, Equatable {
    /// A line that is not valid UTF-8. `source` is a path or "stdin"; `line` counts from 1.
    case invalidUTF8(source: String, line: Int)
    /// A vocabulary file that cannot be read as format v1.
    case malformedVocabulary(file: String, line: Int, hint: String)
    /// A BPE codes file, subword vocabulary or SentencePiece model that cannot be used.
    case malformedSubwords(file: String, line: Int, hint: String)
    /// Tokenizer options that cannot be used (bad language tag, bad header field).
    case invalidOptions(String)
    /// A file that cannot be opened, read or written; `reason` is the system's message.
    case io(path: String, reason: String)
    /// ICU refused an operation (should not happen with valid input); `name` is ICU's error name.
    case icu(operation: String, name: String)

    public var description: String {
        switch self {
        case let .invalidUTF8(source, line):
            return "\(source):\(line): invalid UTF-8 (fix the encoding, e.g. iconv -f latin1 -t utf-8, "
                + "or pass --replace-invalid to substitute U+FFFD)"
        case let .malformedVocabulary(file, line, hint):
            return "\(file):\(line): \(hint)"
        case let .malformedSubwords(file, line, hint):
            return "\(file):\(line): \(hint)"
        case let .invalidOptions(message):
            return message
        case let .io(path, reason):
            return "\(path): \(reason)"
        case let .icu(operation, name):
            return "ICU \(operation) failed: \(name)"
        }
    }
}
