import ArgumentParser
import Foundation
import Text

/// `seq2seq bench bpe`: throughput of applying BPE codes to tokenized text on one core.
struct BenchBPE: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bpe",
        abstract: "Time applying BPE codes to tokenized text (one thread; release build).",
        discussion: """
            Reads --input into memory, then segments every line --passes times with one encoder \
            (as `bpe apply` does, output to a reused buffer, no I/O), and prints MB/s of input \
            for the first pass (empty word cache) and the best later pass (warm cache), by wall \
            time and by the thread's CPU time (steadier on a shared machine).
            """)

    @Option(help: "Codes file.") var codes: String
    @Option(help: "Tokenized text to segment.") var input: String
    @Option(help: "Passes over the text (the first one fills the cache).") var passes: Int = 3

    func run() throws {
        guard passes >= 1 && passes <= 100 else { throw ValidationError("--passes must be between 1 and 100") }
        let encoder = try BPEEncoder(codes: BPECodes(contentsOf: codes))
        var lines: [[UInt8]] = []
        var bytes = 0
        try readLines(path: input) { line, _ in
            lines.append(Array(line))
            bytes += line.count + 1
        }
        var output: [UInt8] = []
        output.reserveCapacity(1 << 20)
        var rates: [Double] = [], cpuRates: [Double] = []
        func cpuSeconds() -> Double {
            var t = timespec()
            clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t)
            return Double(t.tv_sec) + Double(t.tv_nsec) / 1e9
        }
        var produced = 0
        for _ in 0..<passes {
            let start = DispatchTime.now().uptimeNanoseconds
            let cpuStart = cpuSeconds()
            produced = 0
            for line in lines {
                output.removeAll(keepingCapacity: true)
                line.withUnsafeBufferPointer { encoder.appendSegmented(line: $0, to: &output) }
                produced += output.count + 1
            }
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            rates.append(Double(bytes) / 1e6 / seconds)
            cpuRates.append(Double(bytes) / 1e6 / (cpuSeconds() - cpuStart))
        }
        try StandardOutput.shared.writeLine(String(format: "bpe apply: %d lines, %.1f MB in, %.1f MB out, %d merges; first pass %.1f MB/s (CPU time: %.1f), best warm pass %.1f MB/s (CPU time: %.1f)",
                                                   lines.count, Double(bytes) / 1e6, Double(produced) / 1e6,
                                                   encoder.codes.merges.count, rates[0], cpuRates[0],
                                                   rates.dropFirst().max() ?? rates[0], cpuRates.dropFirst().max() ?? cpuRates[0]))
    }
}
