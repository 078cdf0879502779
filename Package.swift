// swift-tools-version:6.0
// seq2seq: a CPU-first LSTM translation toolkit (Sutskever, Vinyals & Le 2014).
// Module graph (dependencies point downwards only; see docs/reference/modules.md):
//   seq2seq (CLI) -> Training -> ModelFolder -> Model -> Kernels -> CBLAS, CDNNL (GEMM backends), CGemm (reference GEMM, packed
//                                                  product, cpuid), CVector (tanh, sigmoid, softmax rows, transposes), CInt8 (int8 kernels)
//                             -> Corpus -> CZstd, CZlib      ModelFolder -> Text -> CICU, CSentencePiece (C++ shim)
//                             -> RunLog (the log.jsonl record; imports nothing of ours)
//                             -> Translation, TranslationMetrics (validation BLEU: greedy decoding, scoring)
//                 -> Translation -> ModelFolder, Decoding (imports nothing of ours), Lexicon
//   ModelFolder -> Lexicon (IBM Model 1 lexical table, shortlists, shortlist.bin) -> Basics
//                 -> Serving (`serve`: HTTP, the Seq2Seq queue as a service; Hummingbird) -> Seq2Seq, Translation, Decoding
//                 -> Plotting -> RunLog
//                 -> TranslationMetrics (BLEU, chrF), Samples
//   Basics (bottom: seeded generator, atomic file writer, reserved token ids; pure Swift + Glibc)
//     is imported by Kernels, Text, Corpus, Model, Training, Translation, Samples, Lab and the CLI.
//                 -> Benchmarks (bench train/gemm/int8 workloads) -> Model, Kernels, CPeak (peak loops, core round trip)
//                 -> Distributed (MPI world communicator, fixed-order gradient sum) -> CMPI (Open MPI)
//   Training reaches MPI only through its TrainingGroup protocol, which the CLI fills with
//   Distributed's communicator under `mpirun`.
//                 -> Lab (long-term-dependency tasks, learners, sweep) -> Model, Kernels, Plotting, Basics
//   Seq2Seq (library product: Translator facade, batching TranslationQueue) -> Translation, ModelFolder, Model, Kernels,
//     Decoding; Serving -> Seq2Seq; Seq2SeqC (libseq2seq-c.so, @_cdecl) -> Seq2Seq, CSeq2Seq (seq2seq.h)
import PackageDescription

