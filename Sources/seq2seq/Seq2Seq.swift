import ArgumentParser
import Foundation

/// Version of the tool; written into every file format's header and into BLEU signatures.
let seq2seqVersion = "0.1.0"

@main
struct Seq2Seq: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "seq2seq",
        abstract: "CPU-first recurrent encoder-decoder translation (Sutskever et al. 2014).",
        version: seq2seqVersion,
        subcommands: [
            Demo.self, Tokenize.self, Detokenize.self, Vocab.self, Shard.self,
            Train.self, Translate.self, Evaluate.self, Bleu.self, Plot.self, Bench.self,
        ]
    )

    /// Like ArgumentParser's `main`, except that a bad command line (unknown option, missing or
    /// invalid value) is one line `seq2seq: error: …` naming the subcommand's help, like every
    /// other error of the tool, instead of a message followed by the whole usage block.
    static func main() {
        // The Kernels module is compiled for AVX2+FMA (Package.swift): refuse politely elsewhere.
        if let flags = cpuFlags(), !(flags.contains("avx2") && flags.contains("fma")) {
            printError("seq2seq: error: this CPU lacks AVX2/FMA, which this build of seq2seq needs")
            Foundation.exit(1)
        }
        let command: ParsableCommand
        do {
            command = try parseAsRoot()
        } catch {
            let code = exitCode(for: error)
            if code == .success { exit(withError: error) }  // --help, --version
            let help = commandPath(CommandLine.arguments.dropFirst()).joined(separator: " ")
            let message = Self.message(for: error).split(separator: "\n").first.map(String.init) ?? "invalid command line"
            printError("seq2seq: error: \(message) (see '\(help) --help')")
            Foundation.exit(code.rawValue)
        }
        var mutable = command
        do {
            try mutable.run()
        } catch {
            exit(withError: error)
        }
    }

    /// "seq2seq" and the subcommand names that lead the arguments ("seq2seq bench gemm").
    static func commandPath(_ arguments: ArraySlice<String>) -> [String] {
        var path = ["seq2seq"]
        var command: ParsableCommand.Type = Seq2Seq.self
        for word in arguments {
            guard let next = command.configuration.subcommands.first(where: {
                ($0.configuration.commandName ?? String(describing: $0).lowercased()) == word
            }) else { break }
            path.append(word)
            command = next
        }
        return path
    }

    /// The first "flags" line of /proc/cpuinfo as a set, or nil where there is none.
    static func cpuFlags() -> Set<Substring>? {
        guard let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
              let line = text.split(separator: "\n").first(where: { $0.hasPrefix("flags") }) else { return nil }
        return Set(line.split(separator: " "))
    }
}
