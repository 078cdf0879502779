import CPeak
import Dispatch
import Kernels
#if canImport(Glibc)
import Glibc
#endif

/// The workloads of `seq2seq bench int8`: the core's multiply-add peak (independent chains in
/// assembly, CPeak), the decoding shapes, and oneDNN's int8 GEMM loaded at run time.
public enum Int8Benchmark {
    /// A peak loop: the instruction sequence whose throughput is measured.
    public enum PeakLoop: String, CaseIterable, Sendable {
        /// 12 chains of `vfmadd231ps ymm`: 8 float32 multiply-adds each.
        case float32FMA = "float32 FMA (vfmadd231ps ymm)"
        /// 12 chains of `vfmadd231ps zmm`: 16 float32 multiply-adds each.
        case float32FMA512 = "float32 FMA (vfmadd231ps zmm)"
        /// 6 chains of `vpmaddubsw` + `vpmaddwd` + `vpaddd` ymm: 32 int8 multiply-adds each.
        case int8AVX2 = "int8 AVX2 (vpmaddubsw+vpmaddwd+vpaddd ymm)"
        /// 12 chains of `vpdpbusd zmm`: 64 int8 multiply-adds each.
        case int8VNNI = "int8 AVX512-VNNI (vpdpbusd zmm)"

        /// Whether this CPU has the instructions.
        public var isAvailable: Bool {
            switch self {
            case .float32FMA, .int8AVX2: cpeak_has_avx2_fma() != 0
            case .int8VNNI: cpeak_has_avx512vnni() != 0
            case .float32FMA512: cpeak_has_avx512f() != 0
            }
        }

        func run(_ iterations: Int) -> Int {
            switch self {
            case .float32FMA: cpeak_fma32(iterations)
            case .int8AVX2: cpeak_int8_avx2(iterations)
            case .int8VNNI: cpeak_int8_vnni(iterations)
            case .float32FMA512: cpeak_fma32_avx512(iterations)
            }
        }
    }

    /// The float32 FMA peak of `threads` threads in GFLOP/s: the best of the ymm and (where the CPU
    /// has AVX-512 and `allowAVX512`) zmm loops; 0 on a CPU without FMA. What `doctor` and `bench gemm` compare with.
    public static func float32Peak(threads: Int, allowAVX512: Bool = true) -> Double {
        let loops: [PeakLoop] = allowAVX512 ? [.float32FMA, .float32FMA512] : [.float32FMA]
        return loops.filter(\.isAvailable).map { peak($0, threads: threads) }.max() ?? 0
    }

    /// Giga-operations per second (1 multiply-add = 2 ops) of `threads` threads each running
    /// `loop` for about `seconds`; the best of `repeats` timings.
    public static func peak(_ loop: PeakLoop, threads: Int, seconds: Double = 0.2, repeats: Int = 3) -> Double {
        precondition(loop.isAvailable && threads >= 1)
        // Calibrate on one thread: trips per second.
        var trips = 1 << 16
        while true {
            let start = DispatchTime.now().uptimeNanoseconds
            _ = loop.run(trips)
            let elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9
            if elapsed > 0.02 { trips = max(1, Int(Double(trips) * seconds / elapsed)); break }
            trips *= 4
        }
        var best = 0.0
        for _ in 0..<repeats {
            let start = DispatchTime.now().uptimeNanoseconds
            var done = [Int](repeating: 0, count: threads)
            done.withUnsafeMutableBufferPointer { done in
                let slots = done.baseAddress!
                DispatchQueue.concurrentPerform(iterations: threads) { t in slots[t] = loop.run(trips) }
            }
            let elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9
            best = max(best, 2 * Double(done.reduce(0, +)) / elapsed / 1e9)
        }
        return best
    }

    /// One product shape of decoding: W [N×K] (N out, K in).
    public struct Shape: Sendable {
        public var name: String
        /// The `bench int8 --shapes` key.
        public var key: String
        public var n: Int, k: Int
    }

    /// The decoder's products at the bench translate presets: the small output layer (V 8000, H
    /// 256), an LSTM's gates with input feeding ([x | h̃ | h] 768 in, 4H = 1024 out), attention's
    /// W_c ([c | h] 512 → H 256) and the medium output layer (V 16000, H 512).
    public static let shapes: [Shape] = [
        Shape(name: "output small", key: "output-small", n: 8000, k: 256),
        Shape(name: "LSTM gates", key: "lstm-gates", n: 1024, k: 768),
        Shape(name: "attention W_c", key: "attention", n: 256, k: 512),
        Shape(name: "output medium", key: "output-medium", n: 16000, k: 512),
    ]

    /// Row counts m: greedy batch 1, beam 5 batch 1, batch 64 greedy, beam 5 × batch 64.
    public static let rows = [1, 5, 64, 320]
}

/// oneDNN's `dnnl_gemm_u8s8s32` (row-major, C[m×n] int32 = (A − ao)·(B − bo)), loaded at run time
/// from Debian's libdnnl2 so that the project never depends on it to build or run.
public struct Int8GemmLibrary {
    /// `sums[m×N] = (a8 − 128)·W8ᵀ`: a8 [m×K] is A quantized and shifted by 128 as u8 (ao = 128
    /// undoes the shift), W8 [N×K] the int8 weight rows.
    public typealias Call = (_ m: Int, _ n: Int, _ k: Int, _ a8: UnsafePointer<UInt8>, _ w8: UnsafePointer<Int8>,
                             _ sums: UnsafeMutablePointer<Int32>) -> Void
    public let name: String
    public let call: Call

    /// oneDNN from `path`, its OpenMP runtime given `threads`.
    /// - Throws: `GemmLibrary.LoadError` naming the file when it or a symbol is missing.
    public static func dnnl(path: String = "/usr/lib/x86_64-linux-gnu/libdnnl.so.2", threads: Int) throws -> Int8GemmLibrary {
        guard let handle = dlopen(path, RTLD_NOW | RTLD_LOCAL | RTLD_DEEPBIND) else {
            throw GemmLibrary.LoadError(description: "\(path): cannot load (\(String(cString: dlerror())))")
        }
        func symbol<T>(_ name: String) throws -> T {
            guard let address = dlsym(handle, name) else { throw GemmLibrary.LoadError(description: "\(path): no symbol \(name)") }
            return unsafeBitCast(address, to: T.self)
        }
        typealias SetThreads = @convention(c) (Int32) -> Void
        typealias Gemm = @convention(c) (CChar, CChar, CChar, Int64, Int64, Int64, Float, UnsafePointer<UInt8>, Int64, UInt8,
                                         UnsafePointer<Int8>, Int64, Int8, Float, UnsafeMutablePointer<Int32>, Int64,
                                         UnsafePointer<Int32>) -> Int32
        let setThreads: SetThreads = try symbol("omp_set_num_threads")
        let gemm: Gemm = try symbol("dnnl_gemm_u8s8s32")
        setThreads(Int32(threads))
        let (no, yes, fixed) = (CChar(UInt8(ascii: "N")), CChar(UInt8(ascii: "T")), CChar(UInt8(ascii: "F")))
        return Int8GemmLibrary(name: "dnnl u8s8s32") { m, n, k, a, w, sums in
            var zero: Int32 = 0
            let status = gemm(no, yes, fixed, Int64(m), Int64(n), Int64(k), 1, a, Int64(k), 128, w, Int64(k), 0, 0, sums,
                              Int64(n), &zero)
            precondition(status == 0, "dnnl_gemm_u8s8s32 failed with status \(status)")
        }
    }
}
