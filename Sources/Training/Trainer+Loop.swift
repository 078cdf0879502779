import Basics
import Corpus
import Foundation
import Kernels
import Model
import RunLog

/// The training loop, for one process (one part), `--accumulate K` in one process, N MPI ranks,
/// or both: they differ only in how many batches make one step's gradient and whether ranks sum
/// theirs.
///
/// The corpus is read as P = N·K disjoint parts, whole shards each (part p holds the shards whose
/// manifest index is p mod P; fewer shards than parts is refused), each with its own shuffled,
/// resumable batch stream. Rank r owns parts r·K … r·K+K−1. One update takes one batch from every
/// part: each batch's gradient is computed from zero (dropout seed from the step and the part), the
/// K gradients of a rank are added in part order into a sum that starts at +0, and the ranks' sums
/// are added in rank order ((+0 + g₀) + g₁) + … (``TrainingGroup/sumInRankOrder(_:)``). So N ranks
/// with K = 1 compute exactly the sum `--accumulate N` computes in one process, bit for bit; with
/// both N > 1 and K > 1 the sum is grouped by rank and equals N·K parts only to rounding.
///
/// The summed gradient is divided by the global sentence count (the paper's mean over sentences),
/// the loss shown is per global target token, the norm is clipped globally, and every rank applies
/// the same update to the same weights. A part whose stream has ended adds nothing; the epoch ends
/// when every part has ended. Stop requests, the time limit and skips are decided from figures
/// every rank sees, so all ranks leave the loop at the same step. Every rank validates and takes
/// rank 0's perplexity (so the best step agrees everywhere); only rank 0 writes.
extension Trainer {
    /// Per-rank figures of one step, exchanged in this order.
    private enum Figure: Int, CaseIterable {
        case sentences, targetTokens, sourceTokens, lossSum, lossTokens, smoothedLossSum, stop, seconds
    }

