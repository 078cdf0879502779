#if SCALAR_DOUBLE
/// The element type of every matrix: Double in the gradient-check build (`-D SCALAR_DOUBLE`).
public typealias Scalar = Double
#else
/// The element type of every matrix: Float (Double only in the gradient-check build).
public typealias Scalar = Float
#endif
