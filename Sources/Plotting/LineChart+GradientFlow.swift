/// The chart of `train --log-gradient-flow`: the encoder's mean ‖∂L/∂h_t‖ against the source
/// position the state had just read, at up to four moments of training (the first and last
/// `gradient_flow` lines and two evenly between), on a log axis. With a reversed source (Sutskever
/// et al. 2014) the first words are read last, next to the decoder, and their gradient is large.
extension LineChart {
    static let flowColors = ["#9ecae1", "#4292c6", "#2171b5", "#08306b"]

    /// nil when the log holds no `gradient_flow` line.
    public static func gradientFlow(of log: TrainingLog, modelName: String, reversedSource: Bool?) -> LineChart? {
        let flow = log.gradientFlow
        guard !flow.isEmpty else { return nil }
        let picks = flow.count <= 4 ? Array(flow.indices)
            : [0, (flow.count - 1) / 3, 2 * (flow.count - 1) / 3, flow.count - 1]
        let series = picks.enumerated().map { k, index in
            let line = flow[index]
            return Series(name: "step \(line.step) (epoch \(SVGText.number(line.epoch)))",
                          points: line.norms.enumerated().map { Point(x: Double($0.offset + 1), y: $0.element ?? .nan) },
                          color: flowColors[(k + 4 - picks.count) % flowColors.count])
        }
        let reading = reversedSource.map { $0 ? "source read reversed" : "source read in order" } ?? "gradient by source position"
        return LineChart(title: "\(modelName): encoder gradient by source position",
                         subtitle: "mean ‖∂L/∂h_t‖ of the first encoder layer after reading word t · \(reading)",
                         xLabel: "source position (1 = first word)", yLabel: "‖∂L/∂h_t‖ (log scale)", series: series)
    }
}
