import Kernels

/// Every parameter of a model in ONE contiguous Float buffer with named views; the gradients mirror
/// it element for element, so clipping, optimizer updates and serialization are flat loops.
public final class ParameterStore {
    /// Total number of floats.
    public let count: Int
    public let values: UnsafeMutableBufferPointer<Float>
    public let gradients: UnsafeMutableBufferPointer<Float>
    /// Named views in a fixed order (the checkpoint order).
    public let tensors: [(name: String, offset: Int, shape: [Int])]

    /// Lays out the given tensors one after the other; values and gradients start at zero.
    public init(layout: [(name: String, shape: [Int])]) {
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
    }

    deinit {
        values.deallocate()
        gradients.deallocate()
    }

    public func zeroGradients() {
        Vector.zero(gradients.baseAddress!, count: gradients.count)
    }

    /// Index of the tensor called `name` in `tensors`.
    public func index(of name: String) -> Int? { tensors.firstIndex { $0.name == name } }

    /// Value and gradient pointers of a tensor (precondition: the name exists).
    public func view(_ name: String) -> (values: UnsafeMutablePointer<Float>, gradients: UnsafeMutablePointer<Float>, count: Int) {
        guard let i = index(of: name) else { preconditionFailure("no parameter tensor named \(name)") }
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
