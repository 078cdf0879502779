import Model
import Plotting

/// The sweep's charts, drawn by the Plotting module from the records alone (so a resumed or
/// re-plotted sweep gives the same bytes):
///
/// - `success-TASK-CELL.svg`: success rate (fraction of seeds) against T, one line per learner;
/// - `evaluations-TASK.svg`: the median number of evaluations of the successful trials against T
///   (log scale), one line per learner on each derivative-free cell and on the sign network (the
///   comparison of Bengio et al. 1994), points left out where no trial succeeded.
public enum LabPlots {
    static let palette = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"]

    /// File name and SVG text of every chart of `records` under `plan`, in a fixed order.
    public static func charts(of records: [TrialRecord], plan: SweepPlan) -> [(file: String, svg: String)] {
        var charts: [(String, String)] = []
        for task in plan.tasks {
            for cell in plan.recordCells {
                let series = plan.learners.enumerated().compactMap { index, learner -> LineChart.Series? in
                    let points = plan.lengths.compactMap { length -> LineChart.Point? in
                        let trials = records.filter { $0.task == task && $0.cell == cell && $0.learner == learner && $0.length == length }
                        guard !trials.isEmpty else { return nil }
                        return LineChart.Point(x: Double(length), y: Double(trials.filter(\.success).count) / Double(trials.count))
                    }
                    return points.isEmpty ? nil : LineChart.Series(name: learner.rawValue, points: points,
                                                                   color: palette[index % palette.count], showsMarkers: true)
                }
                guard !series.isEmpty else { continue }
                let chart = LineChart(title: "\(task.rawValue), \(cell.rawValue): success rate",
                                      subtitle: "\(plan.seeds) seeds per point, H = \(plan.hidden)",
                                      xLabel: "sequence length T", yLabel: "fraction of trials solved", series: series,
                                      width: 640, height: 400, yAxis: .linearFromZero)
                charts.append(("success-\(task.rawValue)-\(cell.rawValue).svg", chart.svg()))
            }
            var series: [LineChart.Series] = []
            for cell in plan.evaluationCells {
                for (index, learner) in plan.learners.enumerated() {
                    let points = plan.lengths.map { length -> LineChart.Point in
                        let used = records.filter { $0.task == task && $0.cell == cell && $0.learner == learner && $0.length == length && $0.success }
                            .map { Double($0.evaluations) }.sorted()
                        return LineChart.Point(x: Double(length), y: used.isEmpty ? .nan : median(used))
                    }
                    if points.contains(where: { $0.y.isFinite }) {
                        series.append(LineChart.Series(name: "\(learner.rawValue) (\(cell.rawValue))", points: points,
                                                       color: palette[index % palette.count], showsMarkers: true))
                    }
                }
            }
            if !series.isEmpty {
                let chart = LineChart(title: "\(task.rawValue): evaluations to success",
                                      subtitle: "median over solved trials; gradient learners: forward+backward passes",
                                      xLabel: "sequence length T", yLabel: "passes over the training set (log scale)",
                                      series: series, width: 640, height: 400)
                charts.append(("evaluations-\(task.rawValue).svg", chart.svg()))
            }
        }
        return charts
    }

    static func median(_ sorted: [Double]) -> Double {
        let n = sorted.count
        return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2
    }
}

extension LabPlots {
    /// `summary.md`: per task a Markdown table, one row per (cell, learner) of the plan, one column
    /// per T, each cell "solved/trials" and, when any trial was solved, the median evaluations of
    /// the solved ones in brackets. Sorted like the plan, so the same records give the same text.
    public static func summary(of records: [TrialRecord], plan: SweepPlan) -> String {
        var out = "# Lab sweep: trials solved (median evaluations to success)\n\n"
        out += "H = \(plan.hidden), \(plan.seeds) seeds, \(plan.trainingCount) training and \(plan.testCount) test sequences, "
        out += "budgets \(plan.gradientBudget) (gradient) and \(plan.derivativeFreeBudget) (derivative-free) evaluations.\n"
        for task in plan.tasks {
            out += "\n## \(task.rawValue)\n\n| cell | learner | " + plan.lengths.map { "T = \($0)" }.joined(separator: " | ") + " |\n"
            out += "|---|---|" + String(repeating: "---|", count: plan.lengths.count) + "\n"
            for cell in plan.recordCells {
                for learner in plan.learners {
                    let mine = records.filter { $0.task == task && $0.cell == cell && $0.learner == learner }
                    guard !mine.isEmpty else { continue }
                    let columns = plan.lengths.map { length -> String in
                        let trials = mine.filter { $0.length == length }
                        guard !trials.isEmpty else { return "–" }
                        let solved = trials.filter(\.success).map { Double($0.evaluations) }.sorted()
                        let text = "\(solved.count)/\(trials.count)"
                        return solved.isEmpty ? text : text + " (\(Int(median(solved).rounded())))"
                    }
                    out += "| \(cell.rawValue) | \(learner.rawValue) | " + columns.joined(separator: " | ") + " |\n"
                }
            }
        }
        return out
    }
}
