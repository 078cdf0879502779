import Glibc
#if !SCALAR_DOUBLE
import CVector
#endif

/// Fast tanh and sigmoid: Eigen's rational approximation (odd degree-13 numerator over even
/// degree-6 denominator), max abs error ≈ 3e-7 against libm, about 15× faster than `tanhf` because
/// plain loops over it auto-vectorize (PLATFORM.md §3). The clamp uses comparisons, not
/// `pointwiseMin`, which would compile to per-lane calls.
public enum Activation {
    /// tanh(x), |error| ≤ ~3e-7.
    @inlinable @inline(__always)
    public static func tanh(_ value: Scalar) -> Scalar {
        #if SCALAR_DOUBLE
        return Glibc.tanh(value)   // the gradient-check build: libm, exact to Double
        #else
        let bound: Scalar = 7.90531110763549805
        let x = value > bound ? bound : (value < -bound ? -bound : value)
        let x2 = x * x
        var p: Scalar = -2.76076847742355e-16
        p = p * x2 + 2.00018790482477e-13
        p = p * x2 + -8.60467152213735e-11
        p = p * x2 + 5.12229709037114e-08
        p = p * x2 + 1.48572235717979e-05
        p = p * x2 + 6.37261928875436e-04
        p = p * x2 + 4.89352455891786e-03
        p = p * x
        var q: Scalar = 1.19825839466702e-06
        q = q * x2 + 1.18534705686654e-04
        q = q * x2 + 2.26843463243900e-03
        q = q * x2 + 4.89352518554385e-03
        return p / q
        #endif
    }

    /// σ(x) = 1/(1+e^−x) computed as 0.5 + 0.5·tanh(x/2).
    @inlinable @inline(__always)
    public static func sigmoid(_ x: Scalar) -> Scalar { 0.5 + 0.5 * tanh(0.5 * x) }

    /// e^x for x ≤ 88 (Cephes' expf: x = n·ln2 + r with |r| ≤ ln2/2, a degree-6 polynomial for e^r,
    /// 2^n from the exponent bits). Relative error ≤ ~2e-7; inputs below −87 give ~1e-38, not 0.
    /// Branch-free (round-to-nearest via the 1.5·2^23 trick), so loops over it vectorize; libm's
    /// expf does not and dominated the softmax.
    @inlinable @inline(__always)
    public static func exp(_ value: Scalar) -> Scalar {
        #if SCALAR_DOUBLE
        return Glibc.exp(value)
        #else
        let x = value > 88.3762626647949 ? 88.3762626647949 : (value < -87.3365447504 ? -87.3365447504 : value)
        let magic: Scalar = 12582912   // 1.5·2^23: adding it rounds to an integer
        let shifted = x * 1.44269504088896341 + magic
        let n = shifted - magic
        let r = (x - n * 0.693359375) - n * -2.12194440e-4
        var p: Scalar = 1.9875691500e-4
        p = p * r + 1.3981999507e-3
        p = p * r + 8.3334519073e-3
        p = p * r + 4.1665795894e-2
        p = p * r + 1.6666665459e-1
        p = p * r + 5.0000001201e-1
        let e = p * r * r + r + 1
        // n ∈ [−126, 127] sits in the low mantissa bits of `shifted`; reading it from there (not
        // with Int32(n), which checks its range and blocks vectorization) gives 2^n directly.
        let power = (shifted.bitPattern &- magic.bitPattern &+ 127) &<< 23
        return e * Scalar(bitPattern: power)
        #endif
    }

    /// Eight lanes of `exp(_:)` at once (same polynomial and bit trick), for fused reductions.
    @inlinable @inline(__always)
    public static func exp(_ value: SIMD8<Scalar>) -> SIMD8<Scalar> {
        #if SCALAR_DOUBLE
        var out = value
        for i in 0..<8 { out[i] = Glibc.exp(value[i]) }
        return out
        #else
        let high = SIMD8<Scalar>(repeating: 88.3762626647949), low = SIMD8<Scalar>(repeating: -87.3365447504)
        var x = value.replacing(with: high, where: value .> high)
        x = x.replacing(with: low, where: x .< low)
        let magic = SIMD8<Scalar>(repeating: 12582912)
        let shifted = x * 1.44269504088896341 + magic
        let n = shifted - magic
        let r = (x - n * 0.693359375) - n * -2.12194440e-4
        var p = SIMD8<Scalar>(repeating: 1.9875691500e-4)
        p = p * r + 1.3981999507e-3
        p = p * r + 8.3334519073e-3
        p = p * r + 4.1665795894e-2
        p = p * r + 1.6666665459e-1
        p = p * r + 5.0000001201e-1
        let e = p * r * r + r + 1
        let bits = unsafeBitCast(shifted, to: SIMD8<UInt32>.self) &- magic[0].bitPattern &+ 127
        return e * unsafeBitCast(bits &<< 23, to: SIMD8<Scalar>.self)
        #endif
    }

    /// d tanh/dx expressed through the output y = tanh(x): 1 − y².
    @inlinable @inline(__always)
    public static func tanhDerivative(output y: Scalar) -> Scalar { 1 - y * y }

    /// dσ/dx expressed through the output y = σ(x): y·(1 − y).
    @inlinable @inline(__always)
    public static func sigmoidDerivative(output y: Scalar) -> Scalar { y * (1 - y) }

    /// In-place tanh over a buffer: CVector's kernel for this CPU (the same bits as `tanh(_:)` on
    /// each element, on every path).
    public static func tanh(_ values: UnsafeMutableBufferPointer<Scalar>) {
        guard let p = values.baseAddress else { return }
        #if SCALAR_DOUBLE
        for i in 0..<values.count { p[i] = tanh(p[i]) }
        #else
        cvector_tanh(VectorKernels.path.code, p, values.count)
        #endif
    }

    // Alike on purpose: one entry point per function; the scalar function and the C kernel differ.
    /// In-place sigmoid over a buffer: CVector's kernel for this CPU (the same bits as
    /// `sigmoid(_:)` on each element, on every path).
    public static func sigmoid(_ values: UnsafeMutableBufferPointer<Scalar>) {
        guard let p = values.baseAddress else { return }
        #if SCALAR_DOUBLE
        for i in 0..<values.count { p[i] = sigmoid(p[i]) }
        #else
        cvector_sigmoid(VectorKernels.path.code, p, values.count)
        #endif
    }
}

#if !SCALAR_DOUBLE
/// The instruction set CVector's kernels (buffer tanh and sigmoid, softmax rows) run.
public enum VectorKernels {
    /// Default: the widest this CPU has. Tests set the others to show they give the same bits;
    /// one this CPU lacks is refused.
    public nonisolated(unsafe) static var path: VectorPath = .best {
        didSet { precondition(path.isAvailable, "vector kernel path \(path) is not available on this CPU") }
    }
}
#endif
