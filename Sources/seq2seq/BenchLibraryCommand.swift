import ArgumentParser
import Foundation
import Kernels
import Seq2Seq

/// `seq2seq bench library`: the `Seq2Seq` library's in-process figures on a real model folder:
/// the latency of one call with one short sentence (batch 1), in float32 and int8, and the
/// throughput of concurrent callers (one sentence per call, batched by the library's queue) against
/// one call with every sentence (what `translate` does with a file).
struct BenchLibrary: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "library",
        abstract: "Time the Seq2Seq library: one-sentence latency (float32, int8) and concurrent callers' throughput (release build).")

    @Option(help: "Model folder made by `seq2seq train`.") var model: String
    @Option(help: "Sentences, one per line: the first is the latency's sentence; all of them are translated for the throughput.")
    var input: String
    @Option(help: "Beam size.") var beam: Int = 5
    @Option(help: "Threads in all.") var threads: Int = 1
    @Option(help: "Concurrent callers for the throughput.") var callers: Int = 8
    @Option(help: "Calls timed for the latency, after 3 warm-up calls.") var repeats: Int = 50

    func run() throws {
        try checkThreads(threads)
        guard beam >= 1 && beam <= 1000 else { throw ValidationError("--beam must be between 1 and 1000") }
        guard callers >= 1 && callers <= 1024 else { throw ValidationError("--callers must be between 1 and 1024") }
        guard repeats >= 1 && repeats <= 1_000_000 else { throw ValidationError("--repeats must be between 1 and 1000000") }
        let sentences = try readAllLines(input).filter { !$0.trimmingCharacters(in: .whitespaces).isEmpty }
        guard let first = sentences.first else { throw CLIError("\(input): no sentence to translate") }
        let url = URL(fileURLWithPath: model)
        let out = StandardOutput.shared
        try out.writeLine("bench library: \(model), beam \(beam), \(threads) thread(s), CPU \(CPUInfo.current.modelName)")
        for precision in [Precision.float32, .int8] {
            let translator = try Translator(model: url, options: .init(beam: beam, precision: precision, threads: threads, maxWait: 0))
            for _ in 0..<3 { _ = try translator.translateSync([first]) }
            var times: [Double] = []
            for _ in 0..<repeats {
                let start = DispatchTime.now().uptimeNanoseconds
                _ = try translator.translateSync([first])
                times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6)
            }
            times.sort()
            try out.writeLine(String(format: "latency %@, 1 sentence (%d words): median %.2f ms, p90 %.2f ms over %d calls",
                                     precision.rawValue, first.split(separator: " ").count, times[times.count / 2],
                                     times[min(times.count - 1, times.count * 9 / 10)], repeats))
        }
        let translator = try Translator(model: url, options: .init(beam: beam, threads: threads, batchSize: 64, maxWait: 0.002))
        _ = try translator.translateSync(Array(sentences.prefix(8)))
        var start = Date()
        _ = try translator.translateSync(sentences)
        let whole = Date().timeIntervalSince(start)
        start = Date()
        let next = Counter(), queue = DispatchQueue(label: "callers", attributes: .concurrent), group = DispatchGroup()
        let failure = Counter()
        for _ in 0..<callers {
            queue.async(group: group) {
                while let i = next.take(below: sentences.count) {
                    if (try? translator.translateSync([sentences[i]])) == nil { _ = failure.take(below: Int.max) }
                }
            }
        }
        group.wait()
        let concurrent = Date().timeIntervalSince(start)
        if failure.value > 0 { throw CLIError("bench library: \(failure.value) calls failed") }
        try out.writeLine(String(format: "throughput float32, %d sentences: one call with all of them %.1f sentences/s; %d callers, one sentence per call %.1f sentences/s (%.2f×)",
                                 sentences.count, Double(sentences.count) / whole, callers, Double(sentences.count) / concurrent,
                                 whole / concurrent))
    }
}

/// A shared index handed out once per value (the callers' next sentence).
private final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private(set) var value = 0
    func take(below limit: Int) -> Int? {
        lock.lock()
        defer { lock.unlock() }
        guard value < limit else { return nil }
        value += 1
        return value - 1
    }
}
