import ArgumentParser
import Corpus
import Foundation

/// `seq2seq shard`: pack parallel text into zstd shards, verify a shard folder, or export it.
struct Shard: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "shard",
        abstract: "Pack parallel text into zstd-compressed shards; verify or export a shard folder.",
        discussion: """
        Pack: seq2seq shard --source FILE --target FILE --output corpora/NAME, or --tsv FILE (one source<TAB>target pair per line) instead of --source/--target. Inputs may be plain, .gz or .zst. Both inputs are checked first (UTF-8, equal line counts) and nothing is written if they fail. The output folder must not exist or be empty; an earlier shard folder is replaced only with --overwrite, and no other folder (a model folder above all) is ever written into. The corpus is built in a hidden folder beside the output and renamed into place when complete, so a failed run leaves no output folder (and an earlier corpus as it was). Input in which no pair is left to store is refused. Pairs with an empty side, or with more than --max-length tokens on either side, are skipped and counted. Tokens for --max-length are runs of characters between spaces (not the ICU tokenizer). With --shuffle SEED the pairs are stored in a seeded random order (the same seed and input give the same shards); without it, in input order.

        Verify: seq2seq shard --verify corpora/NAME (exit status 1 if any shard is missing, truncated or altered, if a shard's pair count or sizes differ from the manifest, if the manifest's totals disagree with its shard list, or if a shard file on disk is not listed; one line `shard: FILE: problem` per problem, then the error line).

        Export: seq2seq shard --export corpora/NAME --source OUT --target OUT (the stored pairs, in stored order).

        The shard format is documented field by field in the Corpus module (ShardFormat).
        """
    )

    @Option(help: "Source-side text file (pack), or output file (export).")
    var source: String?
    @Option(help: "Target-side text file (pack), or output file (export).")
    var target: String?
    @Option(help: "Tab-separated input: one source<TAB>target pair per line.")
    var tsv: String?
    @Option(help: "Shard folder to write, e.g. corpora/NAME.")
    var output: String?
    @Option(help: "Pairs per shard file (default 100000; packing only).")
    var pairsPerShard: Int?
    @Option(help: "Skip pairs with more than this many space-separated tokens on either side.")
    var maxLength: Int?
    @Option(help: "zstd compression level (1-22, default 3; packing only).")
    var level: Int?
    @Option(help: "Source language code, recorded in the manifest.")
    var sourceLang: String?
    @Option(help: "Target language code, recorded in the manifest.")
    var targetLang: String?
    @Option(help: "Store the pairs in a seeded uniform random order (memory bounded: pairs are scattered to bucket files, each bucket shuffled); use it for corpora sorted by length or by source, since train shuffles only within windows.")
    var shuffle: UInt64?
    @Flag(help: "Replace an earlier shard folder at --output (never a model folder or any other folder).")
    var overwrite = false
    @Option(help: "Check every shard of this folder against its manifest.")
    var verify: String?
    @Option(help: "Write the pairs of this folder back out to --source and --target.")
    var export: String?

    func validate() throws {
        let packing = output != nil || tsv != nil
        guard [packing, verify != nil, export != nil].filter({ $0 }).count == 1 else {
            throw ValidationError("Give exactly one of --output (pack), --verify or --export.")
        }
        if verify != nil, source != nil || target != nil {
            throw ValidationError("--verify takes only the shard folder.")
        }
        if !packing {
            // Options that only shape packing would be accepted and ignored by --verify and --export.
            let given = [("--pairs-per-shard", pairsPerShard != nil), ("--max-length", maxLength != nil),
                         ("--level", level != nil), ("--source-lang", sourceLang != nil), ("--target-lang", targetLang != nil),
                         ("--shuffle", shuffle != nil)]
                .filter(\.1).map(\.0)
            if !given.isEmpty {
                throw ValidationError("\(given.joined(separator: ", ")) only \(given.count == 1 ? "applies" : "apply") when packing (--output)")
            }
        }
        if export != nil, source == nil || target == nil {
            throw ValidationError("--export needs --source OUT and --target OUT.")
        }
        if overwrite && !packing {
            throw ValidationError("--overwrite applies only when packing into --output.")
        }
        if packing {
            guard output != nil else { throw ValidationError("Packing needs --output corpora/NAME.") }
            guard (tsv != nil) != (source != nil || target != nil), tsv != nil || (source != nil && target != nil) else {
                throw ValidationError("Pack from --source FILE --target FILE, or from --tsv FILE.")
            }
            guard (sourceLang == nil) == (targetLang == nil) else {
                throw ValidationError("Give both --source-lang and --target-lang, or neither.")
            }
        }
    }

    func run() throws {
        try shard()
    }

    private func shard() throws {
        if let verify {
            let set = try ShardSet(directory: verify)
            let problems = set.verify()
            // One line per problem, then the one error line every refusal ends with.
            for problem in problems { Shard.note("shard: " + problem) }
            if !problems.isEmpty {
                throw CLIError("\(verify): \(problems.count) of \(set.shardCount) shards failed verification")
            }
            Shard.note("\(verify): \(set.shardCount) shards, \(set.pairCount) pairs verified")
            return
        }
        if let export, let source, let target {
            let pairs = try ShardSet(directory: export).export(sourcePath: source, targetPath: target)
            Shard.note("exported \(pairs) pairs to \(source) and \(target)")
            return
        }
        let options = ShardOptions(
            pairsPerShard: pairsPerShard ?? 100_000, maxLength: maxLength, compressionLevel: level ?? 3,
            languages: sourceLang.flatMap { s in targetLang.map { Manifest.Languages(source: s, target: $0) } },
            command: Shard.commandLineText(), overwrite: overwrite, shuffleSeed: shuffle)
        let summary: PackSummary
        if let tsv {
            summary = try ShardPacker.pack(tsvPath: tsv, output: output!, options: options, tokenCount: Shard.spaceTokenCount)
        } else {
            summary = try ShardPacker.pack(sourcePath: source!, targetPath: target!, output: output!,
                                           options: options, tokenCount: Shard.spaceTokenCount)
        }
        Shard.note(Shard.packSummaryLine(summary, output: output!, maxLength: maxLength))
    }
}

