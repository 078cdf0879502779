// swift-tools-version:6.0
// seq2seq: a CPU-first LSTM translation toolkit (Sutskever, Vinyals & Le 2014).
// Module graph (dependencies point downwards only; see README "Modules"):
//   seq2seq (CLI) -> Training -> ModelFolder -> Model -> Kernels -> CBLAS
//                             -> Corpus -> CZstd, CZlib      ModelFolder -> Text -> CICU
//                             -> RunLog (the log.jsonl record; imports nothing of ours)
//                 -> Translation -> ModelFolder, Decoding (imports nothing of ours)
//                 -> Serving (`serve`: HTTP, batching queue; Hummingbird) -> Translation, Decoding
//                 -> Plotting -> RunLog
//                 -> Metrics, Samples
//   Basics (bottom: seeded generator, atomic file writer, reserved token ids; pure Swift + Glibc)
//     is imported by Kernels, Text, Corpus, Model, Training, Translation, Samples and the CLI.
//                 -> Benchmarks (bench train/gemm workloads) -> Model, Kernels
import PackageDescription

let package = Package(
    name: "seq2seq",
    products: [
        .executable(name: "seq2seq", targets: ["seq2seq"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        // Serving only: the HTTP server (on SwiftNIO), its graceful shutdown, and /metrics.
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
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
        // The bottom module: the one seeded generator, the one atomic file writer, the reserved
        // token ids. No C library, no Foundation, so every other module can import it.
        .target(name: "Basics", dependencies: []),
        // AVX2+FMA code generation for the hand-written kernels (PackedWeights' SIMD8 FMAs would
        // otherwise become libm fmaf calls); the binary therefore needs an x86-64 CPU with AVX2.
        .target(name: "Kernels", dependencies: ["Basics", "CBLAS"],
                swiftSettings: [.unsafeFlags(["-target-cpu", "haswell"])]),
        .target(name: "Text", dependencies: ["Basics", "CICU"]),
        .target(name: "Corpus", dependencies: ["Basics", "CZstd", "CZlib"]),
        // Model inlines Kernels' @inlinable loops (softmax, LSTM pointwise, optimizers): the same
        // AVX2+FMA code generation. Swift never contracts a·b+c into an FMA on its own, so results
        // are bit-identical to a baseline x86-64 build (same `bench train` weight checksum).
        .target(name: "Model", dependencies: ["Basics", "Kernels"],
                swiftSettings: [.unsafeFlags(["-target-cpu", "haswell"])]),
        .target(name: "Decoding", dependencies: []),
        .target(name: "Metrics", dependencies: []),
        // The read side of a model folder (config.json, vocabularies, checked weights), shared by
        // Training (which also writes folders) and Translation (which must not depend on Training).
        .target(name: "ModelFolder", dependencies: ["Model", "Text"]),
        // One Codable record of log.jsonl, written by Training and read by Plotting.
        .target(name: "RunLog", dependencies: []),
        .target(name: "Training", dependencies: ["Basics", "Model", "ModelFolder", "RunLog", "Corpus", "Text", "Kernels"]),
        .target(name: "Translation", dependencies: ["Basics", "ModelFolder", "Model", "Text", "Decoding"]),
        .target(name: "Samples", dependencies: ["Basics"]),
        // `seq2seq serve`: HTTP routes, request limits and the batching queue in front of a
        // Translator. The only module that links the server stack (Hummingbird, SwiftNIO).
        // swift-metrics (under Hummingbird and swift-prometheus) has a module named Metrics, like
        // ours; the alias renames theirs to SwiftMetrics inside those products.
        .target(name: "Serving", dependencies: [
            "Translation", "Decoding",
            .product(name: "Hummingbird", package: "hummingbird", moduleAliases: ["Metrics": "SwiftMetrics"]),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            .product(name: "Prometheus", package: "swift-prometheus", moduleAliases: ["Metrics": "SwiftMetrics"]),
        ]),
        .target(name: "Plotting", dependencies: ["RunLog"]),
        // Workloads of `seq2seq bench train` and `bench gemm` (synthetic training steps, GEMM shapes,
        // run-time-loaded sgemm libraries); only the CLI imports it, so no library carries them.
        .target(name: "Benchmarks", dependencies: ["Basics", "Model", "Kernels"]),

        // MARK: The command-line tool: parses, validates, wires modules; no numeric code
        .executableTarget(
            name: "seq2seq",
            dependencies: [
                "Basics", "Text", "Corpus", "Model", "ModelFolder", "Decoding", "Metrics", "Training", "Translation", "Serving", "Samples", "Plotting", "Kernels", "Benchmarks",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),

        // MARK: Tests
        .target(name: "TestSupport", dependencies: ["Basics"], path: "Tests/TestSupport"),
        .testTarget(name: "BasicsTests", dependencies: ["Basics", "Kernels", "TestSupport"]),
        .testTarget(name: "KernelsTests", dependencies: ["Kernels", "TestSupport"]),
        .testTarget(name: "TextTests", dependencies: ["Text", "Basics", "TestSupport"]),
        .testTarget(name: "CorpusTests", dependencies: ["Corpus", "Basics", "TestSupport"]),
        .testTarget(name: "ModelTests", dependencies: ["Model", "Basics", "Kernels", "TestSupport"], resources: [.copy("Fixtures")]),
        .testTarget(name: "ModelFolderTests", dependencies: ["ModelFolder", "Model", "Text", "TestSupport"]),
        .testTarget(name: "DecodingTests", dependencies: ["Decoding", "TestSupport"]),
        .testTarget(name: "MetricsTests", dependencies: ["Metrics", "TestSupport"], resources: [.copy("Fixtures")]),
        .testTarget(name: "TrainingTests", dependencies: ["Training", "ModelFolder", "RunLog", "Translation", "Samples", "Model", "Corpus", "Text", "Decoding", "Basics", "TestSupport"]),
        .testTarget(name: "CLITests", dependencies: ["TestSupport"]),
        // Starts the server through Serving's own service group on port 0 and talks to it with
        // URLSession: HummingbirdTesting would add async-http-client and BoringSSL to every build.
        .testTarget(name: "ServingTests", dependencies: [
            "Serving", "Translation", "Decoding", "Training", "ModelFolder", "Corpus", "Text", "Samples", "TestSupport",
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        ]),
        .testTarget(name: "PlottingTests", dependencies: ["Plotting", "RunLog", "TestSupport"]),
    ],
    // Swift 5 language mode: the training loop shares buffers with a prefetch thread through
    // explicit locks; strict Sendable checking of those raw pointers adds noise, not safety.
    swiftLanguageModes: [.v5]
)
