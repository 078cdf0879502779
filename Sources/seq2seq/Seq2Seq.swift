import ArgumentParser
import Basics
import Foundation

/// Version of the tool; written into every file format's header and into BLEU signatures.
let seq2seqVersion = toolkitVersion

@main
struct Seq2Seq: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "seq2seq",
        abstract: "CPU-first recurrent encoder-decoder translation (Sutskever et al. 2014).",
        version: seq2seqVersion,
        subcommands: [
            Demo.self, Tokenize.self, Detokenize.self, BPE.self, Vocab.self, Shard.self,
            Train.self, Average.self, ShortlistCommand.self, Quantize.self, Translate.self, Serve.self, Evaluate.self, Bleu.self, Plot.self, Bench.self, Doctor.self, LabCommand.self,
        ]
    )

    /// Like ArgumentParser's `main`, except that every error of every subcommand is one line
    /// `seq2seq: error: …` on stderr through one reporter (`printError`): a bad command line (unknown
    /// option, missing or invalid value) names the subcommand's help instead of printing the whole
    /// usage block, and an error thrown while running is printed by its description (which names the
    /// file and line). Standard output is flushed and checked at exit, also after an error (finished
    /// output is never lost); a failed write makes the exit status 1. Help and version text go
    /// through the same checked writer.
    static func main() {
        // A closed pipe must come back from write(2) as EPIPE (a quiet exit, see StandardOutput),
        // not kill the process mid-write.
        signal(SIGPIPE, SIG_IGN)
        // Over a file-size limit (`ulimit -f`) a write must fail with EFBIG, so that the usual
        // clean-up runs (temporary files removed, one error line), instead of SIGXFSZ killing the
        // process and leaving `.tmp` files behind.
        signal(SIGXFSZ, SIG_IGN)
        // A standard descriptor the caller closed (`>&-`, `2>&-`) is opened on /dev/null, so that no
        // file this run opens can take its number and receive progress or error lines. Output meant
        // for a closed stdout is an error (StandardOutput.markClosedByCaller), not silently dropped.
        for descriptor: Int32 in 0...2 where fcntl(descriptor, F_GETFD) == -1 && errno == EBADF {
            let null = open("/dev/null", descriptor == 0 ? O_RDONLY : O_WRONLY)
            if null >= 0 && null != descriptor { dup2(null, descriptor); close(null) }
            if descriptor == 1 { StandardOutput.shared.markClosedByCaller() }
        }
        let command: ParsableCommand
        do {
            command = try parseAsRoot()
        } catch {
            let code = exitCode(for: error)
            if code == .success {  // --help, --version
                finish(status: 0) { throw error }
            }
            let help = commandPath(CommandLine.arguments.dropFirst()).joined(separator: " ")
            let message = Self.message(for: error).split(separator: "\n").first.map(String.init) ?? "invalid command line"
            printError("seq2seq: error: \(message) (see '\(help) --help')")
            Foundation.exit(code.rawValue)
        }
        var mutable = command
        finish(status: 0) { try mutable.run() }
    }

    /// Runs `body`, reports a thrown error as one line, flushes standard output and exits: with the
    /// `ExitCode` thrown, 1 after any other error or a failed flush, `status` otherwise.
    static func finish(status: Int32, _ body: () throws -> Void) -> Never {
        var status = status
        do {
            try body()
        } catch let code as ExitCode {
            status = code.rawValue
        } catch let error as StandardOutputError where error.readerLeft {
            status = StandardOutputError.readerLeftStatus
        } catch where exitCode(for: error) == .success {
            // --help and --version (thrown by parsing, or by the `help` subcommand's run).
            do {
                try StandardOutput.shared.writeLine(fullMessage(for: error))
            } catch {
                printError("seq2seq: error: \(error)")
                status = 1
            }
        } catch {
            // ArgumentParser's message: the description of our errors (which name file and line),
            // the message of a ValidationError, a readable line for the parser's own errors.
            let message = Self.message(for: error).split(separator: "\n").first.map(String.init) ?? "\(error)"
            printError("seq2seq: error: \(message)")
            status = 1
        }
        do {
            try StandardOutput.shared.flush()
        } catch let error as StandardOutputError where error.readerLeft {
            if status == 0 { status = StandardOutputError.readerLeftStatus }
        } catch {
            printError("seq2seq: error: \(error)")
            if status == 0 { status = 1 }
        }
        Foundation.exit(status)
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
}

/// The largest `--threads` any command accepts (OpenBLAS takes a 32-bit count; far more threads than
/// cores only slows it down).
let maximumThreads = 256

/// Refuses a `--threads` value outside 1...`maximumThreads` with a one-line message.
/// - Throws: `ValidationError` naming the option.
func checkThreads(_ threads: Int) throws {
    guard threads >= 1 && threads <= maximumThreads else {
        throw ValidationError("--threads must be between 1 and \(maximumThreads), got \(threads)")
    }
}

/// The largest `--batch-size` of translate and evaluate (sentence counts far above any batch that
/// fits in memory; keeps chunk and index arithmetic far from overflow).
let maximumBatchSize = 100_000