let package = Package(
    name: "seq2seq",
    products: [
        .executable(name: "seq2seq", targets: ["seq2seq"]),
        // Translation from code: `import Seq2Seq` (Translator, TranslatorOptions, TranslationResult).
        .library(name: "Seq2Seq", targets: ["Seq2Seq"]),
        // The C API (Sources/CSeq2Seq/include/seq2seq.h) as libseq2seq-c.so, for C and the Python module.
        .library(name: "seq2seq-c", type: .dynamic, targets: ["Seq2SeqC", "CSeq2Seq"]),
        // `bench translate --count-allocations` preloads it (never linked into seq2seq).
        .library(name: "seq2seq-malloc-counter", type: .dynamic, targets: ["CMallocCounter"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        // Serving only: the HTTP server (on SwiftNIO), its graceful shutdown, and /metrics.
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        // `swift package generate-documentation --target Seq2Seq` (DocC; the library's reference).
        .package(url: "https://github.com/swiftlang/swift-docc-plugin", from: "1.5.0"),
    ],
    targets: [
        // MARK: C bindings (module maps and static-inline shims only, no logic)
        // ICU renames every symbol with a version suffix (ubrk_open -> ubrk_open_72); the shim's
        // static inline wrappers expand that macro in C so Swift code never names a version.
        // ICU behind plain C types (see Sources/CICU/include/cicu.h); Debian's libicu-dev.
        .target(name: "CICU", dependencies: [],
                linkerSettings: [.linkedLibrary("icui18n"), .linkedLibrary("icuuc"), .linkedLibrary("icudata")]),
        .systemLibrary(name: "CZstd", pkgConfig: "libzstd", providers: [.apt(["libzstd-dev"])]),
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        .systemLibrary(name: "CBLAS", pkgConfig: "openblas", providers: [.apt(["libopenblas-dev"])]),
        // oneDNN's C API (dnnl_sgemm, its ISA dispatcher) and libgomp's thread count. Debian 12 ships
        // no pkg-config file for it; the module map links dnnl and gomp.
        .systemLibrary(name: "CDNNL", providers: [.apt(["libdnnl-dev"])]),
        // Open MPI's C API; the shim hands over the handles mpi.h defines as macros (MPI_COMM_WORLD…).
        .systemLibrary(name: "CMPI", pkgConfig: "ompi-c", providers: [.apt(["libopenmpi-dev", "openmpi-bin"])]),
        // SentencePiece's API is C++: this target's shim (shim.cpp) exposes a small C API over it
        // (include/csentencepiece.h), so no C++ type reaches Swift. Debian's libsentencepiece-dev.
        .target(name: "CSentencePiece", dependencies: [], linkerSettings: [.linkedLibrary("sentencepiece")]),
        // The int8 decoding kernels (reference, AVX2, AVX512-VNNI) in C with intrinsics. No global
        // ISA flag: each fast function has its own target attribute and runs only after
        // __builtin_cpu_supports says so. `#pragma clang fp contract(off)` in the file keeps the
        // float epilogue the same bits in every kernel. No unsafe flags in any target, so other
        // packages can depend on this one.
        .target(name: "CInt8", dependencies: []),
        // Measurement loops for `bench int8`: independent int8 and float32 multiply-add chains in
        // inline assembly (the machine's peak), same target-attribute rule as CInt8.
        .target(name: "CPeak", dependencies: []),
        // The reference GEMM (the same bits on every x86-64 CPU: fixed summation order, no FMA), the
        // packed few-row FMA product, and cpuid. Same rule as CInt8: per-function target
        // attributes, chosen by Kernels' VectorPath (cpuid); contraction off by pragma in the file.
        .target(name: "CGemm", dependencies: []),
        // tanh, sigmoid and the softmax rows, the same rule: one C source compiled per instruction
        // set (AVX-512, AVX2, baseline), chosen at run time, the same bits on every path.
        .target(name: "CVector", dependencies: []),

        // MARK: Library modules, one concern each
        // The bottom module: the one seeded generator, the one atomic file writer, the reserved
        // token ids. No C library, no Foundation, so every other module can import it.
        .target(name: "Basics", dependencies: []),
        // No ISA flag: the loops that need AVX2/AVX-512 (GEMM, packed and int8 products) are C
        // kernels chosen at run time, so one binary runs on every x86-64 CPU, each at its best.
        .target(name: "Kernels", dependencies: ["Basics", "CBLAS", "CDNNL", "CGemm", "CInt8", "CVector"]),
        .target(name: "Text", dependencies: ["Basics", "CICU", "CSentencePiece"]),
        .target(name: "Corpus", dependencies: ["Basics", "CZstd", "CZlib"]),
        .target(name: "Model", dependencies: ["Basics", "Kernels", "CVector"]),
        .target(name: "Decoding", dependencies: []),
        // BLEU and chrF as sacreBLEU computes them (named apart from swift-metrics' `Metrics`, which
        // Hummingbird and swift-prometheus bring: target names must be unique in a user's package graph).
        .target(name: "TranslationMetrics", dependencies: []),
        // The read side of a model folder (config.json, vocabularies, checked weights), shared by
        // Training (which also writes folders) and Translation (which must not depend on Training).
        .target(name: "ModelFolder", dependencies: ["Model", "Text", "Lexicon"]),
        // The lexical shortlist: IBM Model 1 on id pairs, the per-source-word target lists, their
        // file format. Ids in, ids out: no text, no files, no model.
        .target(name: "Lexicon", dependencies: ["Basics"]),
        // One Codable record of log.jsonl, written by Training and read by Plotting.
        .target(name: "RunLog", dependencies: []),
        // The one module that imports MPI: the world communicator with Swift errors, and the
        // fixed-order gradient sum of data-parallel training. Only the CLI imports it; Training
        // sees it through its own TrainingGroup protocol, so no library but this one links MPI.
        .target(name: "Distributed", dependencies: ["CMPI"]),
        // Training decodes the validation set through Translation (greedy, for `--valid-bleu`) and
        // scores it with TranslationMetrics; neither imports Training, so there is no cycle.
        .target(name: "Training", dependencies: ["Basics", "Model", "ModelFolder", "RunLog", "Corpus", "Text", "Kernels",
                                                 "Translation", "Decoding", "TranslationMetrics"]),
        .target(name: "Translation", dependencies: ["Basics", "ModelFolder", "Model", "Text", "Decoding", "Lexicon"]),
        .target(name: "Samples", dependencies: ["Basics"]),
        // The library's front door: Translator (load a model folder or an ensemble, translate
        // strings, batching concurrent callers through TranslationQueue), its options and errors.
        .target(name: "Seq2Seq", dependencies: ["Basics", "Translation", "ModelFolder", "Model", "Kernels", "Decoding", "Text",
                                                "TranslationMetrics", "Training"]),
        // @_cdecl entry points of seq2seq.h over Seq2Seq's Translator (the header is for C callers,
        // not compiled here).
        .target(name: "Seq2SeqC", dependencies: ["Seq2Seq", "CSeq2Seq"]),
        // Counts heap allocations when preloaded (see its header); a product of its own, no dependent.
        .target(name: "CMallocCounter", dependencies: []),
        // seq2seq.h, the C API's one header (and the defaults of its options struct, in C).
        .target(name: "CSeq2Seq", dependencies: []),
        // `seq2seq serve`: HTTP routes, request limits and the batching queue in front of a
        // Translator. The only module that links the server stack (Hummingbird, SwiftNIO).
        .target(name: "Serving", dependencies: [
            "Seq2Seq", "Translation", "Decoding", "Kernels",
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            .product(name: "Prometheus", package: "swift-prometheus"),
        ]),
        .target(name: "Plotting", dependencies: ["RunLog"]),
        // Workloads of `seq2seq bench train`, `bench gemm` and `bench int8` (synthetic training steps,
        // GEMM shapes, run-time-loaded sgemm and int8 GEMM libraries, peak loops); only the CLI
        // imports it, so no library carries them.
        .target(name: "Benchmarks", dependencies: ["Basics", "Model", "Kernels", "CPeak"]),
        // `seq2seq lab`: the long-term-dependency tasks, learners, sweep, diagnostics and plots, on
        // the model family's own cells (Model's SequenceRegressor around RecurrentLayer).
        .target(name: "Lab", dependencies: ["Basics", "Model", "Kernels", "Plotting"]),

        // MARK: The command-line tool: parses, validates, wires modules; no numeric code
        .executableTarget(
            name: "seq2seq",
            dependencies: [
                "Basics", "Text", "Corpus", "Model", "ModelFolder", "Decoding", "TranslationMetrics", "Training", "Translation", "Serving", "Samples", "Plotting", "Kernels", "Benchmarks", "Distributed", "Lab", "Lexicon", "Seq2Seq",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),

        // MARK: Tests
        .target(name: "TestSupport", dependencies: ["Basics"], path: "Tests/TestSupport"),
        .testTarget(name: "BasicsTests", dependencies: ["Basics", "Kernels", "TestSupport"]),
        .testTarget(name: "KernelsTests", dependencies: ["Kernels", "CInt8", "CVector", "CPeak", "TestSupport"]),
        .testTarget(name: "TextTests", dependencies: ["Text", "Basics", "TestSupport"], resources: [.copy("Fixtures")]),
        .testTarget(name: "CorpusTests", dependencies: ["Corpus", "Basics", "TestSupport"]),
        .testTarget(name: "ModelTests", dependencies: ["Model", "Basics", "Kernels", "TestSupport"], resources: [.copy("Fixtures")]),
        .testTarget(name: "ModelFolderTests", dependencies: ["ModelFolder", "Model", "Text", "Lexicon", "TestSupport"]),
        .testTarget(name: "LexiconTests", dependencies: ["Lexicon", "Basics", "TestSupport"]),
        .testTarget(name: "DecodingTests", dependencies: ["Decoding", "TestSupport"]),
        .testTarget(name: "TranslationMetricsTests", dependencies: ["TranslationMetrics", "TestSupport"], resources: [.copy("Fixtures")]),
        .testTarget(name: "TrainingTests", dependencies: ["Training", "Lexicon", "ModelFolder", "RunLog", "Translation", "Samples", "Model", "Corpus", "Text", "Decoding", "Basics", "TestSupport"],
                    resources: [.copy("Fixtures")]),
        .testTarget(name: "CLITests", dependencies: ["TestSupport", "Seq2Seq"]),
        // Starts the server through Serving's own service group on port 0 and talks to it with
        // URLSession: HummingbirdTesting would add async-http-client and BoringSSL to every build.
        .testTarget(name: "ServingTests", dependencies: [
            "Serving", "Seq2Seq", "Kernels", "Translation", "Decoding", "Training", "ModelFolder", "Corpus", "Text", "Samples", "TestSupport",
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        ]),
        .testTarget(name: "PlottingTests", dependencies: ["Plotting", "RunLog", "TestSupport"]),
        .testTarget(name: "LabTests", dependencies: ["Lab", "Model", "Basics", "Kernels", "TestSupport"]),
    ],
    // Swift 5 language mode: the training loop shares buffers with a prefetch thread through
    // explicit locks; strict Sendable checking of those raw pointers adds noise, not safety.
    swiftLanguageModes: [.v5]
)
