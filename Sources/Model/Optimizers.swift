import Kernels

/// Global L2-norm gradient clipping (Pascanu, Mikolov & Bengio 2013; Sutskever 2014 uses 5).
/// Returns the norm BEFORE clipping; scales all gradients by maxNorm/norm when norm > maxNorm.
/// A non-finite norm is returned as is and nothing is scaled (the caller skips the batch).
public func clipGradientNorm(_ parameters: ParameterStore, maxNorm: Float) -> Float {
    let norm = gradientNorm(parameters)
    if norm.isFinite && norm > maxNorm {
        Vector.scale(parameters.gradients.baseAddress!, count: parameters.count, by: maxNorm / norm)
    }
    return norm
}

/// The global L2 norm of all gradients.
public func gradientNorm(_ parameters: ParameterStore) -> Float {
    Float(Vector.sumOfSquares(parameters.gradients.baseAddress!, count: parameters.count).squareRoot())
}

/// Multiplies every gradient by `factor` (e.g. 1/tokens to turn `trainStep`'s summed-loss
/// gradient into the gradient of the mean loss).
public func scaleGradients(_ parameters: ParameterStore, by factor: Float) {
    Vector.scale(parameters.gradients.baseAddress!, count: parameters.count, by: factor)
}

/// A first-order optimizer over a ParameterStore's flat buffers.
public protocol Optimizer: AnyObject {
    /// One update from the current gradients (which it does not zero).
    func step(_ parameters: ParameterStore, learningRate: Float)
    /// Updates done so far.
    var stepCount: Int { get }
    /// State for checkpoints, one flat tensor per moment, shaped [count].
    func stateTensors() -> [(name: String, shape: [Int], values: [Float])]
    func loadState(_ tensors: [(name: String, shape: [Int], values: [Float])], stepCount: Int) throws
}

/// Plain SGD: θ ← θ − lr·g.
public final class SGD: Optimizer {
    public private(set) var stepCount = 0
    public init() {}

    public func step(_ parameters: ParameterStore, learningRate: Float) {
        Vector.parallelAxpy(-learningRate, parameters.gradients.baseAddress!, parameters.values.baseAddress!, count: parameters.count)
        stepCount += 1
    }

    public func stateTensors() -> [(name: String, shape: [Int], values: [Float])] { [] }

    public func loadState(_ tensors: [(name: String, shape: [Int], values: [Float])], stepCount: Int) throws {
        if !tensors.isEmpty { throw ModelError("SGD has no state tensors, but the checkpoint holds \(tensors.map(\.name))") }
        self.stepCount = stepCount
    }
}

/// Adam (Kingma & Ba 2015) with bias correction:
///     m ← β1·m + (1−β1)·g,  v ← β2·v + (1−β2)·g²,  θ ← θ − lr·m̂/(√v̂ + ε),
///     m̂ = m/(1−β1^t), v̂ = v/(1−β2^t). Moments mirror the store; allocated on the first step.
public final class Adam: Optimizer {
    public let beta1: Float, beta2: Float, epsilon: Float
    public private(set) var stepCount = 0
    private var m: [Float] = [], v: [Float] = []

    public init(beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-8) {
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
    }

    public func step(_ parameters: ParameterStore, learningRate: Float) {
        let n = parameters.count
        if m.count != n {
            m = [Float](repeating: 0, count: n)
            v = [Float](repeating: 0, count: n)
        }
        stepCount += 1
        let c1 = Float(1 - power(Double(beta1), stepCount)), c2 = Float(1 - power(Double(beta2), stepCount))
        let (b1, b2, eps) = (beta1, beta2, epsilon)
        let step = learningRate / c1, invC2 = 1 / c2
        let g = parameters.gradients.baseAddress!, theta = parameters.values.baseAddress!
        m.withUnsafeMutableBufferPointer { mb in
            v.withUnsafeMutableBufferPointer { vb in
                let mp = mb.baseAddress!, vp = vb.baseAddress!
                Parallel.forEachPart(n) { range in
                    for i in range {
                        let gi = g[i]
                        let mi = b1 * mp[i] + (1 - b1) * gi
                        let vi = b2 * vp[i] + (1 - b2) * gi * gi
                        mp[i] = mi
                        vp[i] = vi
                        theta[i] -= step * mi / ((vi * invC2).squareRoot() + eps)
                    }
                }
            }
        }
    }

    public func stateTensors() -> [(name: String, shape: [Int], values: [Float])] {
        m.isEmpty ? [] : [("adam.m", [m.count], m), ("adam.v", [v.count], v)]
    }

    public func loadState(_ tensors: [(name: String, shape: [Int], values: [Float])], stepCount: Int) throws {
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
