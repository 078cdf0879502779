import Kernels

/// Every parameter of a model in ONE contiguous Scalar buffer with named views; the gradients mirror
/// it element for element, so clipping, optimizer updates and serialization are flat loops.
///
/// Gradients are handled in blocks of `blockSize` floats. A block lying wholly inside a sparse
/// tensor (an embedding table, of which a batch touches few rows) is *live* only after
/// `markGradientsTouched` named it; every other block is always live. The gradient norm and the
/// SGD update visit live blocks only: a block that is not live holds zeros, adds exactly 0 to the
/// norm and leaves its weights unchanged, so skipping it changes no bit of the result.
public final class ParameterStore {
    /// Floats per gradient block (a multiple of 8, the SIMD width, dividing
    /// `Vector.sumOfSquaresChunk`, the gradient norm's summation chunk).
    public static let blockSize = 256
    /// Total number of floats.
    public let count: Int
    public let values: UnsafeMutableBufferPointer<Scalar>
    public let gradients: UnsafeMutableBufferPointer<Scalar>
    /// Named views in a fixed order (the checkpoint order).
    public let tensors: [(name: String, offset: Int, shape: [Int])]
    /// Per block: may its gradient be non-zero? `alwaysLive` marks blocks not wholly inside a
    /// sparse tensor; `live` is `alwaysLive` plus the sparse blocks touched since the last zeroing.
    private let alwaysLive: [Bool]
    private var live: [Bool]
    /// Names that are other names of a tensor in `tensors` (tied weights: `output.weight` →
    /// `target_embedding`); ``view(_:)`` resolves them, `tensors` (and so a checkpoint) holds the
    /// tensor once.
    public let aliases: [String: String]

    /// Lays out the given tensors one after the other; values and gradients start at zero.
    /// `sparse` names tensors whose gradient writers call `markGradientsTouched`; `aliases` maps
    /// a second name to a tensor of `layout` (its users then share values and gradients).
    public init(layout: [(name: String, shape: [Int])], sparse: Set<String> = [], aliases: [String: String] = [:]) {
        precondition(aliases.values.allSatisfy { target in layout.contains { $0.name == target } }, "an alias of no tensor")
        self.aliases = aliases
        var offset = 0
        var tensors: [(name: String, offset: Int, shape: [Int])] = []
        for (name, shape) in layout {
            tensors.append((name, offset, shape))
            offset += shape.reduce(1, *)
        }
        count = offset
        self.tensors = tensors
        values = .allocate(capacity: max(1, offset))
        values.initialize(repeating: 0)
        gradients = .allocate(capacity: max(1, offset))
        gradients.initialize(repeating: 0)

        let size = ParameterStore.blockSize
        var always = [Bool](repeating: true, count: (offset + size - 1) / size)
        for t in tensors where sparse.contains(t.name) {
            let end = t.offset + t.shape.reduce(1, *)
            // Only blocks wholly inside the tensor can be skipped.
            for block in ((t.offset + size - 1) / size)..<max((t.offset + size - 1) / size, end / size) {
                always[block] = false
            }
        }
        alwaysLive = always
        live = always
    }

    deinit {
        values.deallocate()
        gradients.deallocate()
    }

    /// Zeroes every gradient (dense) and forgets the touched sparse blocks.
    public func zeroGradients() {
        Vector.zero(gradients.baseAddress!, count: gradients.count)
        forgetTouched()
    }

    /// Records that `count` gradients from `start` (inside `gradients`) may now be non-zero.
    public func markGradientsTouched(_ start: UnsafeMutablePointer<Scalar>, count: Int) {
        let offset = start - gradients.baseAddress!
        precondition(offset >= 0 && offset + count <= self.count, "pointer outside the gradient buffer")
        guard count > 0 else { return }
        for block in (offset / ParameterStore.blockSize)...((offset + count - 1) / ParameterStore.blockSize) {
            live[block] = true
        }
    }

    /// Indices of the blocks that may hold non-zero gradients, increasing.
    public func liveBlocks() -> [Int] {
        live.indices.filter { live[$0] }
    }

    /// Whether block `block` may hold non-zero gradients (see ``liveBlocks()``).
    public func isLive(block: Int) -> Bool { live[block] }

    /// The float range of block `block`.
    public func range(ofBlock block: Int) -> Range<Int> {
        block * ParameterStore.blockSize..<min(count, (block + 1) * ParameterStore.blockSize)
    }

    /// To be called once every gradient is zero again (by `zeroGradients` and the optimizers).
    public func forgetTouched() {
        live = alwaysLive
    }

    /// Whether every block that is not live holds only zeros (what skipping them relies on; checked
    /// by assertions in debug builds).
    func blocksNotLiveAreZero() -> Bool {
        live.indices.allSatisfy { live[$0] || range(ofBlock: $0).allSatisfy { gradients[$0] == 0 } }
    }

    /// Index of the tensor called `name` in `tensors`.
    public func index(of name: String) -> Int? { tensors.firstIndex { $0.name == name } }

    /// Value and gradient pointers of a tensor, by its name or an alias (precondition: the name exists).
    public func view(_ name: String) -> (values: UnsafeMutablePointer<Scalar>, gradients: UnsafeMutablePointer<Scalar>, count: Int) {
        guard let i = index(of: aliases[name] ?? name) else { preconditionFailure("no parameter tensor named \(name)") }
        let t = tensors[i]
        return (values.baseAddress! + t.offset, gradients.baseAddress! + t.offset, t.shape.reduce(1, *))
    }

    /// FNV-1a over the bit patterns of all values (a fingerprint for determinism checks).
    public func checksum() -> UInt64 {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        for v in values {
            hash = (hash ^ UInt64(v.bitPattern)) &* 0x0000_0100_0000_01B3
        }
        return hash
    }
}
