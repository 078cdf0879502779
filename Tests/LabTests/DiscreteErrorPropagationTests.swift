import Basics
import Foundation
import Kernels
import Testing
@testable import Lab

@Suite("Discrete error propagation")
struct DiscreteErrorPropagationTests {
    @Test(arguments: 0..<4)
    func solvesTwoBitParityWithFourSignUnits(seed: Int) {
        let problem = SignNetworkProblem(task: .parity, length: 2, hidden: 4, seed: UInt64(seed))
        let outcome = DiscreteErrorPropagation().minimize(problem, budget: 1000, seed: 1)
        #expect(outcome.solved)
        #expect(problem.accuracy(on: problem.test) == 1)
    }

    @Test(arguments: 0..<4)
    func solvesTheLatchAtLengthFive(seed: Int) {
        let problem = SignNetworkProblem(task: .latch, length: 5, hidden: 4, seed: UInt64(seed))
        let outcome = DiscreteErrorPropagation().minimize(problem, budget: 1000, seed: 1)
        #expect(outcome.solved)
        #expect(problem.accuracy(on: problem.test) == 1)
    }

    @Test func isDeterministicPerSeed() {
        func run(_ seed: UInt64) -> (LearnerOutcome, [Scalar]) {
            let problem = SignNetworkProblem(task: .parity, length: 3, hidden: 4, seed: 7, trainingCount: 20, testCount: 20)
            let outcome = DiscreteErrorPropagation().minimize(problem, budget: 50, seed: seed)
            return (outcome, Array(problem.parameters.values))
        }
        let a = run(3), b = run(3), c = run(4)
        #expect(a.0 == b.0 && a.1 == b.1)
        #expect(a.1 != c.1)
    }

    @Test func meanDiscreteErrorIsTheErrorSignalOfATanhUnitInTheSameState() {
        // One step, one sequence: E[δ_i] = h_i·p_i when g_i·h_i > 0, so the mean W_x update over many
        // draws is g_i·(1 − tanh²(a_i/w))·x (p_i < 1 here), and 0 for units that should not flip.
        let net = SignRecurrentNetwork(inputSize: 1, hidden: 6, outputs: 1, seed: 9, scale: 1)
        let x: [Scalar] = [0.7], e: [Scalar] = [0.4], width: Scalar = 2
        _ = net.forward(input: x, mask: nil, steps: 1, batch: 1)
        let wo = net.offset("wo"), wx = net.offset("wx")
        var expected = [Double](repeating: 0, count: 6)
        for i in 0..<6 {
            let g = e[0] * net.parameters.values[wo + i], h = net.states[6 + i], a = net.preactivations[i]
            if g * h > 0 { expected[i] = Double(g * (1 - tanh(a / width) * tanh(a / width)) * x[0]) }
        }
        #expect(expected.contains { $0 != 0 } && expected.contains { $0 == 0 })
        var rng = SplitMix64(seed: 1)
        let draws = 20_000
        for _ in 0..<draws { net.discreteErrors(outputError: e, width: width, rng: &rng) }
        for i in 0..<6 {
            let mean = Double(net.parameters.gradients[wx + i]) / Double(draws)
            #expect(abs(mean - expected[i]) < 0.01, "unit \(i): \(mean) vs \(expected[i])")
        }
    }

    @Test func trueGradientIsExactForTheReadOutAndZeroBeforeTheSignUnits() {
        let problem = SignNetworkProblem(task: .latch, length: 6, hidden: 3, seed: 2, trainingCount: 8, testCount: 4)
        let store = problem.parameters
        store.zeroGradients()
        let f = problem.evaluateWithGradient()
        let wo = problem.network.offset("wo")
        for i in 0..<store.count {
            let analytic = Double(store.gradients[i])
            if i < wo { #expect(analytic == 0); continue }
            let old = store.values[i]
            store.values[i] = old + 1e-2
            let up = problem.evaluate()
            store.values[i] = old
            #expect(abs((up - f) / 1e-2 - analytic) < 0.02, "θ[\(i)]")
        }
    }

    @Test func sweepRunsItOnlyOnTheSignNetworkAndOnlyOnSignTasks() throws {
        let plan = SweepPlan(tasks: [.latch, .adding], lengths: [6], cells: [.rnnTanh], learners: [.adam, .discreteErrorPropagation],
                             derivativeFreeCells: [.rnnTanh], seeds: 2, hidden: 3, trainingCount: 10, testCount: 10,
                             gradientBudget: 30, derivativeFreeBudget: 30, diagnosticLength: 6)
        let sign = plan.trials.filter { $0.learner == .discreteErrorPropagation }
        #expect(sign.count == 2)
        #expect(sign.allSatisfy { $0.cell == .sign && $0.task == .latch })
        #expect(!plan.trials.contains { $0.cell == .sign && $0.learner != .discreteErrorPropagation })
        let dir = NSTemporaryDirectory() + "lab-sign-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let records = try Sweep(plan: plan, directory: dir, workers: 2).run()
        let record = try #require(records.first { $0.cell == .sign })
        #expect(record.evaluations <= 30 && record.parameters == 3 * 1 + 9 + 3 + 3 + 1)
        #expect(try String(contentsOfFile: dir + "/trials.jsonl", encoding: .utf8).contains("\"cell\":\"sign\""))
        #expect(LabPlots.charts(of: records, plan: plan).contains { $0.file == "success-latch-sign.svg" })
        #expect(LabPlots.summary(of: records, plan: plan).contains("| sign | discrete-error |"))
    }
}
