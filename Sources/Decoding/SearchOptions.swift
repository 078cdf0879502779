#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Settings of `BeamSearch.search` and `BeamSearch.greedy`; the defaults are `translate`'s.
public struct SearchOptions: Sendable, Equatable {
    /// K: live hypotheses kept per sentence. 1 = greedy decoding.
    public var beamSize: Int = 5
    /// GNMT alpha (Wu et al. 2016, eq. 14): scores are logProb / ((5+len)/6)^alpha;
    /// 0 = rank by raw log-probability, larger values favour longer outputs.
    public var lengthPenalty: Double = 0.6
    /// a in the maximum output length a·|source| + b (tokens, eos not counted).
    public var maxLengthRatio: Double = 2.0
    /// b in the maximum output length a·|source| + b.
    public var maxLengthOffset: Int = 10
    /// How many finished hypotheses to return per sentence, best first (≤ beamSize).
    public var nBest: Int = 1
    /// Fed to every row at the first step.
    public var bos: Int32 = 2
    /// Ends a hypothesis; never part of `Hypothesis.tokens`.
    public var eos: Int32 = 3
    /// Ids never emitted (default: pad and bos; unk stays allowed). Must not contain eos.
    public var forbidden: [Int32] = [0, 2]
    /// Stop a sentence as soon as no live hypothesis can still enter its n-best list. Turning it
    /// off never changes the result (tests check this); it only costs steps.
    public var earlyStopping: Bool = true

    public init(beamSize: Int = 5, lengthPenalty: Double = 0.6, maxLengthRatio: Double = 2.0,
                maxLengthOffset: Int = 10, nBest: Int = 1, bos: Int32 = 2, eos: Int32 = 3,
                forbidden: [Int32] = [0, 2], earlyStopping: Bool = true) {
        self.beamSize = beamSize
        self.lengthPenalty = lengthPenalty
        self.maxLengthRatio = maxLengthRatio
        self.maxLengthOffset = maxLengthOffset
        self.nBest = nBest
        self.bos = bos
        self.eos = eos
        self.forbidden = forbidden
        self.earlyStopping = earlyStopping
    }

    /// Maximum number of output tokens (eos not counted) for a source of `sourceLength` tokens:
    /// ⌊maxLengthRatio·sourceLength⌋ + maxLengthOffset, at least 0.
    public func maxLength(sourceLength: Int) -> Int {
        max(0, Int((maxLengthRatio * Double(max(0, sourceLength))).rounded(.down)) + maxLengthOffset)
    }

    /// Throws a message naming the option (as the CLI spells it) when a setting is unusable.
    public func validate() throws {
        if beamSize < 1 { throw DecodingError.invalidOption("--beam must be at least 1, got \(beamSize)") }
        if nBest < 1 || nBest > beamSize {
            throw DecodingError.invalidOption("--n-best must be between 1 and the beam size \(beamSize), got \(nBest)")
        }
        if !lengthPenalty.isFinite {
            throw DecodingError.invalidOption("--length-penalty must be a finite number, got \(lengthPenalty)")
        }
        if !maxLengthRatio.isFinite || maxLengthRatio < 0 || maxLengthRatio > 1000 {
            throw DecodingError.invalidOption("--max-length-ratio must be between 0 and 1000, got \(maxLengthRatio)")
        }
        if maxLengthOffset < 0 || maxLengthOffset > 1_000_000 {
            throw DecodingError.invalidOption("--max-length must be between 0 and 1000000, got \(maxLengthOffset)")
        }
        if forbidden.contains(eos) {
            throw DecodingError.invalidOption("the end-of-sentence id \(eos) cannot be a forbidden token")
        }
    }
}

/// Errors of the Decoding module; the description is the message shown to the user.
public enum DecodingError: Error, CustomStringConvertible, Equatable {
    /// A search option is out of range; the text names the option and the offending value.
    case invalidOption(String)

    public var description: String {
        switch self {
        case .invalidOption(let message): return "invalid decoding option: \(message)"
        }
    }
}

/// GNMT length penalty lp(Y) = ((5 + |Y|) / 6)^alpha (Wu et al. 2016, eq. 14); a hypothesis
/// scores logProb / lp. `length` counts output tokens including the final eos (see `BeamSearch`).
@inlinable
public func lengthPenalty(length: Int, alpha: Double) -> Double {
    alpha == 0 ? 1 : pow((5 + Double(length)) / 6, alpha)
}
