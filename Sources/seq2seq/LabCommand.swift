import ArgumentParser
import Basics
import Foundation
import Kernels
import Lab

/// `seq2seq lab [--quick] --output DIR`: the long-term-dependency sweep (tasks × T × cells ×
/// learners × seeds) on the model family's cells, resumable, with its SVG charts.
struct LabCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lab",
        abstract: "Run the long-term-dependency lab: classic tasks × length × cell × learner, with charts.",
        discussion: """
            Trains one-layer networks of the model's own cells (lstm, gru, rnn-tanh, irnn) on latch, \
            two-sequence, parity, adding and temporal order at growing lengths T, by BPTT (SGD, Adam, \
            with and without clipping), pseudo-Newton, simulated annealing and random search, and a \
            network of sign units (cell "sign") by discrete error propagation on latch and parity. Writes \
            DIR/plan.json, DIR/trials.jsonl (one JSON line per trial; a rerun resumes), SVG charts of \
            success rate against T and of evaluations to success, DIR/summary.md (the same as tables), \
            and the Jacobian diagnostics (DIR/diagnostics.json, DIR/jacobian-*.svg). docs/guides/lab.md describes \
            the tasks, learners and budgets.
            """)

    @Flag(help: "A smoke run of every task, cell and learner (under a minute).")
    var quick = false

    @Option(help: ArgumentHelp("Folder for plan.json, trials.jsonl and the charts.", valueName: "dir"))
    var output: String

    @Option(help: "Trials run at once, one thread each.")
    var workers: Int = 2

    func run() throws {
        guard (1...64).contains(workers) else { throw LabFailure(message: "--workers must be in 1...64, got \(workers)") }
        BLAS.setThreads(1)
        let plan = quick ? SweepPlan.quick : SweepPlan.standard
        let sweep = Sweep(plan: plan, directory: output, workers: workers)
        let clock = ContinuousClock(), start = clock.now
        let records: [TrialRecord]
        do {
            records = try sweep.run { record, done, total in
                let status = record.success ? "solved after \(record.evaluations)" : "failed (\(record.evaluations))"
                let line = "[\(done)/\(total)] \(record.task.rawValue) T=\(record.length) \(record.cell.rawValue) \(record.learner.rawValue) seed \(record.seed): \(status)\n"
                FileHandle.standardError.write(Data(line.utf8))
            }
        } catch let error as LabError {
            throw LabFailure(message: error.message)
        }
        for chart in LabPlots.charts(of: records, plan: plan) + [("summary.md", LabPlots.summary(of: records, plan: plan))] {
            let path = sweep.directory + "/" + chart.file
            do {
                let writer = try AtomicFileWriter(path: path)
                try writer.write(chart.svg)
                try writer.commit()
            } catch { throw LabFailure(message: "\(path): cannot write: \(error)") }
        }
        // Diagnostics: Jacobian-product norms and spectral radii per cell, before and after Adam BPTT
        // on two-sequence at the plan's diagnostic length.
        let reports = Diagnostics.run(cells: plan.cells, task: .twoSequence, length: plan.diagnosticLength, hidden: plan.hidden,
                                      learner: .adam, budget: plan.gradientBudget, seed: 0xD1A6)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
        let report = String(decoding: try encoder.encode(reports), as: UTF8.self) + "\n"
        for (file, text) in [("diagnostics.json", report)] + Diagnostics.charts(of: reports) {
            let path = sweep.directory + "/" + file
            do {
                let writer = try AtomicFileWriter(path: path)
                try writer.write(text)
                try writer.commit()
            } catch { throw LabFailure(message: "\(path): cannot write: \(error)") }
        }
        for r in reports {
            func g(_ v: Double) -> String { String(format: "%.3g", v) }
            try StandardOutput.shared.writeLine("\(r.cell.rawValue): spectral radius \(g(r.spectralRadiusInitial)) -> \(g(r.spectralRadiusTrained)); "
                + "‖∂h_T/∂h_t‖ at gap \(r.length): \(g(r.normsInitial.last ?? 0)) -> \(g(r.normsTrained.last ?? 0)) (\(r.solved ? "solved" : "not solved"))")
        }
        let seconds = Double((clock.now - start).components.seconds)
        try StandardOutput.shared.writeLine("lab: \(records.count) trials (\(records.filter(\.success).count) solved) in \(sweep.recordsPath), charts in \(sweep.directory); \(Int(seconds)) s")
    }
}

/// A one-line failure of `seq2seq lab` naming the file concerned.
private struct LabFailure: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}
