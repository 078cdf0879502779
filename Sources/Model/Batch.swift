import Basics

/// A time-major padded batch of sentence pairs. Pad id 0, <s> 2, </s> 3.
///
/// Row b of step t lives at index t·B + b. The source is stored left to right; the model reverses
/// it itself (per sentence, so padding stays at the end) when `ModelConfig.reverseSource` is set.
public struct Batch: Sendable {
    /// B, S, T
    public let batchSize: Int, sourceLength: Int, targetLength: Int
    /// [S·B], source[t·B+b], 0 after the sentence's end.
    public let source: [Int32]
    /// [B], each ≥ 1.
    public let sourceLengths: [Int32]
    /// [T·B]: <s> y1 … yn, then 0.
    public let targetInput: [Int32]
    /// [T·B]: y1 … yn </s>, then 0 (0 is ignored by the loss).
    public let targetOutput: [Int32]

    /// Builds the layout from unpadded id sequences; `targets` come WITHOUT <s> and </s>.
    public init(sources: [[Int32]], targets: [[Int32]]) {
        precondition(sources.count == targets.count, "Batch: \(sources.count) sources but \(targets.count) targets")
        precondition(!sources.isEmpty, "Batch: no sentences")
        let b = sources.count
        let s = sources.map(\.count).max()!
        let t = targets.map(\.count).max()! + 1
        var source = [Int32](repeating: 0, count: s * b)
        var input = [Int32](repeating: 0, count: t * b)
        var output = [Int32](repeating: 0, count: t * b)
        for (row, sentence) in sources.enumerated() {
            precondition(!sentence.isEmpty, "Batch: source sentence \(row) is empty")
            for (step, id) in sentence.enumerated() { source[step * b + row] = id }
        }
        for (row, sentence) in targets.enumerated() {
            input[row] = TokenID.start
            for (step, id) in sentence.enumerated() {
                input[(step + 1) * b + row] = id
                output[step * b + row] = id
            }
            output[sentence.count * b + row] = TokenID.end
        }
        self.init(batchSize: b, sourceLength: s, targetLength: t, source: source,
                  sourceLengths: sources.map { Int32($0.count) }, targetInput: input, targetOutput: output)
    }

    /// Takes an already laid-out batch (see the property comments for the layout).
    public init(batchSize: Int, sourceLength: Int, targetLength: Int, source: [Int32], sourceLengths: [Int32],
                targetInput: [Int32], targetOutput: [Int32]) {
        precondition(source.count == sourceLength * batchSize, "Batch: source has \(source.count) ids, expected S·B = \(sourceLength)·\(batchSize)")
        precondition(sourceLengths.count == batchSize, "Batch: \(sourceLengths.count) source lengths for B = \(batchSize)")
        precondition(targetInput.count == targetLength * batchSize && targetOutput.count == targetLength * batchSize,
                     "Batch: target arrays have \(targetInput.count)/\(targetOutput.count) ids, expected T·B = \(targetLength)·\(batchSize)")
        precondition(sourceLengths.allSatisfy { $0 >= 1 && Int($0) <= sourceLength }, "Batch: source lengths must be in 1...\(sourceLength)")
        self.batchSize = batchSize
        self.sourceLength = sourceLength
        self.targetLength = targetLength
        self.source = source
        self.sourceLengths = sourceLengths
        self.targetInput = targetInput
        self.targetOutput = targetOutput
    }

    /// Non-pad entries of `targetOutput`: the tokens the loss counts.
    public var targetTokenCount: Int { targetOutput.reduce(0) { $0 + ($1 != 0 ? 1 : 0) } }
}
