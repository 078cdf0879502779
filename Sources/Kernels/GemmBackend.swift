import CBLAS
import CDNNL
import CGemm
import Glibc

/// The library behind every float32 matrix product of training and decoding (`BLAS.gemm`).
///
/// - ``onednn``: oneDNN's `dnnl_sgemm` (Debian libdnnl2). Its kernels are generated at run time for
///   the instruction set the CPU has (AVX2, AVX-512, …), so a CPU that OpenBLAS 0.3.21's model table
///   does not know still gets native code. Runs on oneDNN's OpenMP threads.
/// - ``openblas``: OpenBLAS's `cblas_sgemm` (its kernels come from a table of CPU models: on a CPU
///   it does not know, e.g. Intel family 6 model 207, it silently runs SSE3 "Prescott" kernels).
/// - ``reference``: CGemm's blocked loops, the same bits on every x86-64 CPU (fixed summation order,
///   no FMA; see `cgemm.h`), vectorized per instruction set without changing a bit. Slower; pins
///   results in tests and makes two machines' runs comparable.
///
/// The fast backends differ from the reference (and from each other) in the last bits: their
/// blocking changes the summation order. Each is deterministic for a fixed thread count.
public enum GemmBackend: String, CaseIterable, Sendable {
    case onednn, openblas, reference

    /// The process's backend. Set once at start-up (``select(_:)``), before any thread
    /// multiplies; changing it mid-run changes the bits.
    public nonisolated(unsafe) static var current: GemmBackend = automatic.backend

    /// A backend for the products of one scope only (``withBackend(_:_:)``), e.g. one test among
    /// tests that run at the same time; nil outside such a scope.
    @TaskLocal public static var scoped: GemmBackend?

    /// The backend the next product on this thread (or task) uses: ``scoped``, else ``current``.
    public static var inUse: GemmBackend { scoped ?? current }

    /// Runs `body` with every product it makes, on this thread, through `backend`, whatever the
    /// process's backend is; other threads and tasks keep theirs.
    public static func withBackend<T>(_ backend: GemmBackend, _ body: () throws -> T) rethrows -> T {
        try $scoped.withValue(backend, operation: body)
    }

    /// What `auto` picks on this CPU, and why, from cpuid alone (never from a timing race, so the
    /// same machine always picks the same backend): oneDNN on any CPU with AVX2 and FMA (its
    /// generated kernels reach 80–87 % of the FMA peak on AVX-512 and AVX2 CPUs alike: the shared
    /// PLATFORM.md §6 on an Intel Xeon, docs/results/speed.md on a Zen 4), OpenBLAS on older CPUs,
    /// where oneDNN's generated code has no advantage.
    public static var automatic: (backend: GemmBackend, reason: String) {
        let cpu = CPUInfo.current
        if cpu.avx2 && cpu.fma {
            let isa = cpu.avx512f ? "AVX-512" : "AVX2+FMA"
            return (.onednn, "the CPU has \(isa): oneDNN generates \(isa) kernels at run time")
        }
        return (.openblas, "the CPU has no AVX2+FMA: oneDNN has no advantage there")
    }

    /// A `--gemm` / `SEQ2SEQ_GEMM` value: `auto` or a backend's name.
    public enum Choice: Equatable, Sendable {
        case auto
        case backend(GemmBackend)

        /// Parses `auto`, `onednn`, `openblas` or `reference`; nil for anything else.
        public init?(_ text: String) {
            if text == "auto" { self = .auto } else if let backend = GemmBackend(rawValue: text) { self = .backend(backend) } else { return nil }
        }

        /// The backend this choice means on this CPU.
        public var resolved: GemmBackend {
            switch self {
            case .auto: return GemmBackend.automatic.backend
            case .backend(let backend): return backend
            }
        }
    }

    /// The names `--gemm` accepts, for help and error texts.
    public static let choiceNames = "auto, onednn, openblas or reference"

    /// Makes `choice` the process's backend (see ``current``).
    public static func select(_ choice: Choice) {
        current = choice.resolved
    }

    /// oneDNN refused `limitInstructionSet` (it must come before oneDNN's first product).
    public struct LimitError: Error, CustomStringConvertible {
        public let description: String
    }

