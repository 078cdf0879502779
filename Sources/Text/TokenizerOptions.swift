import Basics
/// Unicode normalization applied before segmentation.
public enum Normalization: String, Codable, Sendable, CaseIterable {
    /// Canonical composition: "e\u{301}" becomes "é"; compatibility characters are kept.
    case nfc
    /// Compatibility composition: "ﬁ" becomes "fi", "①" becomes "1", full-width letters fold.
    case nfkc
    /// Bytes pass through as they are (still validated as UTF-8).
    case none
}

/// Everything that changes what `Tokenizer` produces. Recorded in vocabulary headers (`summary`)
/// so that a model reapplies exactly the tokenization its vocabulary was built with.
public struct TokenizerOptions: Codable, Equatable, Sendable {
    public var normalization: Normalization = .nfc
    public var lowercase: Bool = false
    /// ICU locale for case mapping (`tr` maps I to ı, `el` final sigma) and for clitic splitting:
    /// `en` splits contractions before the apostrophe (`don ￭'t`), `fr`, `it` and `ca` split
    /// elisions after it (`l'￭ homme`); other languages keep ICU's word segments whole.
    public var language: String = "en"
    /// When false (the default) numbers stay whole: `3,5`, `1,000.50`, `10-20`, `2024-01-31`.
    /// When true they split into digit runs and separators: `3 ￭,￭ 5`.
    public var splitNumbers: Bool = false
    /// Lossless joiner marks (￭, U+FFED) as in OpenNMT's tokenizer; see `Tokenizer`.
    public var joiners: Bool = true
    /// Text that is already tokenized: after normalization and case mapping, lines are split on
    /// spaces and tabs only (no word segmentation, no joiners added). Recorded in the summary
    /// only when true, so that files written before the option existed read unchanged.
    public var pretokenized: Bool = false
    /// Tokens are split into BPE pieces (Sennrich et al. 2016) by the codes with this
    /// `BPECodes.checksum` (16 hex digits), with `SubwordJoiner.tokenizerSeparator`; nil for
    /// whole tokens. Recorded (`bpe=…`) only when set, so older files read unchanged; a model
    /// folder keeps the codes themselves beside the vocabulary.
    public var bpeCodes: String? = nil
    /// The side is segmented by the SentencePiece model whose file has this checksum
    /// (`SentencePieceModel.checksum`) instead of the tokenizer; recorded (`spm=…`) only when set.
    public var sentencePiece: String? = nil

    public init(normalization: Normalization = .nfc, lowercase: Bool = false, language: String = "en",
                splitNumbers: Bool = false, joiners: Bool = true, pretokenized: Bool = false, bpeCodes: String? = nil,
                sentencePiece: String? = nil) {
        // Alike on purpose: a public memberwise init, written out (Swift synthesizes only an internal one).
        self.normalization = normalization
        self.lowercase = lowercase
        self.language = language
        self.splitNumbers = splitNumbers
        self.joiners = joiners
        self.pretokenized = pretokenized
        self.bpeCodes = bpeCodes
        self.sentencePiece = sentencePiece
    }

    private enum CodingKeys: String, CodingKey {
        case normalization, lowercase, language, splitNumbers, joiners, pretokenized, bpeCodes, sentencePiece
    }