    func runLoop() throws -> TrainingSummary {
        let targetVocabulary = directory.targetVocabulary
        let accumulate = options.accumulateSteps
        let firstPart = (group?.rank ?? 0) * accumulate
        let parameters = model.parameters
        let blockCount = (parameters.count + ParameterStore.blockSize - 1) / ParameterStore.blockSize
        // The K batches' gradients are added here (one process holding several parts only).
        let sum: UnsafeMutableBufferPointer<Scalar>? = accumulate > 1 ? .allocate(capacity: parameters.count) : nil
        sum?.initialize(repeating: 0)
        defer { sum?.deallocate() }
        var live = [UInt8](repeating: 0, count: blockCount)
        // One part in one process (no sum, no exchange): the step's gradient stays where trainStep
        // put it, touched blocks marked, and the live bookkeeping below has nothing to do.
        let tracksLive = sum != nil || group != nil
        // Under MPI the exchange overlaps the backward pass of the step's last batch.
        var overlapped: OverlappedExchange?
        if let group, overlapsExchange, group.supportsExchangeThread {
            let exchange = OverlappedExchange(group: group, parameters: parameters, stages: model.gradientStages,
                                              sum: sum?.baseAddress)
            exchange.start()
            overlapped = exchange
        }
        defer { overlapped?.close(); model.gradientStageReady = nil }
        // Whether the batch being trained is the step's last (its stages go to the exchange).
        var announcing = false
        if let overlapped {
            model.gradientStageReady = { stage in
                if announcing { overlapped.stageReady(stage, lastBatchTrained: true) }
            }
        }

        var lastValid: Double?
        let totalSteps = totalStepsEstimate
        let runStart = Date()
        let secondsBefore = state.trainingSeconds
        var interval = LogInterval()
        meter = RunMeter(logEvery: options.logEvery, logEverySeconds: logEverySeconds)
        runStartStep = state.step
        var stepMark = monotonicSeconds()
        var consecutiveBad = 0
        // --log-gradient-flow: per source position, summed norms and the number of sentences that
        // have the position, over this process's batches since the last log line.
        var flowSums: [Double] = [], flowCounts: [Int] = []
        model.recordsGradientFlow = logsGradientFlow

        if writes && state.step == 0 && state.epoch == 0, let validation {
            let started = monotonicSeconds()
            let ppl = evaluate(validation)
            meter.recordValidation(seconds: monotonicSeconds() - started)
            stepMark = monotonicSeconds()
            progress.message("step 0: validation perplexity \(fmt(ppl, 2)) (untrained; ln V = \(fmt(log(Double(targetVocabulary.count)), 2)))")
        }

        epochs: while !finished {
            let epochStartsAtItsBeginning = partPositions.allSatisfy { $0 == nil } && state.pairsInEpoch == 0
            let streams = try partShards.indices.map { k in
                // One preparer per stream: each lives on its stream's reader thread only. Its
                // BPE-dropout draws depend on the part as `dropoutSeed(step:part:)`'s do (part 0
                // uses the single-part seed), the epoch and the pair's index in the part's stream,
                // so N ranks segment as one process with --accumulate N, and resume exactly.
                let part = firstPart + k
                let preparer = try pairPreparer(
                    dropoutSeed: part == 0 ? options.seed : SplitMix64.derive(options.seed, UInt64(part)))
                return try BatchStream<PreparedPair>(
                    shards: partShards[k],
                    options: BatchingOptions(batchSize: options.batchSize, tokenBudget: options.tokenBudget,
                                             windowSize: options.windowSize, seed: options.seed),
                    epoch: state.epoch, resumeFrom: partPositions[k],
                    prepareAt: { preparer.prepare($0, index: $1) }, length: { $0.length })
            }
            var ended = [Bool](repeating: false, count: accumulate)

            while true {
                // This rank's batches, one per part, each gradient from zero, summed in part order.
                var local = [Double](repeating: 0, count: Figure.allCases.count)
                var positions = partPositions
                if tracksLive { for i in live.indices { live[i] = 0 } }
                // The step's batches first (one per part still running), so the last is known.
                var batches: [(part: Int, items: [PreparedPair])] = []
                for k in 0..<accumulate where !ended[k] {
                    guard let items = try streams[k].next() else { ended[k] = true; continue }
                    positions[k] = streams[k].position
                    batches.append((k, items))
                }
                overlapped?.beginStep()
                for (index, (k, items)) in batches.enumerated() {
                    let batch = Batch(sources: items.map(\.source), targets: items.map(\.target))
                    let last = index == batches.count - 1
                    announcing = overlapped != nil && last
                    let (lossSum, tokens) = model.trainStep(batch, dropoutSeed: dropoutSeed(step: state.step, part: firstPart + k))
                    announcing = false
                    if logsGradientFlow {
                        for sentence in model.sourceGradientNorms() {
                            if sentence.count > flowSums.count {
                                flowSums += repeatElement(0, count: sentence.count - flowSums.count)
                                flowCounts += repeatElement(0, count: sentence.count - flowCounts.count)
                            }
                            for (p, value) in sentence.enumerated() { flowSums[p] += value; flowCounts[p] += 1 }
                        }
                    }
                    local[Figure.sentences.rawValue] += Double(batch.batchSize)
                    local[Figure.targetTokens.rawValue] += Double(batch.targetTokenCount)
                    local[Figure.sourceTokens.rawValue] += Double(batch.sourceLengths.reduce(0) { $0 + Int($1) })
                    local[Figure.lossSum.rawValue] += lossSum
                    local[Figure.lossTokens.rawValue] += Double(tokens)
                    local[Figure.smoothedLossSum.rawValue] += model.lastSmoothedLossSum
                    if let overlapped {
                        // The last batch's stages went to the exchange as the backward pass made them.
                        if last { continue }
                        overlapped.recordPart()
                    }
                    let g = parameters.gradients.baseAddress!
                    for block in tracksLive ? parameters.liveBlocks() : [] {
                        live[block] = 1
                        if let sum {
                            let s = sum.baseAddress!
                            for i in parameters.range(ofBlock: block) { s[i] = s[i] + g[i] }
                        }
                    }
                    if sum != nil { parameters.zeroGradients() }
                }
                var exchangeBytes = 0.0, exchangeSeconds = 0.0
                if let overlapped {
                    // A rank without a batch hands over its zeros; then wait for the last buckets.
                    overlapped.handOverRemaining(lastBatchTrained: false)
                    let waitStart = monotonicSeconds()
                    exchangeBytes = try overlapped.finish()
                    exchangeSeconds = monotonicSeconds() - waitStart
                    for i in live.indices { live[i] = overlapped.live[i] }
                } else if let sum {
                    // Back into the gradient buffer, which holds zeros; the sum is zeroed for the next step.
                    let g = parameters.gradients.baseAddress!, s = sum.baseAddress!
                    for block in 0..<blockCount where live[block] != 0 {
                        for i in parameters.range(ofBlock: block) { g[i] = s[i]; s[i] = 0 }
                    }
                }
                local[Figure.stop.rawValue] = shouldStop() ? 1 : 0
                local[Figure.seconds.rawValue] = secondsBefore + Date().timeIntervalSince(runStart)

                // Global figures: sums in rank order; the time is rank 0's; a stop request of any rank stops all.
                // (This exchange also waits for the slowest rank. The time reported as the
                // exchange's is the gradient sum's below, which starts with the ranks in step; with
                // the overlapped exchange, the wait for its last buckets after the backward pass.)
                var global = local
                if let group {
                    let all = try group.allgather(local)
                    for f in Figure.allCases where f != .seconds && f != .stop {
                        global[f.rawValue] = all.reduce(0) { $0 + $1[f.rawValue] }
                    }
                    global[Figure.stop.rawValue] = all.contains { $0[Figure.stop.rawValue] != 0 } ? 1 : 0
                    global[Figure.seconds.rawValue] = all[0][Figure.seconds.rawValue]
                }
                state.trainingSeconds = global[Figure.seconds.rawValue]
                if global[Figure.stop.rawValue] != 0 {
                    // Nothing of this step is kept: the resumed run computes it again.
                    parameters.zeroGradients()
                    try saveCheckpoint(numbered: false)
                    progress.message("interrupted at step \(state.step); checkpoint saved, continue with --resume")
                    return TrainingSummary(state: state, interrupted: true, lastValidPerplexity: lastValid)
                }
                let sentences = Int(global[Figure.sentences.rawValue])
                if sentences == 0 { break }   // every part has ended: end of the epoch
                if let group, overlapped == nil {
                    // Sparse exchange: first which blocks any rank touched (one byte a block), then
                    // only those blocks, packed. A block no rank touched is +0 on every rank, which
                    // is what the sum over ranks would give: the same bits as summing everything.
                    let exchangeStart = monotonicSeconds()
                    try group.allreduceBitwiseOr(&live)
                    exchangeBytes = try exchangeLiveBlocks(live, group: group)
                    exchangeSeconds = monotonicSeconds() - exchangeStart
                }
                if tracksLive {
                    // The sum and the exchange wrote blocks this rank's own steps may not have marked.
                    let g = parameters.gradients.baseAddress!
                    for block in 0..<blockCount where live[block] != 0 {
                        let range = parameters.range(ofBlock: block)
                        parameters.markGradientsTouched(g + range.lowerBound, count: range.count)
                    }
                }

                let epochProgress = Double(state.epoch) + Double(state.pairsInEpoch) / Double(max(1, shards.pairCount))
                let lr = learningRate(atEpochProgress: epochProgress)
                let norm = scaleGradients(parameters, by: 1 / Float(sentences))
                let lossSum = global[Figure.lossSum.rawValue]
                state.pairsInEpoch += sentences
                partPositions = positions

                if !lossSum.isFinite || !norm.isFinite {
                    consecutiveBad += 1
                    state.skippedBatches += 1
                    parameters.zeroGradients()
                    progress.message("step \(state.step): non-finite loss or gradient (loss \(lossSum), norm \(norm)); batches skipped")
                    if writes { try directory.appendLog(LogLine(event: "skipped_batch", step: state.step)) }
                    if consecutiveBad >= options.maxBadBatches {
                        throw TrainingError.tooManyBadBatches(count: consecutiveBad, step: state.step)
                    }
                    continue
                }
                consecutiveBad = 0
                let clipped = options.clipNorm > 0 && norm > options.clipNorm
                if clipped { state.clippedSteps += 1 }
                optimizer.step(parameters, learningRate: lr,
                               gradientScale: options.clipNorm > 0 ? clipFactor(norm: norm, maxNorm: options.clipNorm) : 1)
                state.step += 1
                let logged = try report(AppliedStep(
                    tokens: Int(global[Figure.targetTokens.rawValue] + global[Figure.sourceTokens.rawValue]),
                    lossSum: lossSum, lossTokens: Int(global[Figure.lossTokens.rawValue]),
                    smoothedLossSum: global[Figure.smoothedLossSum.rawValue], clipped: clipped,
                    gradientNorm: Double(norm), learningRate: lr, epochProgress: epochProgress,
                    exchangeSeconds: group == nil ? nil : exchangeSeconds, exchangeBytes: exchangeBytes,
                    seconds: monotonicSeconds() - stepMark), interval: &interval, totalSteps: totalSteps)
                if dryRun && meter.estimateIsDue { return try finishDryRun(totalSteps: totalSteps) }
                if logged && logsGradientFlow && !flowSums.isEmpty {
                    // Under MPI, rank 0's own sentences (the ranks' norms are not exchanged).
                    if writes {
                        try directory.appendLog(LogLine(event: "gradient_flow", step: state.step, epoch: epochProgress,
                                                        gradientByPosition: zip(flowSums, flowCounts).map { $0 / Double($1) }))
                    }
                    flowSums = []; flowCounts = []
                }

                if let every = options.validEvery, state.step % every == 0, let validation {
                    lastValid = try validate(validation, label: "step \(state.step)", watched: true)
                    try saveCheckpoint()
                    if state.stoppedEarly == true { break epochs }
                } else if let every = options.saveEvery, state.step % every == 0 {
                    try saveCheckpoint()
                }
                if options.maxSteps.map({ state.step >= $0 }) ?? false { break epochs }
                if options.maxMinutes.map({ state.trainingSeconds >= $0 * 60 }) ?? false {
                    progress.message("time limit of \(options.maxMinutes!) minutes reached at step \(state.step)")
                    timeUp = true
                    break epochs
                }
                stepMark = monotonicSeconds()
            }
            if epochStartsAtItsBeginning && state.pairsInEpoch == 0 {
                throw TrainingError.file(
                    path: shards.directory,
                    message: "no training pair is usable: each of the \(shards.pairCount) pairs has a side that tokenizes "
                        + "to nothing or more than --max-length \(options.maxLength) tokens")
            }
            // End of epoch: validate, keep the best, checkpoint at the start of the next epoch.
            state.epoch += 1
            state.pairsInEpoch = 0
            partPositions = partPositions.map { _ in nil }
            if let validation {
                // An epoch that ends on a --valid-every step was just validated with these weights:
                // the schedule and early stopping count that validation once.
                let validatedAlready = options.validEvery.map { state.step % $0 == 0 } ?? false
                let ppl = try validate(validation, label: "epoch \(state.epoch)", watched: !validatedAlready)
                state.epochValidPerplexities.append(ppl)
                lastValid = ppl
            }
            try saveCheckpoint()
            stepMark = monotonicSeconds()
        }
        if dryRun { return try finishDryRun(totalSteps: totalSteps) }
        // A run that never validated (in any of its processes: the record is the state, so a
        // resumed run decides as the uninterrupted one) closes with one validation.
        let validatedBefore = state.bestStep != nil || state.bestValidPerplexity != nil || !state.epochValidPerplexities.isEmpty
        if lastValid == nil && !validatedBefore, let validation {
            lastValid = try validate(validation, label: "step \(state.step)", watched: false)
        }
        if writes && state.bestStep == nil { try directory.saveBest(model: model, step: state.step) }
        try saveCheckpoint()
        return TrainingSummary(state: state, interrupted: false, lastValidPerplexity: lastValid)
    }

