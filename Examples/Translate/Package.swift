// swift-tools-version:6.0
// An example package that depends on seq2seq BY VERSION, as a user's package does, and translates
// stdin with a model folder through the Seq2Seq library. The tests (Tests/CLITests/ExamplePackageCLITests)
// point SEQ2SEQ_PACKAGE_URL at a tagged clone of this repository (a file:// URL) and build it, so a
// flag or a dependency that would break our users breaks our CI first.
//
//   SEQ2SEQ_PACKAGE_URL=https://…/seq2seq.git swift run -c release translate MODEL_FOLDER < input.txt
import Foundation
import PackageDescription

let url = ProcessInfo.processInfo.environment["SEQ2SEQ_PACKAGE_URL"] ?? "https://github.com/seq2seq/seq2seq.git"

let package = Package(
    name: "Translate",
    dependencies: [.package(url: url, from: "0.1.0")],
    targets: [
        .executableTarget(name: "translate", dependencies: [.product(name: "Seq2Seq", package: "seq2seq")]),
    ]
)
