import Basics
import Foundation

/// Deterministic generator for tests: the project's one seeded generator (Basics' SplitMix64).
public typealias TestRNG = SplitMix64

/// A fresh temporary directory, removed by the caller with `removeItem` when done.
public func makeTemporaryDirectory(_ prefix: String = "seq2seq-test") -> URL {
    let url = FileManager.default.temporaryDirectory
        .appendingPathComponent("\(prefix)-\(UUID().uuidString)", isDirectory: true)
    try! FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

/// Result of running a process: exit status, stdout and stderr as bytes.
public struct ProcessResult {
    public var status: Int32
    public var stdout: Data
    public var stderr: Data
    public var stdoutText: String { String(decoding: stdout, as: UTF8.self) }
    public var stderrText: String { String(decoding: stderr, as: UTF8.self) }
}

/// Path of the built `seq2seq` binary next to the test bundle (same build folder).
public func seq2seqBinary() -> URL {
    // Test bundles live in .build/<triple>/<config>/; the executable sits in the same folder.
    let bundle = Bundle.allBundles.first { $0.bundlePath.hasSuffix(".xctest") }
        ?? Bundle.main
    // Swift Testing may run the test runner as a plain executable whose bundle path is the build
    // folder itself, so look there first, then walk up.
    var dir = URL(fileURLWithPath: bundle.bundlePath)
    for _ in 0..<4 {
        let candidate = dir.appendingPathComponent("seq2seq")
        if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
        dir = dir.deletingLastPathComponent()
    }
    return URL(fileURLWithPath: bundle.bundlePath).deletingLastPathComponent().appendingPathComponent("seq2seq")
}

/// Runs the built `seq2seq` binary with arguments and optional stdin bytes.
public func runSeq2seq(_ arguments: [String], stdin: Data? = nil,
                       currentDirectory: URL? = nil) throws -> ProcessResult {
    let process = Process()
    process.executableURL = seq2seqBinary()
    process.arguments = arguments
    if let currentDirectory { process.currentDirectoryURL = currentDirectory }
    let input = Pipe(), output = Pipe(), error = Pipe()
    process.standardInput = input
    process.standardOutput = output
    process.standardError = error
    try process.run()
    // Drain both pipes concurrently so a chatty child never blocks on a full pipe.
    var out = Data(), err = Data()
    let group = DispatchGroup()
    group.enter()
    DispatchQueue.global().async { out = output.fileHandleForReading.readDataToEndOfFile(); group.leave() }
    group.enter()
    DispatchQueue.global().async { err = error.fileHandleForReading.readDataToEndOfFile(); group.leave() }
    if let stdin { input.fileHandleForWriting.write(stdin) }
    try input.fileHandleForWriting.close()
    group.wait()
    process.waitUntilExit()
    return ProcessResult(status: process.terminationStatus, stdout: out, stderr: err)
}