    /// Sums the gradient blocks flagged in `live` over the ranks (in rank order), packing them
    /// into one buffer when some are not live; returns the bytes this rank sent (its share of an
    /// all-to-all and of an all-gather: 2·(N−1)/N of the packed size).
    func exchangeLiveBlocks(_ live: [UInt8], group: TrainingGroup) throws -> Double {
        let parameters = model.parameters
        let liveCount = live.reduce(0) { $0 + Int($1) }
        let g = parameters.gradients.baseAddress!
        var floats = parameters.count
        if liveCount == live.count {
            try group.sumInRankOrder(parameters.gradients)
        } else {
            floats = 0
            for block in live.indices where live[block] != 0 { floats += parameters.range(ofBlock: block).count }
            let packed = exchangeBuffer.reserve(floats)
            var at = 0
            for block in live.indices where live[block] != 0 {
                let range = parameters.range(ofBlock: block)
                (packed + at).update(from: g + range.lowerBound, count: range.count)
                at += range.count
            }
            try group.sumInRankOrder(UnsafeMutableBufferPointer(start: packed, count: floats))
            at = 0
            for block in live.indices where live[block] != 0 {
                let range = parameters.range(ofBlock: block)
                (g + range.lowerBound).update(from: packed + at, count: range.count)
                at += range.count
            }
        }
        let ranks = Double(group.size)
        return 2 * (ranks - 1) / ranks * Double(floats) * 4 + Double(live.count)
    }

