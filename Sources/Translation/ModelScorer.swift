import Decoding
import Model

/// Adapts the model's incremental ``InferenceSession`` to Decoding's ``StepScorer`` protocol, so
/// beam search never sees the network.
public final class ModelScorer: WeightedStepScorer {
    private let session: InferenceSession
    public let vocabularySize: Int

    /// Encodes `sources` (ids without </s>); row i of the scorer is sentence i. `packed`, a
    /// snapshot of the model's weights shared between searches, speeds up steps with few rows.
    /// `outputIDs` (ascending, below V), when given, restricts every step's output layer and
    /// log-softmax to these ids (``InferenceSession/restrictOutput(to:)``); the others are never
    /// scored (the search treats them as probability zero).
    public init(model: Seq2SeqModel, packed: DecoderWeights? = nil, sources: [[Int32]], outputIDs: [Int32]? = nil) {
        session = InferenceSession(model: model, packed: packed)
        vocabularySize = model.config.targetVocabularySize
        session.encode(sources)
        session.restrictOutput(to: outputIDs)
    }

    public var rowCount: Int { session.rowCount }

    /// The restricted output's ids (a shortlist), or nil.
    public var candidateIDs: [Int32]? { session.outputIDs }

    /// Per-phase timing of steps and reorders (bench only); nil normally.
    public var profiler: PhaseProfiler? {
        get { session.profiler }
        set { session.profiler = newValue }
    }

    public func step(previousTokens: [Int32], logProbs: UnsafeMutableBufferPointer<Float>) {
        session.step(previousTokens: previousTokens, logProbs: logProbs)
    }

    public func step(previousTokens: [Int32], weightedInto logProbs: UnsafeMutableBufferPointer<Float>,
                     weight: Float, accumulate: Bool) {
        session.step(previousTokens: previousTokens, weightedInto: logProbs, weight: weight, accumulate: accumulate)
    }

    public func reorder(_ rows: [Int32]) {
        session.reorder(rows)
    }

    public func alignedSourcePosition(row: Int) -> Int32? {
        session.alignedSourcePosition(row: row).map { Int32($0) }
    }
}
