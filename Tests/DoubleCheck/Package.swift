// swift-tools-version:6.0
// The gradient checks in double precision: Basics, Kernels and Model compiled a second time with
// `Scalar = Double` (the SCALAR_DOUBLE define), from the same source files (the folders under
// Sources/ are links to the main package's), so the numeric code checked is the code that runs.
// `bash scripts/test.sh` runs it after the main suite: `swift test --package-path Tests/DoubleCheck`.
import PackageDescription

let double: [SwiftSetting] = [.define("SCALAR_DOUBLE"), .unsafeFlags(["-target-cpu", "haswell"])]

let package = Package(
    name: "DoubleCheck",
    targets: [
        .systemLibrary(name: "CBLAS", path: "Sources/CBLAS", pkgConfig: "openblas"),
        .target(name: "Basics", path: "Sources/Basics", swiftSettings: [.define("SCALAR_DOUBLE")]),
        // QuantizedWeights and the GEMM backends are float32-only (CInt8, CGemm and oneDNN are not built
        // here): the double build multiplies with OpenBLAS's dgemm.
        .target(name: "Kernels", dependencies: ["Basics", "CBLAS"], path: "Sources/Kernels",
                exclude: ["QuantizedWeights.swift", "GemmBackend.swift", "CPUInfo.swift"], swiftSettings: double),
        .target(name: "Model", dependencies: ["Basics", "Kernels"], path: "Sources/Model", swiftSettings: double),
        .testTarget(name: "DoubleGradientTests", dependencies: ["Model", "Kernels"], path: "Tests/DoubleGradientTests",
                    // Links to the main suite's attention fixtures, read from the source tree by
                    // AttentionReferenceTests.swift (also a link), not bundled.
                    exclude: ["Fixtures"]),
    ],
    swiftLanguageModes: [.v5]
)
