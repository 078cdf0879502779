/// The chart `seq2seq plot` draws: training and validation perplexity against fractional epoch.
extension LineChart {
    static let trainingColor = "#1f77b4"
    static let validationColor = "#d62728"

    /// Training perplexity as a line, validation perplexity as a line with markers (left out
    /// while the log has no validation yet), titled with the model's name; the subtitle gives
    /// the latest training and the best validation figure so the chart reads without hovering.
    public static func perplexity(of log: TrainingLog, modelName: String) -> LineChart {
        func points(_ list: [TrainingLog.Point]) -> [Point] {
            list.map { Point(x: $0.epoch, y: $0.perplexity ?? .nan) }
        }
        var series = [Series(name: "training perplexity", points: points(log.training), color: trainingColor)]
        if !log.validation.isEmpty {
            series.append(Series(name: "validation perplexity", points: points(log.validation),
                                 color: validationColor, showsMarkers: true))
        }

        var facts: [String] = []
        if let last = log.training.last(where: { $0.perplexity != nil }), let ppl = last.perplexity {
            facts.append("last training \(SVGText.fixed(ppl, decimals: 2)) at epoch \(SVGText.number(last.epoch))")
        } else {
            facts.append("no training perplexity yet")
        }
        let best = log.validation.filter { $0.perplexity != nil }.min { $0.perplexity! < $1.perplexity! }
        if let best, let ppl = best.perplexity {
            facts.append("best validation \(SVGText.fixed(ppl, decimals: 2)) at epoch \(SVGText.number(best.epoch))")
        } else {
            facts.append("no validation yet")
        }
        if !log.skippedBatchSteps.isEmpty {
            let count = log.skippedBatchSteps.count
            facts.append("\(count) skipped batch\(count == 1 ? "" : "es")")
        }
        return LineChart(title: modelName, subtitle: facts.joined(separator: " · "), xLabel: "epoch",
                         yLabel: "perplexity (log scale)", series: series)
    }
}
