import Basics
import Foundation
import Kernels
import Model
import Plotting

/// The quantities behind the vanishing-gradient argument (Bengio, Simard & Frasconi 1994; Pascanu,
/// Mikolov & Bengio 2013), measured on the model family's cells.
public enum Diagnostics {
    /// The spectral radius ρ(A) of a square matrix `a` [n, n] (row-major), by Gelfand's formula
    /// ρ = lim ‖A^k‖^{1/k} with k = 2^40 reached by repeated squaring (each power rescaled to unit
    /// Frobenius norm and the scale kept as a logarithm), in Double. Unlike power iteration it
    /// needs no dominant real eigenvalue (a rotation has complex ones). `a.count` must be n².
    public static func spectralRadius(_ a: [Double], n: Int) -> Double {
        precondition(a.count == n * n && n > 0, "spectralRadius: \(a.count) values for n = \(n)")
        func norm(_ m: [Double]) -> Double { m.reduce(0) { $0 + $1 * $1 }.squareRoot() }
        var b = a, logScale = 0.0, k = 1.0
        let first = norm(b)
        if first == 0 { return 0 }
        b = b.map { $0 / first }
        logScale = log(first)
        for _ in 0..<40 {
            var c = [Double](repeating: 0, count: n * n)
            for i in 0..<n { for l in 0..<n where b[i * n + l] != 0 { for j in 0..<n { c[i * n + j] += b[i * n + l] * b[l * n + j] } } }
            let s = norm(c)
            if s == 0 || !s.isFinite { return s == 0 ? 0 : .nan }
            b = c.map { $0 / s }
            logScale = 2 * logScale + log(s)
            k *= 2
        }
        return exp(logScale / k)
    }

    /// The largest singular value ‖J‖₂ of `j` [n, n], by power iteration on JᵀJ (symmetric positive
    /// semi-definite, so it converges), in Double.
    public static func spectralNorm(_ j: [Scalar], n: Int) -> Double {
        var v = [Double](repeating: 1 / Double(n).squareRoot(), count: n)
        var sigma = 0.0
        for _ in 0..<200 {
            var u = [Double](repeating: 0, count: n)          // J v
            for i in 0..<n { for k in 0..<n { u[i] += Double(j[i * n + k]) * v[k] } }
            var w = [Double](repeating: 0, count: n)          // Jᵀ J v
            for k in 0..<n { for i in 0..<n { w[k] += Double(j[i * n + k]) * u[i] } }
            let length = w.reduce(0) { $0 + $1 * $1 }.squareRoot()
            if length == 0 { return 0 }
            sigma = length.squareRoot()
            v = w.map { $0 / length }
        }
        return sigma
    }

    /// ‖∂h_T/∂h_t‖₂ for gaps T − t = 1 … T of each of `sequences` under `network`, averaged in the log
    /// domain (geometric mean over sequences); element g−1 is the gap g. A zero Jacobian gives 0.
    public static func jacobianNorms(_ network: SequenceRegressor, sequences: [TaskSequence]) -> [Double] {
        guard let steps = sequences.first?.steps else { return [] }
        var sums = [Double](repeating: 0, count: steps), zero = [Bool](repeating: false, count: steps)
        for sequence in sequences {
            for t in 0..<steps {
                let j = network.stateJacobian(input: sequence.inputs, steps: steps, from: t)
                let norm = spectralNorm(j, n: network.hidden)
                if norm > 0 { sums[steps - t - 1] += log(norm) } else { zero[steps - t - 1] = true }
            }
        }
        return (0..<steps).map { zero[$0] ? 0 : exp(sums[$0] / Double(sequences.count)) }
    }

    /// One cell's measurements: Jacobian-product norms by gap and the recurrent matrix's spectral
    /// radius, at initialisation and after training.
    public struct CellReport: Codable, Equatable, Sendable {
        public var cell: CellType
        /// The task, T and learner of the training between the two measurements, and its outcome.
        public var task: LabTask
        public var length: Int
        public var learner: LearnerKind
        public var solved: Bool
        public var evaluations: Int
        /// ρ of the recurrent (candidate) matrix, see ``SequenceRegressor/recurrentMatrix``.
        public var spectralRadiusInitial: Double
        public var spectralRadiusTrained: Double
        /// ‖∂h_T/∂h_t‖₂ for gap T − t = 1 … T (index gap − 1).
        public var normsInitial: [Double]
        public var normsTrained: [Double]
    }

    /// Measures every cell of `cells` on `task` at length T: a ``LabProblem`` (H `hidden`) is built
    /// from `seed`, measured, trained by `learner` for `budget` evaluations and measured again; the
    /// Jacobians are taken on 4 test sequences of exactly length T.
    public static func run(cells: [CellType], task: LabTask, length: Int, hidden: Int, learner: LearnerKind,
                           budget: Int, seed: UInt64) -> [CellReport] {
        cells.map { cell in
            let problem = LabProblem(task: task, length: length, cell: cell, hidden: hidden, seed: seed)
            var rng = SplitMix64(seed: SplitMix64.derive(seed, 4))
            let probes = (0..<4).map { _ in
                var s = task.sample(length: length, rng: &rng)
                if s.steps != length { s = TaskSequence(inputs: Array(s.inputs[0..<(length * task.inputSize)]), steps: length, target: s.target) }
                return s
            }
            func radius() -> Double { spectralRadius(problem.network.recurrentMatrix.map(Double.init), n: hidden) }
            let r0 = radius(), n0 = jacobianNorms(problem.network, sequences: probes)
            let outcome = learner.learner.minimize(problem, budget: budget, seed: SplitMix64.derive(seed, 5))
            return CellReport(cell: cell, task: task, length: length, learner: learner, solved: outcome.solved,
                              evaluations: outcome.evaluations, spectralRadiusInitial: r0, spectralRadiusTrained: radius(),
                              normsInitial: n0, normsTrained: jacobianNorms(problem.network, sequences: probes))
        }
    }

    /// Two charts (`jacobian-initial.svg`, `jacobian-trained.svg`): ‖∂h_T/∂h_t‖₂ against the gap
    /// T − t on a log axis, one line per cell, the spectral radius in the legend.
    public static func charts(of reports: [CellReport]) -> [(file: String, svg: String)] {
        guard let first = reports.first else { return [] }
        func chart(trained: Bool) -> String {
            let series = reports.enumerated().map { index, r in
                let norms = trained ? r.normsTrained : r.normsInitial
                let rho = trained ? r.spectralRadiusTrained : r.spectralRadiusInitial
                let state = trained ? (r.solved ? ", solved" : ", not solved") : ""
                return LineChart.Series(name: "\(r.cell.rawValue) (ρ = \(String(format: "%.2f", rho))\(state))",
                                        points: norms.enumerated().map { LineChart.Point(x: Double($0.offset + 1), y: $0.element) },
                                        color: LabPlots.palette[index % LabPlots.palette.count])
            }
            let when = trained ? "after \(first.learner.rawValue) BPTT on \(first.task.rawValue), T = \(first.length)" : "at initialisation"
            return LineChart(title: "‖∂h_T/∂h_t‖₂ against the gap T − t, \(when)",
                             subtitle: "geometric mean over 4 sequences; ρ: spectral radius of the recurrent (candidate) matrix",
                             xLabel: "gap T − t (steps)", yLabel: "spectral norm (log scale)", series: series,
                             width: 720, height: 440).svg()
        }
        return [("jacobian-initial.svg", chart(trained: false)), ("jacobian-trained.svg", chart(trained: true))]
    }
}
