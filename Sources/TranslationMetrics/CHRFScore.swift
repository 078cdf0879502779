/// A chrF / chrF++ result.
public struct CHRFScore: MetricScore, Equatable, Sendable {
    /// 0–100.
    public var score: Double
    /// `chrF2` or `chrF2++`.
    public var name: String

    /// sacreBLEU's text line, `chrF2|<signature> = 54.3` (chrF has no verbose part).
    public func formatted(signature: String = "", width: Int = 2) -> String {
        let head = signature.isEmpty ? name : "\(name)|\(signature)"
        return "\(head) = \(Format.fixed(score, width))"
    }

    /// One JSON object with the full-precision score and the signature's fields.
    public func json(signature: String, width: Int = 2, indent: Bool = true) -> String {
        var fields: [(String, String)] = [
            ("name", Format.json(name)),
            ("score", Format.json(score)),
            ("signature", Format.json(signature)),
            ("text", Format.json(formatted(signature: signature, width: width))),
        ]
        fields += signatureFields(signature)
        return jsonObject(fields, indent: indent)
    }
}
