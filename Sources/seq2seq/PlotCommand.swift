import ArgumentParser
import Basics
import Corpus
import Foundation
import ModelFolder
import Plotting

/// `seq2seq plot --model DIR [--output FILE.svg]`: training and validation perplexity per epoch
/// as an SVG line chart, with the validation BLEU (when logged) and the learning rate in charts
/// under it, drawn by the Plotting module from the model folder's `log.jsonl`.
struct Plot: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plot",
        abstract: "Draw training and validation perplexity, validation BLEU and the learning rate per epoch as an SVG chart.",
        discussion: """
            Reads DIR/log.jsonl (written by `seq2seq train`, also while it is still running) and writes \
            one SVG with epoch on the x axis: perplexity on a log scale; under it validation BLEU \
            (when the run used --valid-bleu) and the learning rate (log scale). Lines a resumed run \
            superseded are left out. A log with `gradient_flow` lines (train --log-gradient-flow) also \
            gives FILE-gradient-flow.svg: the encoder's ‖∂L/∂h_t‖ by source position. The same log \
            always gives the same bytes.
            """)

    @Option(help: ArgumentHelp("Model folder made by `seq2seq train`.", valueName: "dir"))
    var model: String

    @Option(help: ArgumentHelp("SVG file to write (default: DIR/perplexity.svg).", valueName: "file"))
    var output: String?

    func run() throws {
        try StandardOutput.shared.requireOpen()  // the report of what was written goes there
        try plot()
    }

    private func plot() throws {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: model, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw PlotFailure(message: "\(model): no such model folder")
        }
        let logPath = (model.hasSuffix("/") ? model : model + "/") + "log.jsonl"
        guard let data = FileManager.default.contents(atPath: logPath) else {
            let reason = FileManager.default.fileExists(atPath: logPath) ? "cannot read it" : "no such file (train the model first)"
            throw PlotFailure(message: "\(logPath): \(reason)")
        }
        let log = try TrainingLog(parsing: [UInt8](data), file: logPath)
        guard log.training.contains(where: { $0.perplexity != nil }) || log.validation.contains(where: { $0.perplexity != nil }) else {
            throw PlotFailure(message: "\(logPath): no finite training or validation perplexity logged yet")
        }

        let name = model.split(separator: "/").last.map(String.init) ?? model
        let charts = [LineChart.perplexity(of: log, modelName: name)]
            + [LineChart.validationBLEU(of: log, modelName: name), LineChart.learningRate(of: log, modelName: name)].compactMap { $0 }
        let svg = ChartStack(charts: charts).svg()
        let destination = output ?? (model.hasSuffix("/") ? model : model + "/") + "perplexity.svg"
        let writer = try AtomicFileWriter(path: destination)
        try writer.write(svg)
        try writer.commit()
        let bleuCount = log.validation.filter { $0.bleu != nil }.count
        try StandardOutput.shared.writeLine("wrote \(destination): \(log.training.count) training and \(log.validation.count) validation points"
            + (bleuCount > 0 ? ", \(bleuCount) validation BLEU points" : ""))
        // `train --log-gradient-flow` lines: a second chart beside the first.
        let configPath = (model.hasSuffix("/") ? model : model + "/") + "config.json"
        let reversed = FileManager.default.contents(atPath: configPath).flatMap { Plot.reverseSource(inConfig: $0) }
        if let flow = LineChart.gradientFlow(of: log, modelName: name, reversedSource: reversed) {
            let flowPath = (destination.hasSuffix(".svg") ? String(destination.dropLast(4)) : destination) + "-gradient-flow.svg"
            let flowWriter = try AtomicFileWriter(path: flowPath)
            try flowWriter.write(flow.svg())
            try flowWriter.commit()
            try StandardOutput.shared.writeLine("wrote \(flowPath): \(log.gradientFlow.count) gradient-flow lines")
        }
    }
}

extension Plot {
    /// The `reverseSource` flag of a model folder's `config.json` (nil when absent or unreadable:
    /// the chart then just does not say).
    static func reverseSource(inConfig data: Data) -> Bool? {
        (try? JSONDecoder().decode(SavedModelConfig.self, from: data))?.model.reverseSource
    }
}

/// A one-line failure of `seq2seq plot` naming the file concerned.
private struct PlotFailure: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}
