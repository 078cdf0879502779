import Foundation
import Model
import Testing
@testable import Lab

@Suite("Lab sweep")
struct SweepTests {
    static let plan = SweepPlan(tasks: [.latch, .adding], lengths: [6], cells: [.lstm, .rnnTanh],
                                learners: [.adam, .sgdClip, .annealing], derivativeFreeCells: [.rnnTanh], seeds: 2, hidden: 3,
                                trainingCount: 10, testCount: 10, gradientBudget: 40, derivativeFreeBudget: 60, diagnosticLength: 6)

    static func folder() -> String {
        let path = NSTemporaryDirectory() + "lab-sweep-\(UUID().uuidString)"
        return path
    }

    /// The records without the wall time, which is the one field that may differ.
    static func outcomes(_ records: [TrialRecord]) -> [TrialRecord] {
        records.map { var r = $0; r.wallSeconds = 0; return r }
    }

    @Test func planListsEveryTrialOnceWithDerivativeFreeLearnersOnlyOnTheirCells() {
        let keys = Self.plan.trials
        #expect(Set(keys).count == keys.count)
        // 2 tasks × 2 seeds × (lstm: 2 gradient learners + rnn-tanh: 3 learners).
        #expect(keys.count == 2 * 2 * (2 + 3))
        #expect(!keys.contains { $0.learner == .annealing && $0.cell == .lstm })
    }

    @Test func sweepIsDeterministicPerSeedWhateverTheWorkerCount() throws {
        let a = Self.folder(), b = Self.folder()
        defer { try? FileManager.default.removeItem(atPath: a); try? FileManager.default.removeItem(atPath: b) }
        let one = try Sweep(plan: Self.plan, directory: a, workers: 1).run()
        let two = try Sweep(plan: Self.plan, directory: b, workers: 2).run()
        #expect(one.count == Self.plan.trials.count)
        #expect(Self.outcomes(one) == Self.outcomes(two))
        #expect(Self.outcomes(try Sweep.readRecords(a + "/trials.jsonl").sorted { $0.key < $1.key }) == Self.outcomes(one))
    }

    @Test func rerunResumesWithoutRepeatingRecordedTrialsAndDropsATornLastLine() throws {
        let dir = Self.folder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let sweep = Sweep(plan: Self.plan, directory: dir, workers: 2)
        let full = try sweep.run()
        // Keep three whole lines and half of the fourth, as an interrupted run would leave them.
        let text = try String(contentsOfFile: sweep.recordsPath, encoding: .utf8)
        let lines = text.split(separator: "\n")
        let kept = lines[0..<3].joined(separator: "\n") + "\n" + lines[3].prefix(20)
        try kept.write(toFile: sweep.recordsPath, atomically: true, encoding: .utf8)
        var ran: [TrialKey] = []
        let resumed = try sweep.run { record, _, _ in ran.append(record.key) }
        #expect(ran.count == full.count - 3)
        #expect(Self.outcomes(resumed) == Self.outcomes(full))
        let after = try String(contentsOfFile: sweep.recordsPath, encoding: .utf8)
        #expect(after.hasPrefix(lines[0..<3].joined(separator: "\n") + "\n"))
        #expect(after.split(separator: "\n").count == full.count)
        // A third run has nothing left to do.
        var again = 0
        _ = try sweep.run { _, _, _ in again += 1 }
        #expect(again == 0)
    }

    @Test func aRecordLineCopiedTwiceCountsOnce() throws {
        let dir = Self.folder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let sweep = Sweep(plan: Self.plan, directory: dir, workers: 1)
        let full = try sweep.run()
        let text = try String(contentsOfFile: sweep.recordsPath, encoding: .utf8)
        try (text + text.split(separator: "\n")[0] + "\n").write(toFile: sweep.recordsPath, atomically: true, encoding: .utf8)
        #expect(Self.outcomes(try sweep.run()) == Self.outcomes(full))
    }

    @Test func aFolderOfAnotherPlanIsRefused() throws {
        let dir = Self.folder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        _ = try Sweep(plan: Self.plan, directory: dir, workers: 1).run()
        var other = Self.plan
        other.seeds = 3
        #expect(throws: LabError.self) { try Sweep(plan: other, directory: dir, workers: 1).run() }
    }

    @Test func aMalformedRecordLineIsAnErrorNamingFileAndLine() throws {
        let dir = Self.folder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let sweep = Sweep(plan: Self.plan, directory: dir, workers: 1)
        _ = try sweep.run()
        var lines = try String(contentsOfFile: sweep.recordsPath, encoding: .utf8).split(separator: "\n").map(String.init)
        lines[1] = "{\"task\":\"latch\"}"
        try (lines.joined(separator: "\n") + "\n").write(toFile: sweep.recordsPath, atomically: true, encoding: .utf8)
        do {
            _ = try sweep.run()
            Issue.record("expected an error")
        } catch let error as LabError {
            #expect(error.message.hasPrefix(sweep.recordsPath + ":2: not a trial record"))
        }
    }

    @Test func chartsShowOneSuccessRatePerLearnerAndLength() throws {
        let dir = Self.folder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let records = try Sweep(plan: Self.plan, directory: dir, workers: 2).run()
        let charts = LabPlots.charts(of: records, plan: Self.plan)
        #expect(charts.map(\.file).contains("success-latch-rnn-tanh.svg"))
        let tanh = try #require(charts.first { $0.file == "success-latch-rnn-tanh.svg" })
        #expect(tanh.svg.components(separatedBy: "<g class=\"series\"").count - 1 == 3)
        let lstm = try #require(charts.first { $0.file == "success-latch-lstm.svg" })
        #expect(lstm.svg.components(separatedBy: "<g class=\"series\"").count - 1 == 2)
        #expect(LabPlots.charts(of: records.reversed(), plan: Self.plan).map(\.svg) == charts.map(\.svg))
    }

    @Test func summaryCountsSolvedTrialsPerCellLearnerAndLength() {
        func record(_ learner: LearnerKind, _ success: Bool, _ evaluations: Int, seed: Int) -> TrialRecord {
            TrialRecord(task: .latch, length: 6, cell: .rnnTanh, learner: learner, seed: seed, success: success,
                        evaluations: evaluations, finalLoss: 0.1, testAccuracy: 1, wallSeconds: 0, parameters: 10)
        }
        let records = [record(.adam, true, 30, seed: 0), record(.adam, false, 40, seed: 1),
                       record(.annealing, true, 500, seed: 0), record(.annealing, true, 700, seed: 1)]
        let text = LabPlots.summary(of: records, plan: Self.plan)
        #expect(text.contains("| rnn-tanh | adam | 1/2 (30) |"))
        #expect(text.contains("| rnn-tanh | annealing | 2/2 (600) |"))
        #expect(!text.contains("| lstm |"))
    }
}