// Helpers are static members so their names cannot clash with other commands' files.
extension Shard {
    /// Tokens for --max-length: runs of bytes between ASCII spaces (cheap, tokenizer-independent).
    static func spaceTokenCount(_ text: String) -> Int {
        var count = 0
        var inToken = false
        for byte in text.utf8 {
            if byte == 32 { inToken = false } else if !inToken { inToken = true; count += 1 }
        }
        return count
    }

    /// The command as typed, for manifests (arguments with spaces are quoted).
    static func commandLineText() -> String {
        (["seq2seq"] + CommandLine.arguments.dropFirst()).map { argument in
            argument.contains(where: { $0 == " " || $0 == "\t" || $0 == "\"" }) ? "'\(argument)'" : argument
        }.joined(separator: " ")
    }

    static func note(_ line: String) {
        printError(line)
    }

    static func megabytes(_ bytes: Int) -> String { String(format: "%.1f MB", Double(bytes) / 1e6) }

    static func packSummaryLine(_ summary: PackSummary, output: String, maxLength: Int?) -> String {
        let tooLong = maxLength.map { "\(summary.skippedTooLong) longer than \($0) tokens" } ?? "no length limit"
        return "\(output): \(summary.pairsWritten) of \(summary.pairsRead) pairs in \(summary.shards) shards "
            + "(skipped \(summary.skippedEmpty) with an empty side, \(tooLong)); "
            + "\(Shard.megabytes(summary.uncompressedBytes)) -> \(Shard.megabytes(summary.compressedBytes)), "
            + String(format: "ratio %.2f", summary.compressionRatio)
    }
}
