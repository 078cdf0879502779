/// A BLEU result with everything sacreBLEU reports.
public struct BLEUScore: MetricScore, Equatable, Sendable {
    /// 0–100.
    public var score: Double
    /// Matches per order; fractional only under add-k smoothing, which adds k to them (as sacreBLEU does).
    public var counts: [Double]
    /// Hypothesis n-grams per order (add-k included).
    public var totals: [Double]
    /// Percentages per order after smoothing.
    public var precisions: [Double]
    /// Brevity penalty.
    public var bp: Double
    public var sysLen: Int
    public var refLen: Int

    /// sys_len / ref_len, or 0 when there is no reference token.
    public var ratio: Double { refLen > 0 ? Double(sysLen) / Double(refLen) : 0 }

    public static let name = "BLEU"

    /// The part after the score: `65.3/40.1/27.0/19.1 (BP = 0.976 ratio = 0.976 hyp_len = 1234 ref_len = 1264)`.
    public var verbose: String {
        precisions.map { Format.fixed($0, 1) }.joined(separator: "/")
            + " (BP = \(Format.fixed(bp, 3)) ratio = \(Format.fixed(ratio, 3)) hyp_len = \(sysLen) ref_len = \(refLen))"
    }

    /// sacreBLEU's text line: `BLEU|<signature> = 34.1 <verbose>`, or `BLEU = …` with an empty
    /// signature. `width` is the score's decimals (sacreBLEU's command line uses 1, its API 2).
    public func formatted(signature: String = "", width: Int = 2) -> String {
        let head = signature.isEmpty ? Self.name : "\(Self.name)|\(signature)"
        return "\(head) = \(Format.fixed(score, width)) \(verbose)"
    }

    /// One JSON object (indent 1, like sacreBLEU's) with the full-precision score, the statistics
    /// and the signature's fields.
    public func json(signature: String, width: Int = 2, indent: Bool = true) -> String {
        var fields: [(String, String)] = [
            ("name", Format.json(Self.name)),
            ("score", Format.json(score)),
            ("signature", Format.json(signature)),
            ("verbose_score", Format.json(verbose)),
            ("precisions", "[" + precisions.map(Format.json).joined(separator: ", ") + "]"),
            ("counts", "[" + counts.map(jsonCount).joined(separator: ", ") + "]"),
            ("totals", "[" + totals.map(jsonCount).joined(separator: ", ") + "]"),
            ("bp", Format.json(bp)),
            ("ratio", Format.json(ratio)),
            ("hyp_len", String(sysLen)),
            ("ref_len", String(refLen)),
            ("text", Format.json(formatted(signature: signature, width: width))),
        ]
        fields += signatureFields(signature)
        return jsonObject(fields, indent: indent)
    }
}

/// Integer-valued counts print as integers, add-k's fractional ones as floats.
func jsonCount(_ x: Double) -> String {
    x == x.rounded() && abs(x) < 1e15 ? String(Int(x)) : Format.json(x)
}

/// The `key:value` pairs of a signature as JSON string fields, as sacreBLEU adds them.
func signatureFields(_ signature: String) -> [(String, String)] {
    signature.split(separator: "|").compactMap { pair -> (String, String)? in
        let parts = pair.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
        guard parts.count == 2 else { return nil }
        return (String(parts[0]), Format.json(String(parts[1])))
    }
}

func jsonObject(_ fields: [(String, String)], indent: Bool) -> String {
    if !indent {
        return "{" + fields.map { "\(Format.json($0.0)): \($0.1)" }.joined(separator: ", ") + "}"
    }
    return "{\n" + fields.map { " \(Format.json($0.0)): \($0.1)" }.joined(separator: ",\n") + "\n}"
}
