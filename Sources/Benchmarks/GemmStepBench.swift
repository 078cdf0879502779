import Dispatch
#if canImport(Glibc)
import Glibc
#endif
import Kernels

/// Times GEMM libraries on the shapes of one training step (`bench gemm`, `doctor`): each shape is
/// checked against a reference library first, then timed best-of-repeats.
public struct GemmStepBench {
    /// One library's figures: GFLOP/s per shape (in the order of `shapes`) and the whole step's
    /// GEMM seconds (each shape's best time × its count per step).
    public struct Figures {
        public let library: String
        public var shapeGFLOPs: [Double] = []
        public var stepSeconds = 0.0
    }

    /// A library gave a result further than `1e-4·k` from the reference on a shape.
    public struct WrongResult: Error, CustomStringConvertible {
        public let description: String
    }

    public let shapes: [TrainBenchmark.GemmShape]
    /// Flops of one step's GEMMs.
    public var stepFlops: Double { shapes.reduce(0) { $0 + $1.flops * Double($1.count) } }

    public init(shapes: [TrainBenchmark.GemmShape]) { self.shapes = shapes }

    /// After a product of a library with its own pthread pool (OpenBLAS, BLIS), waits until that
    /// pool's idle workers stop spinning, so that they do not take a core from the next library's
    /// timed runs. Measured: OpenBLAS 0.3.21's worker spins a whole core for 100–110 ms after a
    /// product; timing oneDNN within that window gave a third of its speed (70–78 GFLOP/s on the
    /// small preset's 1024×1024×256 products against 240–250 after the wait).
    static func letPoolThreadsSettle(after library: GemmLibrary) {
        guard library.poolSpinsAfterUse else { return }
        usleep(150_000)
    }

    /// Figures for each of `libraries`, checked against `reference`; at least `repeats` timed
    /// runs per shape (more for small shapes, up to 50).
    /// - Throws: `WrongResult` naming the library and shape.
    public func run(_ libraries: [GemmLibrary], reference: GemmLibrary, repeats: Int) throws -> [Figures] {
        // Operands sized for the largest shape, filled once with values in [-1, 1).
        let size = shapes.map { max($0.m * $0.k, $0.k * $0.n, $0.m * $0.n) }.max() ?? 1
        var rng = SeededGenerator(seed: 3)
        let a = (0..<size).map { _ in rng.nextFloat(in: -1, 1) }, b = (0..<size).map { _ in rng.nextFloat(in: -1, 1) }
        var c = [Float](repeating: 0, count: size), expected = c
        var figures = libraries.map { Figures(library: $0.name) }
        for shape in shapes {
            let lda = shape.transA ? shape.m : shape.k, ldb = shape.transB ? shape.k : shape.n
            func multiply(_ library: GemmLibrary, _ out: inout [Float]) {
                a.withUnsafeBufferPointer { a in
                    b.withUnsafeBufferPointer { b in
                        out.withUnsafeMutableBufferPointer { o in
                            library.call(shape.transA, shape.transB, shape.m, shape.n, shape.k, a.baseAddress!, lda,
                                         b.baseAddress!, ldb, 0, o.baseAddress!, shape.n)
                        }
                    }
                }
            }
            multiply(reference, &expected)
            Self.letPoolThreadsSettle(after: reference)
            for (i, library) in libraries.enumerated() {
                multiply(library, &c)
                let worst = zip(c.prefix(shape.m * shape.n), expected.prefix(shape.m * shape.n)).map { abs($0 - $1) }.max()!
                guard worst <= 1e-4 * Float(shape.k) else {
                    throw WrongResult(description: "\(library.name): wrong result on \(shape.name) (max difference \(worst))")
                }
                var best = Double.infinity
                let reps = max(repeats, min(50, Int(2e9 / shape.flops)))  // small shapes: more repeats
                for _ in 0..<reps {
                    let start = DispatchTime.now().uptimeNanoseconds
                    multiply(library, &c)
                    best = min(best, Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9)
                }
                figures[i].stepSeconds += best * Double(shape.count)
                figures[i].shapeGFLOPs.append(shape.flops / best / 1e9)
                Self.letPoolThreadsSettle(after: library)
            }
        }
        return figures
    }
}
