/// A training log that cannot be read; every case names the file and, where there is one, the
/// 1-based line, so the message points straight at the bad input.
public enum TrainingLogError: Error, CustomStringConvertible, Equatable {
    /// The line is not a JSON object of the kind `seq2seq train` writes.
    case malformedLine(file: String, line: Int, reason: String)
    /// A known event lacks a field it always carries (for example a `train` line without `step`).
    case missingField(file: String, line: Int, event: String, field: String)

    public var description: String {
        switch self {
        case let .malformedLine(file, line, reason):
            return "\(file):\(line): malformed log line: \(reason)"
        case let .missingField(file, line, event, field):
            return "\(file):\(line): '\(event)' event without a numeric '\(field)' field"
        }
    }
}
