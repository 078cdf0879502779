import Foundation
import Kernels
import Model

/// The sum of the gradient over MPI ranks, overlapped with the backward pass: gradient buckets as
/// in PyTorch's DistributedDataParallel (Li et al. 2020, "PyTorch Distributed"), summed in a fixed
/// order so the bits are those of the exchange after the backward pass.
///
/// The model announces each of its ``Seq2SeqModel/gradientStages`` as soon as the backward pass has
/// finished writing it (the output layer first, the source embedding last). A gradient block of
/// ``ParameterStore/blockSize`` floats is final at the last stage that writes one of its floats;
/// each stage's final blocks are cut into buckets of at most ``bucketFloats`` floats, in increasing
/// block order. For each bucket an exchange thread ORs the ranks' live flags of its blocks, then
/// sums the live blocks, packed, in rank order (``TrainingGroup/sumInRankOrder(_:)``), while the
/// training thread goes on with the backward pass. Every float is still ((+0 + g₀) + g₁) + … in rank
/// order, and a block no rank touched is +0 everywhere, exactly as in the exchange after the
/// backward pass: the weights are bit-identical (tested against `--accumulate N`). Every rank hands
/// over the same buckets in the same order (they depend on the architecture only), also a rank
/// whose parts have run out (its gradient is zero and it touched no block).
///
/// MPI is called by one thread at a time: the exchange thread from the first stage handed over to
/// ``finish()``, the training thread otherwise.
final class OverlappedExchange {
    /// At most this many floats per bucket (4 MB).
    static let bucketFloats = 1 << 20

    private let group: TrainingGroup
    private let parameters: ParameterStore
    /// Per stage, its buckets: each a list of block indices, increasing.
    let buckets: [[[Int]]]
    /// This rank's live flag per block for the step being built (1: touched by one of its parts),
    /// then, after ``finish()``, the OR over the ranks of the blocks exchanged.
    let live: UnsafeMutableBufferPointer<UInt8>
    /// The K-part sum of one process holding several parts (nil with one part each).
    private let sum: UnsafeMutablePointer<Scalar>?
    /// Scratch of the exchange thread: one bucket's packed floats.
    private let packed: UnsafeMutablePointer<Scalar>
    private var handedOver = 0
    private var bytes = 0.0
    private var failure: Error?
    private let stageGiven = DispatchSemaphore(value: 0)
    private let stepDone = DispatchSemaphore(value: 0)
    private var closing = false
    private var thread: Thread?

    /// `stages`: the model's ``Seq2SeqModel/gradientStages``; `sum`: the buffer where a process
    /// holding several parts adds them (nil with one part).
    init(group: TrainingGroup, parameters: ParameterStore, stages: [[Range<Int>]], sum: UnsafeMutablePointer<Scalar>?) {
        self.group = group
        self.parameters = parameters
        self.sum = sum
        let size = ParameterStore.blockSize
        let blockCount = (parameters.count + size - 1) / size
        var finalAt = [Int](repeating: -1, count: blockCount)
        for (stage, ranges) in stages.enumerated() {
            for range in ranges where !range.isEmpty {
                for block in (range.lowerBound / size)...((range.upperBound - 1) / size) { finalAt[block] = max(finalAt[block], stage) }
            }
        }
        precondition(!finalAt.contains(-1), "a gradient block in no stage")
        let perBucket = Self.bucketFloats / size
        buckets = stages.indices.map { stage in
            let blocks = finalAt.indices.filter { finalAt[$0] == stage }
            return stride(from: 0, to: blocks.count, by: perBucket).map { Array(blocks[$0..<min(blocks.count, $0 + perBucket)]) }
        }
        live = .allocate(capacity: blockCount)
        live.initialize(repeating: 0)
        packed = .allocate(capacity: Self.bucketFloats)
    }

    deinit {
        live.deallocate()
        packed.deallocate()
    }

