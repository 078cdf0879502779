import Basics
import Kernels
import Model
import Testing
@testable import Lab

/// f(θ) = Σ_i a_i·(θ_i − c_i)², minimum 0 at c; solved when f < `tolerance`.
final class Quadratic: LabObjective {
    let parameters: ParameterStore
    let curvature: [Double], centre: [Double], tolerance: Double
    private(set) var evaluations = 0
    private var last = Double.infinity

    init(curvature: [Double], centre: [Double], start: [Scalar], tolerance: Double = 1e-4) {
        parameters = ParameterStore(layout: [("x", [centre.count])])
        for (i, v) in start.enumerated() { parameters.values[i] = v }
        self.curvature = curvature
        self.centre = centre
        self.tolerance = tolerance
    }

    func evaluate() -> Double {
        evaluations += 1
        last = zip(parameters.values.indices, curvature).reduce(0) { sum, item in
            let d = Double(parameters.values[item.0]) - centre[item.0]
            return sum + item.1 * d * d
        }
        return last
    }

    func evaluateWithGradient() -> Double {
        let f = evaluate()
        for i in parameters.values.indices {
            parameters.gradients[i] += Scalar(2 * curvature[i] * (Double(parameters.values[i]) - centre[i]))
        }
        return f
    }

    func isSolved() -> Bool { evaluate() < tolerance }

    var distance: Double {
        parameters.values.indices.map { abs(Double(parameters.values[$0]) - centre[$0]) }.max()!
    }
}

@Suite("Lab learners")
struct LearnerTests {
    static func quadratic() -> Quadratic {
        Quadratic(curvature: [1, 4, 0.5, 2, 10], centre: [0.3, -0.7, 1.2, 0.05, -0.4], start: [0, 0, 0, 0, 0])
    }

    @Test func simulatedAnnealingReachesTheQuadraticMinimum() {
        let q = Self.quadratic()
        let outcome = SimulatedAnnealing().minimize(q, budget: 200_000, seed: 1)
        #expect(outcome.solved)
        #expect(q.distance < 0.02)
    }

    @Test func multigridRandomSearchReachesTheQuadraticMinimum() {
        let q = Self.quadratic()
        let outcome = MultigridRandomSearch().minimize(q, budget: 200_000, seed: 1)
        #expect(outcome.solved)
        #expect(q.distance < 0.02)
    }

    @Test func pseudoNewtonReachesTheQuadraticMinimumInFewSteps() {
        // Curvatures 0.5 … 10: plain gradient descent needs a step below 0.1 and hundreds of steps.
        let q = Self.quadratic()
        let outcome = PseudoNewton(learningRate: 1, damping: 1e-3).minimize(q, budget: 60, seed: 1)
        #expect(outcome.solved)
        #expect(q.distance < 0.02)
    }

    @Test(arguments: [GradientLearner(method: .sgd, learningRate: 0.05), GradientLearner(method: .adam, learningRate: 0.05),
                      GradientLearner(method: .sgd, learningRate: 0.05, maxNorm: 1)])
    func gradientLearnersReachTheQuadraticMinimum(learner: GradientLearner) {
        let q = Self.quadratic()
        let outcome = learner.minimize(q, budget: 5000, seed: 1)
        #expect(outcome.solved)
        #expect(q.distance < 0.02)
    }

    @Test func clippingBoundsEveryStepByTheThreshold() {
        // From far away the gradient norm is ~2000; with τ = 0.5 and lr 1 one step moves θ by 0.5.
        let q = Quadratic(curvature: [10, 10], centre: [100, 0], start: [0, 0])
        _ = GradientLearner(method: .sgd, learningRate: 1, maxNorm: 0.5).minimize(q, budget: 1, seed: 1)
        #expect(abs(Double(q.parameters.values[0]) - 0.5) < 1e-5)
    }

    @Test func derivativeFreeLearnersAreDeterministicPerSeed() {
        for learner in [SimulatedAnnealing() as LabLearner, MultigridRandomSearch()] {
            let a = Self.quadratic(), b = Self.quadratic(), c = Self.quadratic()
            let x = learner.minimize(a, budget: 300, seed: 4), y = learner.minimize(b, budget: 300, seed: 4)
            _ = learner.minimize(c, budget: 300, seed: 5)
            #expect(x == y && Array(a.parameters.values) == Array(b.parameters.values))
            #expect(Array(a.parameters.values) != Array(c.parameters.values))
        }
    }

    @Test func adamBPTTSolvesTheShortLatchWithAnLSTM() {
        let problem = LabProblem(task: .latch, length: 5, cell: .lstm, hidden: 4, seed: 1)
        let outcome = GradientLearner(method: .adam, learningRate: 0.05).minimize(problem, budget: 500, seed: 1)
        #expect(outcome.solved)
        #expect(problem.accuracy(on: problem.test) == 1)
    }

    @Test func annealingLowersTheLossOfAnElmanNetworkOnTheLatch() {
        let problem = LabProblem(task: .latch, length: 5, cell: .rnnTanh, hidden: 3, seed: 2)
        let initial = problem.evaluate()
        let outcome = SimulatedAnnealing().minimize(problem, budget: 1000, seed: 2)
        #expect(outcome.finalLoss < initial * 0.5)
    }
}
