// The JSON bodies of the translation routes (Foundation Codable; field names as clients send them).

/// `POST /translate` body: `{"text": ["…", …], "beam": 5, "n_best": 1}`; `beam` and `n_best` are
/// optional (the server's `--beam` and `--n-best`).
public struct TranslateRequest: Codable, Sendable, Equatable {
    /// The sentences, raw text, one per entry.
    public var text: [String]
    /// K, the beam width for this request (1 = greedy), 1...`ServerSettings.maxBeam`.
    public var beam: Int?
    /// How many translations per sentence to return with scores, 1...beam.
    public var nBest: Int?

    enum CodingKeys: String, CodingKey {
        case text, beam
        case nBest = "n_best"
    }

    public init(text: [String], beam: Int? = nil, nBest: Int? = nil) {
        self.text = text
        self.beam = beam
        self.nBest = nBest
    }
}

/// `POST /translate` answer: `translations[i]` is the best translation of `text[i]`; `n_best[i]`
/// (present when the request or the server asks for n-best lists) holds up to K of them, best first.
public struct TranslateResponse: Codable, Sendable, Equatable {
    /// One scored hypothesis of an n-best list.
    public struct Scored: Codable, Sendable, Equatable {
        /// Detokenized translation.
        public var text: String
        /// The length-normalised score the beam ranks by, log P / ((5+|y|)/6)^alpha (natural log);
        /// null if not finite.
        public var score: Double?
        /// log P: the sum of the token log-probabilities, `</s>` included; null if not finite.
        public var logProb: Double?

        enum CodingKeys: String, CodingKey {
            case text, score
            case logProb = "log_prob"
        }

        public init(text: String, score: Double?, logProb: Double?) {
            self.text = text
            self.score = score
            self.logProb = logProb
        }
    }

    /// The best translation of each sentence, in request order.
    public var translations: [String]
    /// Up to K scored translations per sentence, best first; nil unless n-best lists were asked for.
    public var nBest: [[Scored]]?

    enum CodingKeys: String, CodingKey {
        case translations
        case nBest = "n_best"
    }

    public init(translations: [String], nBest: [[Scored]]? = nil) {
        self.translations = translations
        self.nBest = nBest
    }
}

/// One entry of an OpenNMT-py `POST /translator/translate` body: `{"src": "…", "id": 100}`. `id`
/// picks the model in OpenNMT-py; this server has one model and answers every id with it.
public struct OpenNMTRequestItem: Codable, Sendable, Equatable {
    /// The sentence to translate, raw text.
    public var src: String
    /// OpenNMT-py's model id; accepted and not used.
    public var id: Int?

    public init(src: String, id: Int? = nil) {
        self.src = src
        self.id = id
    }
}

/// One entry of OpenNMT-py's answer, whose shape is `[[item]]`: the outer list has `n_best`
/// lists, the k-th holding the k-th best translation of every input, in input order (as
/// OpenNMT-py's `server.py` builds it).
public struct OpenNMTResponseItem: Codable, Sendable, Equatable {
    /// The input sentence, as sent.
    public var src: String
    /// Its translation.
    public var tgt: String
    /// The n-best list length the server returns (every item repeats it, as in OpenNMT-py).
    public var nBest: Int
    /// The hypothesis score (the length-normalised log-probability the beam ranks by); null if
    /// not finite.
    public var predScore: Double?

    enum CodingKeys: String, CodingKey {
        case src, tgt
        case nBest = "n_best"
        case predScore = "pred_score"
    }

    public init(src: String, tgt: String, nBest: Int, predScore: Double?) {
        self.src = src
        self.tgt = tgt
        self.nBest = nBest
        self.predScore = predScore
    }
}

/// Every error answer: `{"error": "one line naming the problem", "status": "error"}` (the shape
/// OpenNMT-py's server uses for its errors).
public struct ErrorResponse: Codable, Sendable, Equatable {
    /// What was wrong, one line (the `ServingError` description).
    public var error: String
    /// Always "error".
    public var status: String

    public init(error: String) {
        self.error = error
        self.status = "error"
    }
}
