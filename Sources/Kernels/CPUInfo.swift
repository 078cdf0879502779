import CGemm

/// This CPU as cpuid describes it: what `seq2seq doctor` prints and what `GemmBackend.automatic`
/// decides from. Vector extensions count only when the operating system saves their registers.
public struct CPUInfo: Sendable, Equatable {
    /// "AuthenticAMD", "GenuineIntel", …
    public let vendor: String
    /// The brand string (lscpu's "Model name"), e.g. "AMD EPYC" in a VM.
    public let modelName: String
    /// Display family and model (extended fields folded in, as lscpu prints them).
    public let family: Int, model: Int, stepping: Int
    public let avx: Bool, avx2: Bool, fma: Bool
    public let avx512f: Bool, avx512bw: Bool, avx512vl: Bool, avx512dq: Bool
    public let avx512vnni: Bool, avx512bf16: Bool, avx512fp16: Bool, avxvnni: Bool
    public let amxTile: Bool, amxBF16: Bool, amxInt8: Bool

    /// Read once per process.
    public static let current = CPUInfo()

    private init() {
        var raw = cgemm_cpu()
        cgemm_cpu_read(&raw)
        func text<T>(_ tuple: T) -> String {
            withUnsafeBytes(of: tuple) { bytes in
                String(decoding: bytes.prefix { $0 != 0 }, as: UTF8.self)
            }
        }
        vendor = text(raw.vendor)
        modelName = text(raw.brand)
        family = Int(raw.family)
        model = Int(raw.model)
        stepping = Int(raw.stepping)
        avx = raw.avx != 0
        avx2 = raw.avx2 != 0
        fma = raw.fma != 0
        avx512f = raw.avx512f != 0
        avx512bw = raw.avx512bw != 0
        avx512vl = raw.avx512vl != 0
        avx512dq = raw.avx512dq != 0
        avx512vnni = raw.avx512vnni != 0
        avx512bf16 = raw.avx512bf16 != 0
        avx512fp16 = raw.avx512fp16 != 0
        avxvnni = raw.avxvnni != 0
        amxTile = raw.amx_tile != 0
        amxBF16 = raw.amx_bf16 != 0
        amxInt8 = raw.amx_int8 != 0
    }

    /// The instruction sets that matter here, in the order `doctor` prints them, with presence.
    public var features: [(name: String, present: Bool)] {
        [("AVX", avx), ("AVX2", avx2), ("FMA", fma), ("AVX-512F", avx512f), ("AVX-512BW", avx512bw),
         ("AVX-512VL", avx512vl), ("AVX-512DQ", avx512dq), ("AVX512-VNNI", avx512vnni), ("AVX-VNNI", avxvnni),
         ("AVX512-BF16", avx512bf16), ("AVX512-FP16", avx512fp16), ("AMX-TILE", amxTile), ("AMX-BF16", amxBF16),
         ("AMX-INT8", amxInt8)]
    }

    /// The widest float32 vector instruction set: "AVX-512", "AVX2" (with FMA), "AVX" or "SSE2"
    /// (what logs name).
    public var vectorISA: String { avx512f ? "AVX-512" : (avx2 && fma) ? "AVX2" : avx ? "AVX" : "SSE2" }
}