    /// JSON (model folders' config.json): `pretokenized` may be absent, as in folders written
    /// before it existed; it then reads as false.
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(normalization: try c.decode(Normalization.self, forKey: .normalization),
                  lowercase: try c.decode(Bool.self, forKey: .lowercase),
                  language: try c.decode(String.self, forKey: .language),
                  splitNumbers: try c.decode(Bool.self, forKey: .splitNumbers),
                  joiners: try c.decode(Bool.self, forKey: .joiners),
                  pretokenized: try c.decode(Bool.self, forKey: .pretokenized, default: false),
                  bpeCodes: try c.decodeIfPresent(String.self, forKey: .bpeCodes),
                  sentencePiece: try c.decodeIfPresent(String.self, forKey: .sentencePiece))
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(normalization, forKey: .normalization)
        try c.encode(lowercase, forKey: .lowercase)
        try c.encode(language, forKey: .language)
        try c.encode(splitNumbers, forKey: .splitNumbers)
        try c.encode(joiners, forKey: .joiners)
        try c.encode(pretokenized, forKey: .pretokenized)
        try c.encodeIfPresent(bpeCodes, forKey: .bpeCodes)
        try c.encodeIfPresent(sentencePiece, forKey: .sentencePiece)
    }

    /// One line of `key=value` pairs, e.g.
    /// `normalize=nfc lowercase=false lang=en split-numbers=false joiners=true`, followed by
    /// ` pretokenized=true` for pretokenized text.
    public var summary: String {
        "normalize=\(normalization.rawValue) lowercase=\(lowercase) lang=\(language) "
            + "split-numbers=\(splitNumbers) joiners=\(joiners)" + (pretokenized ? " pretokenized=true" : "")
            + (bpeCodes.map { " bpe=\($0)" } ?? "") + (sentencePiece.map { " spm=\($0)" } ?? "")
    }

    /// Parses `summary` back; every key but `pretokenized` must be present exactly once. Throws a
    /// hint string.
    public init(summary: String) throws {
        var seen: [String: String] = [:]
        for field in summary.split(separator: " ") {
            let parts = field.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard parts.count == 2 else { throw TextError.invalidOptions("field '\(field)' is not key=value") }
            let key = String(parts[0])
            guard seen[key] == nil else { throw TextError.invalidOptions("option '\(key)' appears twice") }
            seen[key] = String(parts[1])
        }
        func value(_ key: String) throws -> String {
            guard let v = seen.removeValue(forKey: key) else {
                throw TextError.invalidOptions("tokenizer option '\(key)' is missing")
            }
            return v
        }
        func flag(_ key: String) throws -> Bool {
            switch try value(key) {
            case "true": return true
            case "false": return false
            case let v: throw TextError.invalidOptions("option \(key)=\(v) is not true or false")
            }
        }
        let norm = try value("normalize")
        guard let normalization = Normalization(rawValue: norm) else {
            throw TextError.invalidOptions("normalize=\(norm) is not one of nfc, nfkc, none")
        }
        self.init(normalization: normalization, lowercase: try flag("lowercase"), language: try value("lang"),
                  splitNumbers: try flag("split-numbers"), joiners: try flag("joiners"),
                  pretokenized: seen["pretokenized"] == nil ? false : try flag("pretokenized"),
                  bpeCodes: seen.removeValue(forKey: "bpe"), sentencePiece: seen.removeValue(forKey: "spm"))
        if let extra = seen.keys.sorted().first {
            throw TextError.invalidOptions("unknown tokenizer option '\(extra)'")
        }
        try validate()
    }

    /// Throws when the language tag cannot be an ICU locale id or could not round-trip `summary`.
    public func validate() throws {
        let ok = !language.isEmpty && language.utf8.count <= 32 && language.utf8.allSatisfy {
            ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x41 && $0 <= 0x5A) || ($0 >= 0x30 && $0 <= 0x39)
                || $0 == 0x5F || $0 == 0x2D
        }
        guard ok else {
            throw TextError.invalidOptions("language '\(language)' is not a locale id such as en, fr, tr, de_CH")
        }
        if let bpeCodes, bpeCodes.utf8.count != 16 || !bpeCodes.utf8.allSatisfy({ ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x66) }) {
            throw TextError.invalidOptions("bpe=\(bpeCodes) is not a codes checksum (16 hex digits)")
        }
        if let sentencePiece, sentencePiece.utf8.count != 16 || !sentencePiece.utf8.allSatisfy({ ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x66) }) {
            throw TextError.invalidOptions("spm=\(sentencePiece) is not a model checksum (16 hex digits)")
        }
        if bpeCodes != nil && sentencePiece != nil {
            throw TextError.invalidOptions("a side uses BPE codes or a SentencePiece model, not both")
        }
    }
}
