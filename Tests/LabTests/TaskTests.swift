import Basics
import Kernels
import Testing
@testable import Lab

@Suite("Lab tasks")
struct TaskTests {
    @Test func parityTargetIsPositiveExactlyForAnOddCountOfPlusOnes() {
        // +1 −1 +1 +1: three +1, odd.
        let odd = LabTask.parity([true, false, true, true])
        #expect(odd.inputs == [1, -1, 1, 1])
        #expect(odd.target == [0.8])
        // +1 +1 −1: two, even.
        #expect(LabTask.parity([true, true, false]).target == [-0.8])
        #expect(LabTask.parity([false, false]).target == [-0.8])
    }

    @Test func addingTargetIsHalfPlusAQuarterOfTheMarkedSum() {
        let s = LabTask.adding(values: [0.5, -0.25, 0.75, 1, 0, -1], marked: (0, 2))
        #expect(s.inputs == [0.5, 1, -0.25, 0, 0.75, 1, 1, 0, 0, 0, -1, 0])
        #expect(s.target == [0.5 + (0.5 + 0.75) / 4])
    }

    @Test func temporalOrderClassFollowsTheOrderOfXAndY() {
        // E a Y c X d b B  → Y then X: class YX = 2.
        let s = LabTask.temporalOrder(symbols: [4, 2, 7, 4, 6, 5, 3, 4])
        #expect(s.target == [0, 0, 1, 0])
        #expect(Array(s.inputs[0..<8]) == [1, 0, 0, 0, 0, 0, 0, 0])       // E forced first
        #expect(Array(s.inputs[56..<64]) == [0, 1, 0, 0, 0, 0, 0, 0])     // B forced last
        #expect(Array(s.inputs[16..<24]) == [0, 0, 0, 0, 0, 0, 0, 1])     // Y
        #expect(LabTask.temporalOrder(symbols: [0, 6, 6, 1]).target == [1, 0, 0, 0])
        #expect(LabTask.temporalOrder(symbols: [0, 6, 7, 1]).target == [0, 1, 0, 0])
    }

    @Test(arguments: LabTask.allCases)
    func sameSeedGivesTheSameSequences(task: LabTask) {
        var a = SplitMix64(seed: 7), b = SplitMix64(seed: 7), c = SplitMix64(seed: 8)
        let x = TaskBatch(task: task, length: 20, count: 5, rng: &a), y = TaskBatch(task: task, length: 20, count: 5, rng: &b)
        let z = TaskBatch(task: task, length: 20, count: 5, rng: &c)
        #expect(x.inputs == y.inputs && x.targets == y.targets && x.mask == y.mask)
        #expect(x.inputs != z.inputs)
    }

    @Test func latchCarriesTheClassInTheFirstStepsUnderNoise() {
        var rng = SplitMix64(seed: 1)
        var sums: [Double] = []
        var tailSquares = 0.0, tailCount = 0
        for _ in 0..<400 {
            let s = LabTask.latch.sample(length: 30, rng: &rng)
            let c = s.target[0] / 0.8
            #expect(c == 1 || c == -1)
            sums.append(Double(s.inputs[0..<3].reduce(0, +) * c))
            for v in s.inputs[3...] { tailSquares += Double(v * v); tailCount += 1 }
        }
        // The prefix averages c per step (3 in all); later steps are N(0, 0.2).
        #expect(abs(sums.reduce(0, +) / Double(sums.count) - 3) < 0.1)
        #expect(abs(tailSquares / Double(tailCount) - 0.2) < 0.01)
    }

    @Test func twoSequenceLengthsStayWithinTAndTPlusATenthAndPrefixIsTheClass() {
        var rng = SplitMix64(seed: 3)
        var lengths = Set<Int>()
        for _ in 0..<200 {
            let s = LabTask.twoSequence.sample(length: 50, rng: &rng)
            lengths.insert(s.steps)
            let c: Scalar = s.target[0] == 1 ? 1 : -1
            #expect(s.target[0] == 1 || s.target[0] == 0)
            #expect(Array(s.inputs[0..<3]) == [c, c, c])
        }
        #expect(lengths.min() == 50 && lengths.max() == 55)
    }

    @Test func addingMarksTwoDistinctPositionsInTheFirstHalf() {
        var rng = SplitMix64(seed: 5)
        for _ in 0..<200 {
            let s = LabTask.adding.sample(length: 40, rng: &rng)
            let marked = (0..<40).filter { s.inputs[$0 * 2 + 1] == 1 }
            #expect(marked.count == 2)
            #expect(marked[0] < 19 && marked[1] < 19 && marked.contains { $0 < 10 })
            let expected = 0.5 + (s.inputs[marked[0] * 2] + s.inputs[marked[1] * 2]) / 4
            #expect(abs(s.target[0] - expected) < 1e-6)
        }
    }

    @Test func temporalOrderPlacesTheSymbolsInTheirWindows() {
        var rng = SplitMix64(seed: 9)
        for _ in 0..<200 {
            let s = LabTask.temporalOrder.sample(length: 100, rng: &rng)
            let relevant = (0..<100).filter { s.inputs[$0 * 8 + 6] == 1 || s.inputs[$0 * 8 + 7] == 1 }.map { $0 + 1 }
            #expect(relevant.count == 2)
            #expect((10...20).contains(relevant[0]) && (50...60).contains(relevant[1]))
        }
    }

    @Test func shorterSequencesArePaddedAtTheStartWithMaskedSteps() {
        let a = TaskSequence(inputs: [1, 2, 3], steps: 3, target: [1]), b = TaskSequence(inputs: [7], steps: 1, target: [0])
        let batch = TaskBatch([a, b], inputSize: 1)
        #expect(batch.steps == 3 && batch.batch == 2)
        #expect(batch.inputs == [1, 0, 2, 0, 3, 7])
        #expect(batch.mask == [1, 0, 1, 0, 1, 1])
        #expect(batch.targets == [1, 0])
    }
}
