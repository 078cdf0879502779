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
    try runProcess(seq2seqBinary(), arguments, stdin: stdin, currentDirectory: currentDirectory)
}

/// Runs `executable` with arguments, optional stdin bytes and extra environment variables (added
/// to this process's), and returns its status and output.
public func runProcess(_ executable: URL, _ arguments: [String], stdin: Data? = nil, currentDirectory: URL? = nil,
                       environment: [String: String] = [:]) throws -> ProcessResult {
    let process = Process()
    process.executableURL = executable
    process.arguments = arguments
    if let currentDirectory { process.currentDirectoryURL = currentDirectory }
    if !environment.isEmpty {
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
    }
    let input = Pipe(), output = Pipe(), error = Pipe()
    process.standardInput = input
    process.standardOutput = output
    process.standardError = error
    try process.run()
    // Drain both pipes concurrently so a chatty child never blocks on a full pipe.
    let out = DrainedPipe(output), err = DrainedPipe(error)
    if let stdin { input.fileHandleForWriting.write(stdin) }
    try input.fileHandleForWriting.close()
    let stdout = out.wait(), stderr = err.wait()
    process.waitUntilExit()
    return ProcessResult(status: process.terminationStatus, stdout: stdout, stderr: stderr)
}

/// A pipe read to its end on another thread; `wait()` returns the bytes.
private final class DrainedPipe: @unchecked Sendable {
    private var data = Data()  // written by the reading thread before `done` is signalled
    private let done = DispatchSemaphore(value: 0)

    init(_ pipe: Pipe) {
        DispatchQueue.global().async {
            self.data = pipe.fileHandleForReading.readDataToEndOfFile()
            self.done.signal()
        }
    }

    func wait() -> Data {
        done.wait()
        return data
    }
}

/// `bytes` as a gzip file (RFC 1952) of stored (uncompressed) deflate blocks: a valid .gz that
/// needs no zlib, so CLI tests can feed compressed input to the binary.
public func gzipStored(_ bytes: [UInt8]) -> [UInt8] {
    var out: [UInt8] = [0x1F, 0x8B, 8, 0, 0, 0, 0, 0, 0, 0xFF]
    var offset = 0
    repeat {
        let count = min(65_535, bytes.count - offset)
        let last: UInt8 = offset + count == bytes.count ? 1 : 0
        out += [last, UInt8(count & 0xFF), UInt8(count >> 8), UInt8(~count & 0xFF), UInt8((~count >> 8) & 0xFF)]
        out += bytes[offset..<offset + count]
        offset += count
    } while offset < bytes.count
    var crc: UInt32 = 0xFFFF_FFFF
    for byte in bytes {
        crc ^= UInt32(byte)
        for _ in 0..<8 { crc = crc & 1 == 1 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
    }
    crc = ~crc
    for value in [crc, UInt32(truncatingIfNeeded: bytes.count)] {
        out += (0..<4).map { UInt8(truncatingIfNeeded: value >> (8 * $0)) }
    }
    return out
}

/// `bytes` (at most 128 KiB) as a zstd frame holding one raw block (RFC 8878): a valid .zst that
/// needs no libzstd.
public func zstdRaw(_ bytes: [UInt8]) -> [UInt8] {
    precondition(bytes.count <= 128 * 1024, "zstdRaw takes at most one 128 KiB block")
    let size = UInt32(bytes.count)
    // Descriptor 0xA0: single segment, 4-byte content size, no checksum, no dictionary.
    var out: [UInt8] = [0x28, 0xB5, 0x2F, 0xFD, 0xA0] + (0..<4).map { UInt8(truncatingIfNeeded: size >> (8 * $0)) }
    let header = 1 | (size << 3)  // last block, raw
    out += (0..<3).map { UInt8(truncatingIfNeeded: header >> (8 * $0)) }
    return out + bytes
}