    /// Caps every run-time choice of instruction set at `path`: oneDNN's generated kernels
    /// (`dnnl_set_max_cpu_isa`), the reference GEMM, the packed product and the vector kernels. For
    /// measuring what a CPU without AVX-512 gets on one that has it. Call before any product.
    /// - Throws: `LimitError` when oneDNN refuses (a product already ran).
    public static func limitInstructionSet(to path: VectorPath) throws {
        let isa: dnnl_cpu_isa_t = path == .avx512 ? dnnl_cpu_isa_all : path == .avx2 ? dnnl_cpu_isa_avx2 : dnnl_cpu_isa_sse41
        let status = dnnl_set_max_cpu_isa(isa)
        guard status == dnnl_success else {
            throw LimitError(description: "oneDNN refused the instruction-set limit \(path.rawValue) (status \(status.rawValue))")
        }
        func capped(_ current: VectorPath) -> VectorPath {
            let order: [VectorPath] = [.scalar, .avx2, .avx512]
            return order.firstIndex(of: current)! <= order.firstIndex(of: path)! ? current : path
        }
        ReferenceGemm.path = capped(ReferenceGemm.path)
        PackedWeights.path = capped(PackedWeights.path)
        VectorKernels.path = capped(VectorKernels.path)
    }

    /// A one-line warning when `backend` is known to be slow on this CPU (OpenBLAS below the CPU's
    /// instruction set, or the reference backend), else nil. Printed by `train` and `translate`.
    public static func slownessWarning(for backend: GemmBackend) -> String? {
        switch backend {
        case .reference:
            return "warning: --gemm reference is the bit-pinned backend, several times slower than --gemm auto"
        case .openblas:
            let cpu = CPUInfo.current
            let core = BLAS.coreName
            if let below = OpenBLASCore.shortfall(core: core, cpu: cpu) {
                return "warning: OpenBLAS runs its \(core) kernels on this CPU (\(below)); --gemm auto picks \(automatic.backend.rawValue)"
            }
            return nil
        case .onednn:
            return nil
        }
    }

    /// The library's version, as it reports it.
    public var version: String {
        switch self {
        case .onednn:
            guard let v = dnnl_version()?.pointee else { return "unknown" }
            return "\(v.major).\(v.minor).\(v.patch)"
        case .openblas:
            guard let config = openblas_get_config() else { return "unknown" }
            return String(cString: config)
        case .reference:
            return "seq2seq CGemm (\(ReferenceGemm.pathName))"
        }
    }

    /// The instruction set the backend's kernels use on this CPU ("AVX-512", "AVX2", "SSE3", …).
    public var instructionSet: String {
        switch self {
        case .onednn:
            switch dnnl_get_effective_cpu_isa() {
            case dnnl_cpu_isa_avx512_core_amx: return "AVX-512+AMX"
            case dnnl_cpu_isa_avx512_core_bf16: return "AVX-512 (BF16)"
            case dnnl_cpu_isa_avx512_core_vnni: return "AVX-512 (VNNI)"
            case dnnl_cpu_isa_avx512_core: return "AVX-512"
            case dnnl_cpu_isa_avx2_vnni: return "AVX2 (VNNI)"
            case dnnl_cpu_isa_avx2: return "AVX2"
            case dnnl_cpu_isa_avx: return "AVX"
            case dnnl_cpu_isa_sse41: return "SSE4.1"
            default: return "unknown"
            }
        case .openblas:
            return OpenBLASCore.instructionSet(of: BLAS.coreName) ?? "unknown (core \(BLAS.coreName))"
        case .reference:
            return ReferenceGemm.pathName
        }
    }
}

/// What OpenBLAS's core names mean in instruction sets, to tell when its table fell short of the CPU.
enum OpenBLASCore {
    /// The widest instruction set a core's sgemm kernels use (nil for a name not listed here).
    static func instructionSet(of core: String) -> String? {
        switch core.lowercased() {
        case "skylakex", "cooperlake", "sapphirerapids": return "AVX-512"
        case "haswell", "zen", "excavator", "steamroller": return "AVX2"
        case "sandybridge", "bulldozer", "piledriver": return "AVX"
        case "nehalem", "barcelona", "core2", "penryn", "dunnington", "atom", "nano": return "SSE"
        case "prescott", "katmai", "coppermine", "northwood", "opteron", "opteron_sse3", "banias": return "SSE3"
        default: return nil
        }
    }

