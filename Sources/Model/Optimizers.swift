import Kernels

/// Multiplies every gradient by `factor` (e.g. 1/B, turning `trainStep`'s summed-loss gradient
/// into the gradient of the mean) and returns the global L2 norm of the result, in one pass.
public func scaleGradients(_ parameters: ParameterStore, by factor: Scalar) -> Scalar {
    blockNorm(parameters, scaling: factor)
}

/// The global L2 norm of all gradients (read only).
public func gradientNorm(_ parameters: ParameterStore) -> Scalar {
    blockNorm(parameters, scaling: nil)
}

/// The norm adds squares into SIMD8 lanes over each 4096-float chunk, then the chunks' sums in
/// Double in increasing order: exactly `Vector.sumOfSquares`'s order, whatever the thread count.
/// Only live blocks are read; a block that is not live holds zeros and adds exactly nothing to its
/// chunk's lanes, so the result is that of the dense sum bit for bit. With a factor, every
/// gradient is first multiplied by it and stored.
private func blockNorm(_ parameters: ParameterStore, scaling factor: Scalar?) -> Scalar {
    assert(parameters.blocksNotLiveAreZero(), "a gradient was written into a sparse tensor without markGradientsTouched")
    let g = parameters.gradients.baseAddress!
    let blocks = parameters.liveBlocks()
    let blocksPerChunk = Vector.sumOfSquaresChunk / ParameterStore.blockSize
    // chunkStarts[c] ..< chunkStarts[c + 1]: the live blocks of the c-th chunk that has any.
    var chunkStarts: [Int] = []
    for (i, block) in blocks.enumerated() where i == 0 || block / blocksPerChunk != blocks[i - 1] / blocksPerChunk {
        chunkStarts.append(i)
    }
    chunkStarts.append(blocks.count)
    let chunks = chunkStarts.count - 1
    return withUnsafeTemporaryAllocation(of: Double.self, capacity: max(1, chunks)) { partial in
        let partial = partial.baseAddress!
        Parallel.forEachPart(chunks, work: blocks.count * ParameterStore.blockSize) { part in
            for c in part {
                var acc = SIMD8<Scalar>()
                var tail: Scalar = 0
                for i in chunkStarts[c]..<chunkStarts[c + 1] {
                    let range = parameters.range(ofBlock: blocks[i])
                    var j = range.lowerBound
                    while j &+ 8 <= range.upperBound {
                        let p = UnsafeMutableRawPointer(g + j)
                        var v = p.loadUnaligned(as: SIMD8<Scalar>.self)
                        if let factor {
                            v *= factor
                            p.storeBytes(of: v, as: SIMD8<Scalar>.self)
                        }
                        acc += v * v
                        j &+= 8
                    }
                    while j < range.upperBound {   // only in the store's last block
                        if let factor { g[j] *= factor }
                        tail += g[j] * g[j]
                        j &+= 1
                    }
                }
                partial[c] = Double(acc.sum()) + Double(tail)
            }
        }
        var total = 0.0
        for c in 0..<chunks { total += partial[c] }
        return Scalar(total.squareRoot())
    }
}

/// Global L2-norm gradient clipping (Pascanu, Mikolov & Bengio 2013; Sutskever 2014 uses 5): the
/// factor the optimizer step applies to the gradients whose norm is `norm`: maxNorm/norm when
/// norm > maxNorm, else 1 (also for a non-finite norm, whose batch the caller skips).
public func clipFactor(norm: Scalar, maxNorm: Scalar) -> Scalar {
    norm.isFinite && norm > maxNorm ? maxNorm / norm : 1
}

extension ParameterStore {
    /// Calls `body` with the float range of every live block, the blocks split across
    /// `Parallel.threads` in contiguous parts.
    func forEachLiveBlock(_ body: (Range<Int>) -> Void) {
        let blocks = liveBlocks()
        Parallel.forEachPart(blocks.count, work: blocks.count * ParameterStore.blockSize) { part in
            for i in part { body(range(ofBlock: blocks[i])) }
        }
    }
}

/// A first-order optimizer over a ParameterStore's flat buffers.
public protocol Optimizer: AnyObject {
    /// One update from the current gradients times `gradientScale` (the clipping factor), after
    /// which the gradients are zero, ready for the next `trainStep`; it then calls
    /// `parameters.forgetTouched()` (or `zeroGradients()`, which does both).
    func step(_ parameters: ParameterStore, learningRate: Scalar, gradientScale: Scalar)
    /// Updates done so far.
    var stepCount: Int { get }
    /// State for checkpoints, one flat tensor per moment, shaped [count].
    func stateTensors() -> [(name: String, shape: [Int], values: [Scalar])]
    func loadState(_ tensors: [(name: String, shape: [Int], values: [Scalar])], stepCount: Int) throws
}

