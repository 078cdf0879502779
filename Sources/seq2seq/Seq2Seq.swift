import ArgumentParser

/// Version of the tool; written into every file format's header and into BLEU signatures.
let seq2seqVersion = "0.1.0"

@main
struct Seq2Seq: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "seq2seq",
        abstract: "CPU-first LSTM encoder-decoder translation (Sutskever et al. 2014).",
        version: seq2seqVersion,
        subcommands: [
            Demo.self, Tokenize.self, Detokenize.self, Vocab.self, Shard.self,
            Train.self, Translate.self, Evaluate.self, Bleu.self, Plot.self, Bench.self,
        ]
    )
}