    /// A phrase saying how far below the CPU OpenBLAS's core is, or nil when it uses what the CPU has.
    static func shortfall(core: String, cpu: CPUInfo) -> String? {
        guard let isa = instructionSet(of: core) else { return nil }
        let best = cpu.avx512f ? "AVX-512" : cpu.avx2 ? "AVX2" : cpu.avx ? "AVX" : "SSE"
        let rank = ["SSE3": 0, "SSE": 0, "AVX": 1, "AVX2": 2, "AVX-512": 3]
        guard let have = rank[isa], let could = rank[best], have < could else { return nil }
        return "\(isa) kernels on a CPU with \(best)"
    }
}

/// The vector code CGemm's kernels run (the reference GEMM, the packed few-row product): each
/// kernel gives the same bits on all three (see `cgemm.h`).
public enum VectorPath: String, CaseIterable, Sendable {
    case scalar, avx2, avx512

    /// The C kernels' constant for this path (CGEMM_PATH_*, equal to CVECTOR_PATH_*).
    public var code: Int32 {
        switch self {
        case .scalar: Int32(CGEMM_PATH_SCALAR)
        case .avx2: Int32(CGEMM_PATH_AVX2)
        case .avx512: Int32(CGEMM_PATH_AVX512)
        }
    }

    /// Whether this CPU (and its operating system) can run it, from cpuid: every kernel's AVX2
    /// path may use FMA too, so avx2 means AVX2 and FMA. The one check every C kernel's path is
    /// chosen by (the reference GEMM, the packed product, the vector kernels).
    public var isAvailable: Bool {
        switch self {
        case .scalar: true
        case .avx2: CPUInfo.current.avx2 && CPUInfo.current.fma
        case .avx512: CPUInfo.current.avx512f
        }
    }

    /// The widest this CPU has.
    public static let best: VectorPath = [.avx512, .avx2].first { $0.isAvailable } ?? .scalar
}

/// The reference GEMM's entry from Swift.
public enum ReferenceGemm {
    /// The path the reference backend runs (default: the widest this CPU has). Tests set the others
    /// to show that they give the same bits; setting one this CPU lacks is a programming error.
    public nonisolated(unsafe) static var path: VectorPath = .best {
        didSet { precondition(path.isAvailable, "reference GEMM path \(path) is not available on this CPU") }
    }

    static var pathName: String {
        switch path {
        case .avx512: return "AVX-512"
        case .avx2: return "AVX2"
        case .scalar: return "scalar"
        }
    }

    /// `C = alpha·op(A)·op(B) + beta·C` with the arithmetic of `cgemm.h`; the columns are split
    /// into `threads` parts (a split never changes a column's sum, so nor the bits).
    public static func gemm(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float,
                            a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                            beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int, threads: Int) {
        let path = self.path
        let panels = (n + 15) / 16
        let parts = m * n * k >= 1 << 18 ? max(1, min(threads, panels)) : 1
        let space = cgemm_reference_workspace(k)
        let workspace = ThreadWorkspace.forThisThread(.referenceGemm, floats: parts * space)
        // The parts' arguments in a struct on this stack: nothing is allocated per call.
        var job = Job(path: path.code, transA: transA ? 1 : 0, transB: transB ? 1 : 0, m: m, n: n, k: k, alpha: alpha,
                      a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: c, ldc: ldc, panels: panels, parts: parts,
                      workspace: workspace, space: space)
        withUnsafePointer(to: &job) { job in
            WorkerPool.shared.run(parts: parts, context: job) { raw, part in
                let j = raw.load(as: Job.self)
                let lo = min(j.n, j.panels * part / j.parts * 16), hi = min(j.n, j.panels * (part + 1) / j.parts * 16)
                guard lo < hi else { return }
                cgemm_reference(j.path, j.transA, j.transB, j.m, j.n, j.k, j.alpha, j.a, j.lda, j.b, j.ldb, j.beta,
                                j.c, j.ldc, lo, hi, j.workspace + part * j.space)
            }
        }
    }

    /// One split product's arguments (see `gemm`).
    private struct Job {
        let path: Int32, transA: Int32, transB: Int32, m: Int, n: Int, k: Int, alpha: Float
        let a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int, beta: Float
        let c: UnsafeMutablePointer<Float>, ldc: Int, panels: Int, parts: Int
        let workspace: UnsafeMutablePointer<Float>, space: Int
    }
}

