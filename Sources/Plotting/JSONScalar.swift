/// One value of a flat JSON-lines record. Nested arrays and objects are accepted by the parser
/// (so a future field does not break old readers) but kept only as `.nested`.
public enum JSONScalar: Equatable {
    case number(Double)
    case string(String)
    case bool(Bool)
    /// `null`; `seq2seq train` writes it for NaN and infinities.
    case null
    case nested

    /// The number, or nil for anything else (including `null`).
    public var number: Double? {
        if case let .number(value) = self { return value }
        return nil
    }

    /// The number if it is a whole number that fits an `Int` (steps, epochs).
    public var integer: Int? {
        guard let value = number, value.rounded(.towardZero) == value,
              value >= -9.0e15, value <= 9.0e15 else { return nil }
        return Int(value)
    }

    public var string: String? {
        if case let .string(value) = self { return value }
        return nil
    }
}
