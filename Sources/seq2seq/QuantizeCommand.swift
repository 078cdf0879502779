import ArgumentParser
import Foundation
import Model
import ModelFolder

/// `seq2seq quantize --model DIR`: stores the int8 copy of a checkpoint's decoder beside it
/// (ModelFolder's `Int8Copy`), which `translate`, `evaluate` and `serve` load with `--precision int8`.
struct Quantize: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "quantize",
        abstract: "Store the int8 copy of a model's decoder in its folder (for --precision int8).",
        discussion: """
            Quantizes the decoder's recurrent weights, attention projections and output layer of the chosen \
            checkpoint to int8 with one scale per output row (symmetric, max|w|/127) and writes \
            DIR/best.int8.safetensors (or last.int8.safetensors) atomically. `translate --precision int8` \
            then reads it instead of quantizing at load time (the same bits either way); without it, int8 \
            decoding quantizes when the model is loaded. A copy made from other weights is refused at load.
            """)

    @Option(help: ArgumentHelp("Model folder made by `seq2seq train`.", valueName: "dir")) var model: String
    @Option(help: "Which weights: best or last.") var checkpoint: CheckpointChoice = .best

    func run() throws {
        let directory = try SavedModel(opening: model)
        let network = try directory.loadModel(checkpoint)
        let weights = DecoderWeights(model: network, precision: .int8)
        let source = try directory.checkpointPath(checkpoint)
        let path = Int8Copy.path(for: source)
        try Int8Copy.write(weights, of: network, checkpointName: (source as NSString).lastPathComponent, to: path)
        let bytes = weights.products.reduce(0) { $0 + $1.product.n * $1.product.k }
        try StandardOutput.shared.writeLine("wrote \(path): \(weights.products.count) int8 matrices, "
            + "\(bytes) weights (\(String(format: "%.1f", Double(bytes) / 1_048_576)) MiB; float32 \(String(format: "%.1f", Double(4 * bytes) / 1_048_576)) MiB)")
    }
}
