/// Errors a user can act on: each names the file (and line) or option involved.
public enum TrainingError: Error, CustomStringConvertible {
    case invalidOption(String)
    case file(path: String, message: String)
    case line(path: String, line: Int, message: String)
    case mismatchedValidation(source: String, sourceLines: Int, target: String, targetLines: Int)
    case tooManyBadBatches(count: Int, step: Int)
    case incompatibleModel(path: String, message: String)

    public var description: String {
        switch self {
        case .invalidOption(let message): return message
        case .file(let path, let message): return "\(path): \(message)"
        case .line(let path, let line, let message): return "\(path):\(line): \(message)"
        case .mismatchedValidation(let source, let sourceLines, let target, let targetLines):
            return "validation files differ in length: \(source) has \(sourceLines) lines, \(target) has \(targetLines)"
        case .tooManyBadBatches(let count, let step):
            return "training stopped at step \(step): \(count) batches in a row had a NaN or infinite loss or gradient; lower --lr or enable --clip"
        case .incompatibleModel(let path, let message):
            return "\(path): \(message)"
        }
    }
}