/// Scratch kept per calling thread between products (grown when a call needs more), so a product
/// allocates nothing in the steady state (`bench translate --count-allocations`): the reference
/// GEMM's packed panels (parts of one call use disjoint slices) and oneDNN's re-strided Aᵀ (see
/// `OneDNN.gemm`). Each slot's buffer is freed when its thread exits.
private final class ThreadWorkspace {
    /// What a buffer is for; each slot has its own buffer on each thread.
    enum Slot: Int, CaseIterable { case referenceGemm, paddedOperand }

    private(set) var pointer: UnsafeMutablePointer<Float>
    private(set) var capacity: Int

    private init(capacity: Int) {
        self.capacity = capacity
        pointer = .allocate(capacity: capacity)
    }

    deinit { pointer.deallocate() }

    private static let keys: [pthread_key_t] = Slot.allCases.map { _ in
        var key = pthread_key_t()
        pthread_key_create(&key) { raw in if let raw { Unmanaged<ThreadWorkspace>.fromOpaque(raw).release() } }
        return key
    }

    /// `floats` floats of this thread's buffer for `slot` (valid until its next call here).
    static func forThisThread(_ slot: Slot, floats: Int) -> UnsafeMutablePointer<Float> {
        let key = keys[slot.rawValue], needed = max(1, floats)
        if let raw = pthread_getspecific(key) {
            let workspace = Unmanaged<ThreadWorkspace>.fromOpaque(raw).takeUnretainedValue()
            if workspace.capacity >= needed { return workspace.pointer }
            workspace.pointer.deallocate()
            workspace.pointer = .allocate(capacity: needed)
            workspace.capacity = needed
            return workspace.pointer
        }
        let workspace = ThreadWorkspace(capacity: needed)
        pthread_setspecific(key, Unmanaged.passRetained(workspace).toOpaque())
        return workspace.pointer
    }
}

/// oneDNN's sgemm and its OpenMP thread count.
enum OneDNN {
    /// `dnnl_sgemm` (row-major, as `BLAS.gemm`). oneDNN returns a status instead of calling XERBLA;
    /// the arguments come from our own shapes, so a failure is a programming error. `restride` and
    /// `split` override ``restridesTransposedOperand(transA:lda:)`` and
    /// ``split(transA:transB:m:n:k:threads:)`` (tests; nil: the rules decide).
    static func gemm(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float,
                     a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                     beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int, restride: Bool? = nil,
                     split: Split? = nil) {
        // libgomp keeps the thread count per calling thread: a thread other than the one that set
        // the budget (serve's decoding thread, the lab's workers) would otherwise get all cores.
        if omp_get_max_threads() != Int32(BLAS.budget) { omp_set_num_threads(Int32(BLAS.budget)) }
        var a = a, lda = lda
        if transA, restride ?? restridesTransposedOperand(transA: transA, lda: lda) {
            let copy = ThreadWorkspace.forThisThread(.paddedOperand, floats: k * restridedStride(lda))
            lda = OneDNN.restride(a, k: k, m: m, lda: lda, into: copy)
            a = UnsafePointer(copy)
        }
        let threads = BLAS.budget
        let split = threads > 1 ? split ?? Self.split(transA: transA, transB: transB, m: m, n: n, k: k, threads: threads) : .whole
        if split != .whole {
            // One single-threaded product per thread of the team, on its own block of columns or
            // rows of C (oneDNN runs a product called inside a parallel region on the calling
            // thread alone).
            var job = PartJob(split: split, transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda,
                              b: b, ldb: ldb, beta: beta, c: c, ldc: ldc, parts: threads)
            withUnsafePointer(to: &job) { job in
                OpenMPTeam.run(parts: threads, threads: threads, context: job) { raw, part in
                    let j = raw.load(as: PartJob.self)
                    var (m, n, a, b, c) = (j.m, j.n, j.a, j.b, j.c)
                    if j.split == .columns {
                        let columns = Parallel.part(part, of: j.parts, count: j.n, granularity: Parallel.columnBlock)
                        guard !columns.isEmpty else { return }
                        // Columns lo..<hi of op(B): rows of B when it is transposed ([n, k]), else columns.
                        n = columns.count
                        b += j.transB ? columns.lowerBound * j.ldb : columns.lowerBound
                        c += columns.lowerBound
                    } else {
                        let rows = Parallel.part(part, of: j.parts, count: j.m, granularity: Parallel.columnBlock)
                        guard !rows.isEmpty else { return }
                        // Rows lo..<hi of op(A): columns of A when it is transposed ([k, m]), else rows.
                        m = rows.count
                        a += j.transA ? rows.lowerBound : rows.lowerBound * j.lda
                        c += rows.lowerBound * j.ldc
                    }
                    let status = dnnl_sgemm(j.transA ? 84 : 78, j.transB ? 84 : 78, Int64(m), Int64(n), Int64(j.k), j.alpha,
                                            a, Int64(j.lda), b, Int64(j.ldb), j.beta, c, Int64(j.ldc))
                    precondition(status == dnnl_success, "dnnl_sgemm failed (status \(status.rawValue)) on m=\(m) n=\(n) k=\(j.k)")
                }
            }
            return
        }
        let status = dnnl_sgemm(transA ? 84 : 78, transB ? 84 : 78, Int64(m), Int64(n), Int64(k), alpha, a, Int64(lda),
                                b, Int64(ldb), beta, c, Int64(ldc))
        precondition(status == dnnl_success, "dnnl_sgemm failed (status \(status.rawValue)) on m=\(m) n=\(n) k=\(k)")
    }

