/// The charts `seq2seq plot` draws under the perplexity chart: validation BLEU (`train
/// --valid-bleu`) and the learning rate.
extension LineChart {
    static let bleuColor = "#2ca02c"
    static let learningRateColor = "#9467bd"

    /// Validation BLEU (0…100, linear axis from 0) against fractional epoch, with markers; nil
    /// when the log holds no BLEU. The subtitle gives the best figure and where it was reached.
    public static func validationBLEU(of log: TrainingLog, modelName: String) -> LineChart? {
        let scored = log.validation.filter { $0.bleu != nil }
        guard !scored.isEmpty else { return nil }
        let points = scored.map { Point(x: $0.epoch, y: $0.bleu!) }
        var best = scored[0]
        for point in scored where point.bleu! > best.bleu! { best = point }
        let subtitle = "best validation BLEU \(SVGText.fixed(best.bleu!, decimals: 2)) at epoch \(SVGText.number(best.epoch))"
            + " (step \(best.step))"
        return LineChart(title: modelName + ": validation BLEU (greedy)", subtitle: subtitle, xLabel: "epoch", yLabel: "BLEU",
                         series: [Series(name: "validation BLEU", points: points, color: bleuColor, showsMarkers: true)],
                         height: 360, yAxis: .linearFromZero)
    }

    /// The learning rate of the logged training steps (log axis) against fractional epoch; nil when
    /// the log holds none. The subtitle gives the first and the latest rate.
    public static func learningRate(of log: TrainingLog, modelName: String) -> LineChart? {
        let rated = log.training.filter { $0.learningRate != nil }
        guard let first = rated.first, let last = rated.last else { return nil }
        let points = rated.map { Point(x: $0.epoch, y: $0.learningRate!) }
        let subtitle = "from \(SVGText.number(first.learningRate!, decimals: 9)) to \(SVGText.number(last.learningRate!, decimals: 9)) at epoch \(SVGText.number(last.epoch))"
        return LineChart(title: modelName + ": learning rate", subtitle: subtitle, xLabel: "epoch", yLabel: "learning rate (log scale)",
                         series: [Series(name: "learning rate", points: points, color: learningRateColor)],
                         height: 360)
    }
}
