import ArgumentParser
import Corpus
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// `seq2seq bench shards`: read throughput of a shard folder (library reader and BatchStream)
/// next to `zstd -d -c`, peak RSS and compression ratio.
struct BenchShards: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "shards",
        abstract: "Shard read throughput, peak memory and compression ratio.",
        discussion: """
        Either --shards corpora/NAME, or --source FILE --target FILE (packed into a temporary folder first). --repeat N packs the input N times over, to compare peak RSS of a corpus and one N times larger; reading is then measured in a child process so its peak RSS excludes packing. Figures are only meaningful from a release build (swift build -c release).
        """
    )

    @Option(help: "Existing shard folder to read.")
    var shards: String?
    @Option(help: "Source text to pack into a temporary shard folder first.")
    var source: String?
    @Option(help: "Target text to pack into a temporary shard folder first.")
    var target: String?
    @Option(name: .customLong("repeat"), help: "Pack the input this many times over (needs --source/--target or --shards).")
    var repetitions: Int = 1
    @Option(help: "Pairs per shard when packing (default 100000).")
    var pairsPerShard: Int?
    @Option(help: "zstd level when packing (default 3).")
    var level: Int?
    @Option(help: "BatchStream window (pairs).")
    var window: Int = 10_000
    @Option(help: "BatchStream batch size (sentences).")
    var batchSize: Int = 64
    @Flag(help: "Keep the temporary shard folder and print its path.")
    var keep = false

    func validate() throws {
        guard (shards != nil) != (source != nil && target != nil), (source == nil) == (target == nil) else {
            throw ValidationError("Give --shards DIR, or --source FILE and --target FILE.")
        }
        guard repetitions >= 1 else { throw ValidationError("--repeat must be at least 1.") }
        guard repetitions <= 1000 else { throw ValidationError("--repeat must be at most 1000.") }
        // With --shards and no --repeat nothing is packed: packing options would be ignored.
        if source == nil && repetitions == 1 {
            let given = [("--pairs-per-shard", pairsPerShard != nil), ("--level", level != nil), ("--keep", keep)]
                .filter(\.1).map(\.0)
            if !given.isEmpty {
                throw ValidationError("\(given.joined(separator: ", ")) only \(given.count == 1 ? "applies" : "apply") when packing (--source/--target or --repeat)")
            }
        }
    }

    func run() throws {
        var folder = shards ?? ""
        var temporary: String?
        if source != nil || repetitions > 1 {
            let dir = FileManager.default.temporaryDirectory.appendingPathComponent("seq2seq-bench-\(UUID().uuidString)").path
            temporary = dir
            let started = Date()
            let summary = try pack(into: dir)
            let seconds = Date().timeIntervalSince(started)
            try StandardOutput.shared.writeLine(String(format: "pack   %d pairs (%d× input) in %.2f s: %.1f MB/s of records, %.0f pairs/s",
                         summary.pairsWritten, repetitions, seconds, Double(summary.uncompressedBytes) / 1e6 / seconds,
                         Double(summary.pairsWritten) / seconds))
            folder = dir
        }
        defer {
            if let temporary {
                if keep { Shard.note("kept \(temporary)") } else { try? FileManager.default.removeItem(atPath: temporary) }
            }
        }
        if temporary != nil, let executable = Bundle.main.executablePath {
            // ru_maxrss only ever grows, so packing would hide the reader's own peak: measure
            // the reading in a fresh process on the packed folder.
            let child = Process()
            child.executableURL = URL(fileURLWithPath: executable)
            child.arguments = ["bench", "shards", "--shards", folder, "--window", "\(window)", "--batch-size", "\(batchSize)"]
            try StandardOutput.shared.flush()   // keep our lines before the child's
            try child.run()
            child.waitUntilExit()
            try StandardOutput.shared.writeLine("peak RSS of packing (this process) \(BenchShards.peakRSS())")
            if child.terminationStatus != 0 { throw ExitCode(child.terminationStatus) }
            return
        }
        let set = try ShardSet(directory: folder)
        let megabytes = Double(set.manifest.totalUncompressedBytes) / 1e6
        try StandardOutput.shared.writeLine(String(format: "corpus %d pairs in %d shards; records %.1f MB (text %.1f MB), compressed %.1f MB, ratio %.2f (level %d)",
                     set.pairCount, set.shardCount, megabytes, Double(set.manifest.totalTextBytes) / 1e6,
                     Double(set.manifest.totalCompressedBytes) / 1e6,
                     Double(set.manifest.totalUncompressedBytes) / Double(max(1, set.manifest.totalCompressedBytes)),
                     set.manifest.compressionLevel))

        // Sequential pairs (decompress + records + two Strings per pair), manifest checks included.
        var started = Date()
        var pairs = 0
        for index in 0..<set.shardCount {
            let reader = try ShardReader(shards: set, index: index)
            while try reader.next() != nil { pairs += 1 }
        }
        try report("reader", seconds: Date().timeIntervalSince(started), megabytes: megabytes, pairs: pairs)

        // Through BatchStream: background thread, window shuffle, length sort, batches.
        started = Date()
        let stream = try BatchStream(shards: set, options: BatchingOptions(batchSize: batchSize, windowSize: window, seed: 1),
                                     epoch: 0, resumeFrom: nil, prepare: { $0 }, length: { $0.source.utf8.count })
        pairs = 0
        while let batch = try stream.next() { pairs += batch.count }
        try report("stream", seconds: Date().timeIntervalSince(started), megabytes: megabytes, pairs: pairs)

        if let zstd = BenchShards.findExecutable("zstd") {
            started = Date()
            let process = Process()
            process.executableURL = URL(fileURLWithPath: zstd)
            process.arguments = ["-d", "-c", "-q"] + (0..<set.shardCount).map { set.path(ofShard: $0) }
            process.standardOutput = FileHandle(forWritingAtPath: "/dev/null")
            try process.run()
            process.waitUntilExit()
            let seconds = Date().timeIntervalSince(started)
            try StandardOutput.shared.writeLine(String(format: "zstd -d -c > /dev/null   %6.2f s  %7.1f MB/s  (status %d)",
                         seconds, megabytes / seconds, process.terminationStatus))
        } else {
            try StandardOutput.shared.writeLine("zstd CLI not found on PATH: no comparison")
        }
        try StandardOutput.shared.writeLine("peak RSS while reading \(BenchShards.peakRSS())")
    }

    private func report(_ name: String, seconds: Double, megabytes: Double, pairs: Int) throws {
        try StandardOutput.shared.writeLine(name.padding(toLength: 25, withPad: " ", startingAt: 0) + String(format: "%6.2f s  %7.1f MB/s  %9.0f pairs/s  (%d pairs)",
                     seconds, megabytes / seconds,
                     Double(pairs) / seconds, pairs))
    }

    /// Packs the input `repetitions` times into `dir` (streaming: memory does not grow with N).
    private func pack(into dir: String) throws -> PackSummary {
        let writer = try ShardWriter(directory: dir,
                                     options: ShardOptions(pairsPerShard: pairsPerShard ?? 100_000, compressionLevel: level ?? 3,
                                                           command: Shard.commandLineText()),
                                     tokenCount: Shard.spaceTokenCount)
        for _ in 0..<repetitions {
            if let source, let target {
                let sources = try LineReader(path: source)
                let targets = try LineReader(path: target)
                while let s = try sources.next(), let t = try targets.next() { try writer.add(source: s, target: t) }
            } else if let shards {
                let set = try ShardSet(directory: shards)
                for index in 0..<set.shardCount {
                    let reader = try ShardReader(shards: set, index: index)
                    while let pair = try reader.next() { try writer.add(source: pair.source, target: pair.target) }
                }
            }
        }
        return try writer.finish()
    }

    /// Peak resident set size of this process (getrusage ru_maxrss, KiB on Linux).
    static func peakRSS() -> String {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return String(format: "%.1f MiB", Double(usage.ru_maxrss) / 1024)
    }

    static func findExecutable(_ name: String) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        for dir in path.split(separator: ":") {
            let candidate = "\(dir)/\(name)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }
}
