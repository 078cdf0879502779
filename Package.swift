// swift-tools-version:6.0
// seq2seq: a CPU-first LSTM translation toolkit (Sutskever, Vinyals & Le 2014).
// Module graph (dependencies point downwards only; see README "Modules"):
//   seq2seq (CLI) -> Translation -> Training -> Model -> Kernels -> CBLAS
//                                           -> Corpus -> CZstd, CZlib
//                                           -> Text -> CICU
//                               -> Decoding (imports nothing of ours)
//                 -> Metrics, Samples, Plotting (import nothing of ours)
//                 -> Benchmarks (bench train/gemm workloads) -> Model, Kernels
import PackageDescription

let package = Package(
    name: "seq2seq",
    products: [
        .executable(name: "seq2seq", targets: ["seq2seq"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    ],
    targets: [
        // MARK: C bindings (module maps and static-inline shims only, no logic)
        // ICU renames every symbol with a version suffix (ubrk_open -> ubrk_open_72); the shim's
        // static inline wrappers expand that macro in C so Swift code never names a version.
        .systemLibrary(name: "CICU", pkgConfig: "icu-uc icu-i18n", providers: [.apt(["libicu-dev"])]),
        .systemLibrary(name: "CZstd", pkgConfig: "libzstd", providers: [.apt(["libzstd-dev"])]),
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        .systemLibrary(name: "CBLAS", pkgConfig: "openblas", providers: [.apt(["libopenblas-dev"])]),

        // MARK: Library modules, one concern each
        // AVX2+FMA code generation for the hand-written kernels (PackedWeights' SIMD8 FMAs would
        // otherwise become libm fmaf calls); the binary therefore needs an x86-64 CPU with AVX2.
        .target(name: "Kernels", dependencies: ["CBLAS"],
                swiftSettings: [.unsafeFlags(["-target-cpu", "haswell"])]),
        .target(name: "Text", dependencies: ["CICU"]),
        .target(name: "Corpus", dependencies: ["CZstd", "CZlib"]),
        // Model inlines Kernels' @inlinable loops (softmax, LSTM pointwise, optimizers): the same
        // AVX2+FMA code generation. Swift never contracts a·b+c into an FMA on its own, so results
        // are bit-identical to a baseline x86-64 build (same `bench train` weight checksum).
        .target(name: "Model", dependencies: ["Kernels"],
                swiftSettings: [.unsafeFlags(["-target-cpu", "haswell"])]),
        .target(name: "Decoding", dependencies: []),
        .target(name: "Metrics", dependencies: []),
        .target(name: "Training", dependencies: ["Model", "Corpus", "Text", "Kernels"]),
        .target(name: "Translation", dependencies: ["Training", "Model", "Text", "Decoding"]),
        .target(name: "Samples", dependencies: []),
        .target(name: "Plotting", dependencies: []),
        // Workloads of `seq2seq bench train` and `bench gemm` (synthetic training steps, GEMM shapes,
        // run-time-loaded sgemm libraries); only the CLI imports it, so no library carries them.
        .target(name: "Benchmarks", dependencies: ["Model", "Kernels"]),

        // MARK: The command-line tool: parses, validates, wires modules; no numeric code
        .executableTarget(
            name: "seq2seq",
            dependencies: [
                "Text", "Corpus", "Model", "Decoding", "Metrics", "Training", "Translation", "Samples", "Plotting", "Kernels", "Benchmarks",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),

        // MARK: Tests
        .target(name: "TestSupport", dependencies: [], path: "Tests/TestSupport"),
        .testTarget(name: "KernelsTests", dependencies: ["Kernels", "TestSupport"]),
        .testTarget(name: "TextTests", dependencies: ["Text", "TestSupport"]),
        .testTarget(name: "CorpusTests", dependencies: ["Corpus", "TestSupport"]),
        .testTarget(name: "ModelTests", dependencies: ["Model", "Kernels", "TestSupport"]),
        .testTarget(name: "DecodingTests", dependencies: ["Decoding", "TestSupport"]),
        .testTarget(name: "MetricsTests", dependencies: ["Metrics", "TestSupport"], resources: [.copy("Fixtures")]),
        .testTarget(name: "TrainingTests", dependencies: ["Training", "Translation", "Samples", "Model", "Corpus", "Text", "Decoding", "TestSupport"]),
        .testTarget(name: "CLITests", dependencies: ["TestSupport"]),
        .testTarget(name: "PlottingTests", dependencies: ["Plotting", "TestSupport"]),
    ],
    // Swift 5 language mode: the training loop shares buffers with a prefetch thread through
    // explicit locks; strict Sendable checking of those raw pointers adds noise, not safety.
    swiftLanguageModes: [.v5]
)