    /// How `gemm` divides a product between the threads: ``whole`` leaves it to oneDNN; ``columns``
    /// and ``rows`` give each thread of the team one single-threaded product on its own block of
    /// columns or rows of C, cut by `Parallel.part` in `Parallel.columnBlock` blocks.
    enum Split: Sendable { case whole, columns, rows }

    /// A split product's arguments (see `gemm`), on the caller's stack.
    private struct PartJob {
        let split: Split, transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float, a: UnsafePointer<Float>, lda: Int
        let b: UnsafePointer<Float>, ldb: Int, beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int, parts: Int
    }

    /// The rule `gemm` splits a product by (with more than one thread).
    ///
    /// - ``columns`` for A·Bᵀ (NT) below AVX-512: oneDNN 2.6.3's AVX2 sgemm splits NT poorly between
    ///   2 threads. Measured on the Zen 5 (family 26 model 2) with the AVX2 cap, m×n×k =
    ///   1024×8000×256 (the output layer's logits) 204–214 GFLOP/s against 255–260 split by columns,
    ///   1024×1024×256 (an LSTM's input projection) 202–204 against 258–260, 1024×2048×512 242
    ///   against 261; NN and TN products gain nothing (±2 %), nor does any product with AVX-512
    ///   kernels (480–512 either way).
    /// - ``rows`` for every large Aᵀ·B (TN), on any instruction set. For the recurrent layers' weight
    ///   gradients (daᵀ·X) each thread then reads only the columns of A that it wrote itself, since
    ///   the re-strided copy below split A's columns the same way (`Parallel.part` in blocks of 16).
    ///   The output layer's dW = dzᵀ·h had that reason too while the softmax's backward pass wrote
    ///   dz by columns; dz is now finished row by row in the forward pass, so half of A comes from
    ///   the other thread, and the step still measured faster (speed.md, 2026-12-07 late night). The
    ///   other Aᵀ·B products (attention's weight gradients, the embedding's) are split the same way
    ///   without that reason, measured no slower. On this 2-vCPU VM the two vCPUs
    ///   sometimes sit on core complexes apart (a cache line's round trip 350–400 ns against 80–130:
    ///   `seq2seq doctor`), and a product that packs lines the other core wrote then waits on each:
    ///   `bench train --preset small --max-isa avx2`, steps alternated with and without the row
    ///   split in one process, far apart 125.2 → 119.6, 127.1 → 119.0, 126.1 → 119.2, 124.2 → 119.4
    ///   ms a step, close together ±0.6 % (noise); with AVX-512 kernels ±0.5 % either way. On that
    ///   CPU oneDNN's own split of the recurrent and output products cut rows of C as well, so their
    ///   bits did not change (`bench train` checksums of small, medium, GRU, bidirectional, native
    ///   and capped); attention's weight gradients (m = H) it had cut otherwise with AVX2 kernels,
    ///   and the capped attention run's bits changed (still the same from run to run). oneDNN may
    ///   cut otherwise on another CPU too: the fast backends' bits already differ between CPUs.
    static func split(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, threads: Int) -> Split {
        guard threads > 1, m &* n &* k >= 1 << 24 else { return .whole }
        if transA, !transB, m >= 64 * threads { return .rows }
        if transB, !transA, n >= 64 * threads {
            let isa = dnnl_get_effective_cpu_isa()
            if isa == dnnl_cpu_isa_avx2 || isa == dnnl_cpu_isa_avx2_vnni { return .columns }
        }
        return .whole
    }

