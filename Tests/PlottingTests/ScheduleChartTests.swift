import Foundation
import Testing
@testable import Plotting
import RunLog

/// The validation BLEU and learning-rate charts `seq2seq plot` stacks under the perplexity chart.
@Suite("schedule charts")
struct ScheduleChartTests {
    /// A log as `train --valid-bleu --lr-schedule plateau` writes it: BLEU 0 at first, a cut.
    static let logText = [
        trainLine(100, 0.5, "60"), trainLine(200, 1.0, "30"),
        #"{"epoch":1,"event":"valid","lr":0.002,"seconds":7,"step":200,"valid_bleu":0,"valid_ppl":25}"#,
        #"{"event":"lr_reduced","lr":0.001,"step":200}"#,
        #"{"clipped_fraction":0,"epoch":1.5,"event":"train","grad_norm":1,"loss":2.9,"lr":0.001,"ppl":18,"smoothed_loss":3.4,"step":300,"tokens_per_s":10}"#,
        #"{"clipped_fraction":0,"epoch":2,"event":"train","grad_norm":1,"loss":2.7,"lr":0.001,"ppl":15,"smoothed_loss":3.2,"step":400,"tokens_per_s":10}"#,
        #"{"epoch":2,"event":"valid","lr":0.001,"seconds":14,"step":400,"valid_bleu":12.5,"valid_ppl":16}"#,
        #"{"best_step":400,"event":"early_stop","step":400}"#,
    ].joined(separator: "\n") + "\n"

    @Test func theLogCarriesBLEUAndTheLearningRate() throws {
        let log = try TrainingLog(parsing: Self.logText, file: "log.jsonl")
        #expect(log.validation.map(\.bleu) == [0, 12.5])
        #expect(log.training.map(\.learningRate) == [0.002, 0.002, 0.001, 0.001])
        let line = try JSONDecoder().decode(LogLine.self, from: Data(Self.logText.split(separator: "\n")[4].utf8))
        #expect(line.smoothedLoss == 3.4)
        let stop = try JSONDecoder().decode(LogLine.self, from: Data(Self.logText.split(separator: "\n")[7].utf8))
        #expect(stop.bestStep == 400 && stop.event == "early_stop")
        #expect(String(decoding: stop.jsonLine(), as: UTF8.self) == #"{"best_step":400,"event":"early_stop","step":400}"# + "\n")
    }

    /// BLEU is drawn on a linear axis from 0 (a BLEU of 0 is a point, not a gap), with its best.
    @Test func bleuChartHasALinearAxisFromZeroAndTheBest() throws {
        let log = try TrainingLog(parsing: Self.logText, file: "log.jsonl")
        let chart = try #require(LineChart.validationBLEU(of: log, modelName: "m"))
        #expect(chart.yAxis == .linearFromZero)
        let svg = chart.svg()
        #expect(svg.contains("best validation BLEU 12.50 at epoch 2 (step 400)"))
        #expect(svg.ranges(of: "<polyline").count == 1)
        // Two data markers (0 included) plus the legend's.
        #expect(svg.ranges(of: "<circle").count == 3)
        for label in ["0", "2", "4", "6", "8", "10", "12", "14"] {
            #expect(svg.contains(#"dominant-baseline="middle">\#(label)</text>"#), "\(label)")
        }
        #expect(LineChart.validationBLEU(of: try TrainingLog(parsing: trainLine(1, 0.1, "9"), file: "l"), modelName: "m") == nil)
    }

    @Test func learningRateChartShowsTheCut() throws {
        let log = try TrainingLog(parsing: Self.logText, file: "log.jsonl")
        let chart = try #require(LineChart.learningRate(of: log, modelName: "m"))
        #expect(chart.series[0].points.map(\.y) == [0.002, 0.002, 0.001, 0.001])
        #expect(chart.svg().contains("from 0.002 to 0.001 at epoch 2"))
    }

    /// `plot`'s document: the perplexity chart on top (the same lines as alone), then BLEU, then
    /// the learning rate, each a nested <svg> placed under the previous; a single chart is its
    /// own document unchanged.
    @Test func stackedChartsArePlacedOneUnderAnother() throws {
        let log = try TrainingLog(parsing: Self.logText, file: "log.jsonl")
        let perplexity = LineChart.perplexity(of: log, modelName: "m")
        let charts = [perplexity, try #require(LineChart.validationBLEU(of: log, modelName: "m")),
                      try #require(LineChart.learningRate(of: log, modelName: "m"))]
        let svg = ChartStack(charts: charts).svg()
        #expect(svg.hasPrefix(#"<svg xmlns="http://www.w3.org/2000/svg" width="800" height="1200""#))
        #expect(svg.contains(#"<svg x="0" y="0" width="800" height="480""#))
        #expect(svg.contains(#"<svg x="0" y="480" width="800" height="360""#))
        #expect(svg.contains(#"<svg x="0" y="840" width="800" height="360""#))
        #expect(svg.hasSuffix("</svg>\n") && svg.ranges(of: "</svg>").count == 4)
        #expect(svg.contains(perplexity.svg().split(separator: "\n").dropFirst().joined(separator: "\n")))
        #expect(ChartStack(charts: [perplexity]).svg() == perplexity.svg())
    }
}