/// Plain SGD: θ ← θ − lr·(s·g). Visits only live gradient blocks: an embedding row no sentence
/// of the batch used has a zero gradient and keeps its weights.
public final class SGD: Optimizer {
    public private(set) var stepCount = 0
    public init() {}

    public func step(_ parameters: ParameterStore, learningRate: Scalar, gradientScale: Scalar) {
        let g = parameters.gradients.baseAddress!, theta = parameters.values.baseAddress!
        let alpha = -learningRate, s = gradientScale
        parameters.forEachLiveBlock { range in
            for i in range {
                theta[i] += alpha * (g[i] * s)
                g[i] = 0
            }
        }
        parameters.forgetTouched()
        stepCount += 1
    }

    public func stateTensors() -> [(name: String, shape: [Int], values: [Scalar])] { [] }

    public func loadState(_ tensors: [(name: String, shape: [Int], values: [Scalar])], stepCount: Int) throws {
        if !tensors.isEmpty { throw ModelError("SGD has no state tensors, but the checkpoint holds \(tensors.map(\.name))") }
        self.stepCount = stepCount
    }
}

/// Adam (Kingma & Ba 2015) with bias correction:
///     m ← β1·m + (1−β1)·g,  v ← β2·v + (1−β2)·g²,  θ ← θ − lr·m̂/(√v̂ + ε),
///     m̂ = m/(1−β1^t), v̂ = v/(1−β2^t), g the gradient times the step's `gradientScale`.
/// Dense: every moment decays every step. Moments mirror the store; allocated on the first step.
public final class Adam: Optimizer {
    public let beta1: Scalar, beta2: Scalar, epsilon: Scalar
    public private(set) var stepCount = 0
    private var m: [Scalar] = [], v: [Scalar] = []

    public init(beta1: Scalar = 0.9, beta2: Scalar = 0.999, epsilon: Scalar = 1e-8) {
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
    }

    public func step(_ parameters: ParameterStore, learningRate: Scalar, gradientScale: Scalar) {
        let n = parameters.count
        if m.count != n {
            m = [Scalar](repeating: 0, count: n)
            v = [Scalar](repeating: 0, count: n)
        }
        stepCount += 1
        let c1 = Scalar(1 - power(Double(beta1), stepCount)), c2 = Scalar(1 - power(Double(beta2), stepCount))
        let (b1, b2, eps, s) = (beta1, beta2, epsilon, gradientScale)
        let step = learningRate / c1, invC2 = 1 / c2
        let g = parameters.gradients.baseAddress!, theta = parameters.values.baseAddress!
        m.withUnsafeMutableBufferPointer { mb in
            v.withUnsafeMutableBufferPointer { vb in
                let mp = mb.baseAddress!, vp = vb.baseAddress!
                Parallel.forEachPart(n) { range in
                    for i in range {
                        let gi = g[i] * s
                        g[i] = 0
                        let mi = b1 * mp[i] + (1 - b1) * gi
                        let vi = b2 * vp[i] + (1 - b2) * gi * gi
                        mp[i] = mi
                        vp[i] = vi
                        theta[i] -= step * mi / ((vi * invC2).squareRoot() + eps)
                    }
                }
            }
        }
        parameters.forgetTouched()
    }

    public func stateTensors() -> [(name: String, shape: [Int], values: [Scalar])] {
        m.isEmpty ? [] : [("adam.m", [m.count], m), ("adam.v", [v.count], v)]
    }

    public func loadState(_ tensors: [(name: String, shape: [Int], values: [Scalar])], stepCount: Int) throws {
        if tensors.isEmpty {
            m = []; v = []
        } else {
            guard tensors.count == 2, tensors[0].name == "adam.m", tensors[1].name == "adam.v",
                  tensors[0].values.count == tensors[1].values.count else {
                throw ModelError("Adam state must be the tensors adam.m and adam.v of equal size, got \(tensors.map { "\($0.name)\($0.shape)" })")
            }
            m = tensors[0].values
            v = tensors[1].values
        }
        self.stepCount = stepCount
    }
}

/// base^exponent by repeated squaring (the Model module does not import libm).
private func power(_ base: Double, _ exponent: Int) -> Double {
    var result = 1.0, b = base, e = exponent
    while e > 0 {
        if e & 1 == 1 { result *= b }
        b *= b
        e >>= 1
    }
    return result
}