    /// Whether `gemm` first copies Aᵀ's operand A [k, m] to a row stride that is not a multiple of
    /// 4 KiB. oneDNN 2.6.3's sgemm packs a transposed A slowly when its rows lie a multiple of 1,024
    /// floats apart (cache-set conflicts). Measured on the Zen 5 (family 26 model 2), 2 threads,
    /// m×n×k with lda = m, then with the copy to lda m + 16 (the copy itself 0.07 ms a 4 MB): with the
    /// AVX2 cap, 1024×256×1024 134–156 GFLOP/s → 216–240 with the copy; 2048×256×1024 150–169 →
    /// 190–195 (time with the copy); 1024×512×1024 and 2048×512×1024 unchanged (±1 %); with AVX-512
    /// kernels 1024×256×1024 385–389 → 460–489, 2048×512×1280 392 → 473. Weight gradients take this
    /// path (Aᵀ the gates' gradients [N·B, 4H], 4H a power of two); `BLAS.transposedOperand` makes
    /// the copy once for products that share A. The copy changes no value, only where A lies.
    static func restridesTransposedOperand(transA: Bool, lda: Int) -> Bool {
        transA && lda % 1024 == 0
    }

    /// The row stride of a re-strided A (see ``restridesTransposedOperand(transA:lda:)``).
    static func restridedStride(_ lda: Int) -> Int { lda + 16 }

    /// Copies A [k, m] (rows `lda` apart) into `copy` (room for k·``restridedStride(_:)`` floats)
    /// with rows ``restridedStride(_:)`` apart, the columns split across the threads when large, as
    /// the ``Split/rows`` split of the product that reads the copy cuts them: when that product
    /// splits (``split(transA:transB:m:n:k:threads:)``), each thread then multiplies what it copied.
    /// - Returns: the copy's row stride.
    static func restride(_ a: UnsafePointer<Float>, k: Int, m: Int, lda: Int, into copy: UnsafeMutablePointer<Float>) -> Int {
        struct Columns { let a: UnsafePointer<Float>, lda: Int, copy: UnsafeMutablePointer<Float>, stride: Int, k: Int }
        let stride = restridedStride(lda)
        Parallel.forEachPart(m, granularity: Parallel.columnBlock, work: k * m, context: Columns(a: a, lda: lda, copy: copy, stride: stride, k: k)) { raw, lo, hi in
            let r = raw.load(as: Columns.self)
            for row in 0..<r.k { (r.copy + row * r.stride + lo).update(from: r.a + row * r.lda + lo, count: hi - lo) }
        }
        return stride
    }

    static func setThreads(_ count: Int) { omp_set_num_threads(Int32(count)) }
    static var threads: Int { Int(omp_get_max_threads()) }
}

/// Runs a `WorkerPool` job on libgomp's team, the threads oneDNN's sgemm runs on. While oneDNN
/// computes, its OpenMP threads spin between products (libgomp's default wait policy); our own
/// workers would then compete with them for the cores (measured: `bench train --preset small`
/// softmax 13.2 ms/step with our pool beside them, 7.6 with the OpenMP threads made passive, 6.6
/// on the shared team). Sharing one team
/// keeps the process at `--threads` busy threads.
enum OpenMPTeam {
    private struct Job {
        let parts: Int
        let function: WorkerPool.PartFunction
        let context: UnsafeRawPointer
    }

    /// Calls `function(context, part)` for every part in 0..<parts on a team of min(parts,
    /// threads) threads; thread t runs parts t, t + T, t + 2T, … (the caller is thread 0). Part i
    /// runs the same code on the same data whichever thread runs it, so results do not depend on
    /// the team. Allocates nothing.
    static func run(parts: Int, threads: Int, context: UnsafeRawPointer, _ function: WorkerPool.PartFunction) {
        var job = Job(parts: parts, function: function, context: context)
        withUnsafeMutablePointer(to: &job) { pointer in
            GOMP_parallel({ raw in
                let job = raw!.assumingMemoryBound(to: Job.self).pointee
                let team = Int(omp_get_num_threads())
                var part = Int(omp_get_thread_num())
                while part < job.parts {
                    job.function(job.context, part)
                    part += team
                }
            }, pointer, UInt32(max(1, min(parts, threads))), 0)
        }
    }
}