    /// The dropout seed of `part`'s batch at `step`: part 0 draws what a single-part run draws.
    func dropoutSeed(step: Int, part: Int) -> UInt64 {
        part == 0 ? dropoutSeed(step: step) : SplitMix64.derive(dropoutSeed(step: step), UInt64(part))
    }

    /// Puts every part's position into `state.partPositions` (gathered from all ranks; nil when
    /// every part is at the start of its epoch), so rank 0's checkpoint can resume every rank.
    func recordPartPositions() throws {
        var all = partPositions
        if let group {
            let fields = 7
            var mine: [UInt64] = []
            for position in partPositions {
                if let p = position {
                    mine += [1, UInt64(bitPattern: Int64(p.epoch)), UInt64(bitPattern: Int64(p.windowStart)),
                             UInt64(bitPattern: Int64(p.batchesConsumed)), UInt64(bitPattern: Int64(p.shardOrderIndex)),
                             UInt64(bitPattern: Int64(p.pairOffsetInShard)), p.rngState]
                } else {
                    mine += [UInt64](repeating: 0, count: fields)
                }
            }
            all = try group.allgather(mine).flatMap { values in
                stride(from: 0, to: values.count, by: fields).map { i -> StreamPosition? in
                    guard values[i] == 1 else { return nil }
                    func int(_ j: Int) -> Int { Int(Int64(bitPattern: values[i + j])) }
                    return StreamPosition(epoch: int(1), windowStart: int(2), batchesConsumed: int(3),
                                          shardOrderIndex: int(4), pairOffsetInShard: int(5), rngState: values[i + 6])
                }
            }
        }
        state.partPositions = all.allSatisfy { $0 == nil } ? nil : all
    }
}
