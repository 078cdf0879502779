/// One line describing a JSON decoding failure: the key path (`model.hidden`) and the reason, for
/// error messages that name a file (any other error: its description, on one line).
public func oneLineDescription(of error: Error) -> String {
    func path(_ codingPath: [CodingKey]) -> String {
        let text = codingPath.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
        return text.isEmpty ? "" : "at \(text): "
    }
    let text: String
    switch error as? DecodingError {
    case .typeMismatch(_, let context)?, .valueNotFound(_, let context)?, .dataCorrupted(let context)?:
        text = path(context.codingPath) + context.debugDescription
    case .keyNotFound(let key, let context)?:
        text = path(context.codingPath) + "key \(key.stringValue) is missing"
    default:
        text = "\(error)"
    }
    return oneLine(text)
}

/// `text` with line breaks turned into spaces and cut to 300 characters.
public func oneLine(_ text: String) -> String {
    let flat = String(text.map { $0.isNewline ? " " : $0 })
    return flat.count > 300 ? String(flat.prefix(300)) + "…" : flat
}
