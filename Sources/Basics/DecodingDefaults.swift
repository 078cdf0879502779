/// Reading a field that older files may lack, the one way every `Codable` type of the project does
/// it (config.json, training state, batching options, tokenizer options, log lines).
extension KeyedDecodingContainer {
    /// The value stored under `key`, or `fallback` when the key is absent (a file written before the
    /// field existed). A key that is present with a value of the wrong type still throws.
    /// - Throws: `DecodingError` when the key is present but does not decode as `T`.
    public func decode<T: Decodable>(_ type: T.Type, forKey key: Key, default fallback: @autoclosure () -> T) throws -> T {
        try decodeIfPresent(type, forKey: key) ?? fallback()
    }
}
