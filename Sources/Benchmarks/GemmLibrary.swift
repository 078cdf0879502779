import Kernels
#if canImport(Glibc)
import Glibc
#endif

/// An sgemm implementation that `seq2seq bench gemm` can time on the model's shapes: one of the
/// project's GEMM backends, the linked OpenBLAS called directly, or BLIS loaded at run time from its
/// Debian package (`libblis4-pthread`), so the project never depends on it to build or run.
///
/// Every candidate has `BLAS.gemm`'s row-major contract with alpha 1:
/// `C[m×n] = op(A)·op(B) + beta·C`.
public struct GemmLibrary {
    public typealias Call = (_ transA: Bool, _ transB: Bool, _ m: Int, _ n: Int, _ k: Int,
                             _ a: UnsafePointer<Float>, _ lda: Int, _ b: UnsafePointer<Float>, _ ldb: Int,
                             _ beta: Float, _ c: UnsafeMutablePointer<Float>, _ ldc: Int) -> Void

    public let name: String
    public let call: Call
    /// Whether the library's own pthread pool keeps spinning on a core after a product (OpenBLAS,
    /// BLIS), so that a timing right after it would share the core (see `GemmStepBench`).
    public var poolSpinsAfterUse = false

    /// A library or one of its symbols could not be loaded; the description names the file.
    public struct LoadError: Error, CustomStringConvertible {
        public let description: String
    }

    /// The OpenBLAS the project links (`cblas_sgemm` itself, without `BLAS.gemm`'s sgemv path),
    /// found among the process's own symbols, so that only Kernels imports the CBLAS module.
    /// - Throws: `LoadError` if the process has no `cblas_sgemm` (it always has: Kernels links OpenBLAS).
    public static func openBLAS(threads: Int) throws -> GemmLibrary {
        guard let address = dlsym(nil, "cblas_sgemm") else {
            throw LoadError(description: "openblas: no symbol cblas_sgemm in this process")
        }
        let sgemm = unsafeBitCast(address, to: CBLASSgemm.self)
        GemmBackend.current = .openblas  // so that the thread budget goes to OpenBLAS
        BLAS.setThreads(threads)
        // CBLAS enum values: RowMajor 101, NoTrans 111, Trans 112.
        var library = GemmLibrary(name: "openblas") { ta, tb, m, n, k, a, lda, b, ldb, beta, c, ldc in
            sgemm(101, ta ? 112 : 111, tb ? 112 : 111, Int32(m), Int32(n), Int32(k), 1, a, Int32(lda), b, Int32(ldb),
                  beta, c, Int32(ldc))
        }
        library.poolSpinsAfterUse = true
        return library
    }

    /// `cblas_sgemm` with 32-bit integers (OpenBLAS's and BLIS's 32-bit builds).
    private typealias CBLASSgemm = @convention(c) (Int32, Int32, Int32, Int32, Int32, Int32, Float, UnsafePointer<Float>,
                                                   Int32, UnsafePointer<Float>, Int32, Float,
                                                   UnsafeMutablePointer<Float>, Int32) -> Void

    /// BLIS's CBLAS `cblas_sgemm` (32-bit integers) from `path`, with its own thread count.
    public static func blis(path: String = "/usr/lib/x86_64-linux-gnu/blis-pthread/libblis.so.4",
                            threads: Int) throws -> GemmLibrary {
        let handle = try open(path)
        typealias SetThreads = @convention(c) (Int64) -> Void
        typealias IntSize = @convention(c) () -> Int64
        let intSize: IntSize = try symbol(handle, "bli_info_get_blas_int_type_size", path)
        guard intSize() == 32 else {
            throw LoadError(description: "\(path): BLAS integers are \(intSize()) bits, expected the 32-bit build")
        }
        let setThreads: SetThreads = try symbol(handle, "bli_thread_set_num_threads", path)
        let sgemm: CBLASSgemm = try symbol(handle, "cblas_sgemm", path)
        setThreads(Int64(threads))
        // CBLAS enum values: RowMajor 101, NoTrans 111, Trans 112.
        var library = GemmLibrary(name: "blis") { ta, tb, m, n, k, a, lda, b, ldb, beta, c, ldc in
            sgemm(101, ta ? 112 : 111, tb ? 112 : 111, Int32(m), Int32(n), Int32(k), 1, a, Int32(lda), b, Int32(ldb),
                  beta, c, Int32(ldc))
        }
        library.poolSpinsAfterUse = true
        return library
    }

    /// One of the project's own GEMM backends (oneDNN, OpenBLAS or the reference) through
    /// `BLAS.gemm`, as training and decoding call it; selects `backend` and the thread budget.
    public static func backend(_ backend: GemmBackend, threads: Int) -> GemmLibrary {
        GemmBackend.current = backend
        BLAS.setThreads(threads)
        var library = GemmLibrary(name: backend.rawValue) { ta, tb, m, n, k, a, lda, b, ldb, beta, c, ldc in
            if GemmBackend.current != backend {
                GemmBackend.current = backend
                BLAS.setThreads(threads)
            }
            BLAS.gemm(transA: ta, transB: tb, m: m, n: n, k: k, a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: c, ldc: ldc)
        }
        library.poolSpinsAfterUse = backend == .openblas
        return library
    }

    /// RTLD_DEEPBIND: the library's internal calls (BLIS's cblas_sgemm → sgemm_) must reach its
    /// own symbols, not the OpenBLAS ones already loaded into the process.
    private static func open(_ path: String) throws -> UnsafeMutableRawPointer {
        guard let handle = dlopen(path, RTLD_NOW | RTLD_LOCAL | RTLD_DEEPBIND) else {
            throw LoadError(description: "\(path): cannot load (\(String(cString: dlerror())))")
        }
        return handle
    }

    private static func symbol<T>(_ handle: UnsafeMutableRawPointer, _ name: String, _ path: String) throws -> T {
        guard let address = dlsym(handle, name) else {
            throw LoadError(description: "\(path): no symbol \(name)")
        }
        return unsafeBitCast(address, to: T.self)
    }
}