    /// Starts the exchange thread (once).
    func start() {
        guard thread == nil else { return }
        let thread = Thread { [self] in run() }
        thread.name = "seq2seq.GradientExchange"
        thread.stackSize = 1 << 20
        self.thread = thread
        thread.start()
    }

    /// Ends the exchange thread (after the last ``finish()``); idempotent.
    func close() {
        guard thread != nil, !closing else { return }
        closing = true
        stageGiven.signal()
    }

    /// Clears the live flags for a new step.
    func beginStep() {
        live.update(repeating: 0)
        handedOver = 0
        bytes = 0
        failure = nil
    }

    /// Records the live flags of a part that is not the step's last (`parameters` holds its
    /// touched blocks).
    func recordPart() {
        for block in live.indices where parameters.isLive(block: block) { live[block] = 1 }
    }

    /// Called on the training thread when stage `stage` of the step's last batch is final: adds
    /// this batch into the K-part sum where there is one (the same operations, in the same order,
    /// as after the backward pass), marks the blocks this rank touched, and hands the stage's
    /// buckets to the exchange thread.
    func stageReady(_ stage: Int, lastBatchTrained: Bool) {
        precondition(stage == handedOver, "gradient stages out of order")
        let g = parameters.gradients.baseAddress!
        for bucket in buckets[stage] {
            for block in bucket {
                let touchedNow = lastBatchTrained && parameters.isLive(block: block)
                if let sum {
                    let range = parameters.range(ofBlock: block)
                    if touchedNow { for i in range { sum[i] = sum[i] + g[i] } }
                    if touchedNow || live[block] != 0 { for i in range { g[i] = sum[i]; sum[i] = 0 } }
                }
                if touchedNow { live[block] = 1 }
            }
        }
        handedOver += 1
        stageGiven.signal()
    }

    /// Hands over every stage at once: this rank trained no batch this step (or the step's last
    /// batch was announced already).
    func handOverRemaining(lastBatchTrained: Bool) {
        while handedOver < buckets.count { stageReady(handedOver, lastBatchTrained: lastBatchTrained) }
    }

    /// Waits until every bucket of the step is summed; returns the bytes this rank sent. Afterwards
    /// ``live`` holds the OR over the ranks. Rethrows the exchange's error.
    func finish() throws -> Double {
        precondition(handedOver == buckets.count, "finish before every stage was handed over")
        stepDone.wait()
        if let failure { throw failure }
        return bytes
    }

    // MARK: The exchange thread

    private func run() {
        while true {
            for stage in buckets.indices {
                stageGiven.wait()
                if closing { return }
                guard failure == nil else { continue }
                do {
                    for bucket in buckets[stage] { try exchange(bucket) }
                } catch {
                    failure = error
                }
            }
            stepDone.signal()
        }
    }

    /// ORs the ranks' flags of `bucket`'s blocks, then sums the blocks some rank touched.
    private func exchange(_ bucket: [Int]) throws {
        var gathered = bucket.map { live[$0] }
        try group.allreduceBitwiseOr(&gathered)
        let ranks = Double(group.size)
        bytes += Double(bucket.count)
        let g = parameters.gradients.baseAddress!
        var floats = 0
        for (i, block) in bucket.enumerated() where gathered[i] != 0 {
            live[block] = 1
            let range = parameters.range(ofBlock: block)
            (packed + floats).update(from: g + range.lowerBound, count: range.count)
            floats += range.count
        }
        guard floats > 0 else { return }
        try group.sumInRankOrder(UnsafeMutableBufferPointer(start: packed, count: floats))
        floats = 0
        for (i, block) in bucket.enumerated() where gathered[i] != 0 {
            let range = parameters.range(ofBlock: block)
            (g + range.lowerBound).update(from: packed + floats, count: range.count)
            floats += range.count
        }
        bytes += 2 * (ranks - 1) / ranks * Double(floats) * 4
    }
}
