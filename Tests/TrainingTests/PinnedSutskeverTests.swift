import Decoding
import Kernels
import Model
import Testing
import Translation

/// Today's Sutskever model pinned to the bit, so that restructuring the Model module (cells,
/// layers, stacks) can prove it changed no arithmetic: the same GEMM calls in the same order, the
/// same tensor layout, initialisation and dropout draw order give the same bits.
///
/// The record holds, for 80 Adam steps with clipping and dropout on padded batches of a small
/// 2-layer model with a reversed source: steps 0–5 and every 20th step's summed loss (Double bits), gradient norm
/// (Float bits) and an FNV-1a checksum of the scaled gradients; the final weights' checksum; and
/// the 3-best beam-search output (tokens, log-probability and score bits) of the trained model,
/// both through the packed few-row decoder weights (one sentence at a time) and through BLAS
/// (three sentences, nine rows).
///
/// The record is made through the reference GEMM backend (`GemmBackend.reference`: fixed
/// summation order, no FMA), whose bits are the same on every x86-64 CPU, so one record holds on
/// every machine and the test never skips. The rest of the arithmetic (packed few-row products,
/// cell pointwise math, softmax) is our own code, which gives the same bits on every CPU too.
/// Each fast backend (oneDNN, OpenBLAS) is then checked against the reference within stated
/// tolerances: their blocking changes the summation order, so their bits differ by design.
@Suite struct PinnedSutskeverTests {
    /// Recorded through the reference backend; valid on every x86-64 CPU.
    static let referenceRecord = """
        step 0 loss 405565f8b6540000 tokens 23 norm 3e8db7d5 gradients a7ade4ce047524e6
        step 1 loss 406039b221318000 tokens 35 norm 3e5fc02b gradients 89bcf3a66e1c87de
        step 2 loss 40509ce0b8c60000 tokens 18 norm 3eab8abf gradients 9820e83b41e264f2
        step 3 loss 40544c84aeba0000 tokens 23 norm 3ec81e90 gradients e2049625512a14cd
        step 4 loss 405e7b46d13c0000 tokens 35 norm 3eb89991 gradients 41817549b850913e
        step 5 loss 404e077382780000 tokens 18 norm 3f2780c6 gradients 92db363c3c4907dd
        step 19 loss 405a0459d7a20000 tokens 35 norm 3f0fe9de gradients a1bb69e8492f0758
        step 39 loss 404c9bb673780000 tokens 23 norm 3f0486bb gradients 79342613edc5f7d5
        step 59 loss 403f3bc81d000000 tokens 18 norm 3f265b9f gradients f69aa65c326a7439
        step 79 loss 4053ecae26800000 tokens 35 norm 3f24ac76 gradients c0ed5b72d4c631d1
        weights 2419f5099f9e44a1
        packed 0 0 [10, 40, 35, 23] c01ff6cc30000000 c01786b7eaf73fae
        packed 0 1 [10, 40, 35] c01ed629f0000000 c0182d70b83ffa06
        packed 0 2 [10, 40, 35, 9] c02071a708000000 c01834cb02590ea3
        packed 1 0 [37, 34, 22] c015376140000000 c010a27ceb19e504
        packed 1 1 [37, 34] c0141f4e30000000 c010eea67492374a
        packed 1 2 [37, 34, 34] c01642eec8000000 c011744374893112
        packed 2 0 [10, 40, 35, 23] c01f541450000000 c0170ef447d6c817
        packed 2 1 [10, 40, 35] c01dcb4e10000000 c0175c357987f751
        packed 2 2 [10, 40, 35, 8] c01fcbb040000000 c01766fd39d4582e
        blas 0 0 [10, 40, 35, 23] c01ff6cc30000000 c01786b7eaf73fae
        blas 0 1 [10, 40, 35] c01ed629e0000000 c0182d70abb47f33
        blas 0 2 [10, 40, 35, 9] c02071a710000000 c01834cb0e1fcd90
        blas 1 0 [37, 34, 22] c015376100000000 c010a27cb8ebf9b8
        blas 1 1 [37, 34] c0141f4e00000000 c010eea64c2e4701
        blas 1 2 [37, 34, 34] c01642ee70000000 c01174432f8a0d89
        blas 2 0 [10, 40, 35, 23] c01f541430000000 c0170ef430494a3e
        blas 2 1 [10, 40, 35] c01dcb4e10000000 c0175c357987f751
        blas 2 2 [10, 40, 35, 8] c01fcbb020000000 c01766fd2246da55
        """

    /// On every vector path of the reference GEMM this CPU has (an AVX2-only CPU runs the avx2
    /// path, an older one the scalar path): the same record.
    @Test func trainingAndBeamSearchKeepTheirBits() {
        let before = ReferenceGemm.path
        defer { ReferenceGemm.path = before }
        for path in VectorPath.allCases where path.isAvailable {
            ReferenceGemm.path = path
            let record = GemmBackend.withBackend(.reference) { Self.record() }
            #expect(record.text == Self.referenceRecord, "record through the reference backend (\(path) path):\n\(record.text)")
        }
    }

    /// The reference backend's bits do not depend on the thread count (threads split columns,
    /// never a sum).
    @Test func referenceBitsDoNotDependOnThreads() {
        let before = Parallel.threads
        defer { Parallel.threads = before }
        Parallel.threads = 1
        let one = GemmBackend.withBackend(.reference) { Self.record() }
        Parallel.threads = 2
        let two = GemmBackend.withBackend(.reference) { Self.record() }
        #expect(one.text == two.text)
    }

    /// oneDNN and OpenBLAS against the reference: every recorded loss within 1e-4 relative, every
    /// gradient norm within 1e-3 relative (80 Adam steps let last-bit differences grow), and the
    /// same n-best token sequences with log-probabilities within 1e-3.
    @Test(arguments: [GemmBackend.onednn, .openblas])
    func fastBackendsStayCloseToTheReference(_ backend: GemmBackend) {
        let reference = GemmBackend.withBackend(.reference) { Self.record() }
        let fast = GemmBackend.withBackend(backend) { Self.record() }
        #expect(fast.losses.count == reference.losses.count)
        for (step, (a, b)) in zip(fast.losses, reference.losses).enumerated() {
            #expect(abs(a - b) <= 1e-4 * abs(b), "\(backend) loss at record line \(step): \(a) vs \(b)")
        }
        for (a, b) in zip(fast.norms, reference.norms) {
            #expect(abs(a - b) <= 1e-3 * abs(b), "\(backend) gradient norm \(a) vs \(b)")
        }
        #expect(fast.hypotheses.map(\.tokens) == reference.hypotheses.map(\.tokens), "\(backend) n-best tokens")
        for (a, b) in zip(fast.hypotheses, reference.hypotheses) {
            #expect(abs(a.logProb - b.logProb) <= 1e-3 * abs(b.logProb), "\(backend) log-probability \(a.logProb) vs \(b.logProb)")
        }
    }

    /// The same record twice in one process, on every backend.
    @Test(arguments: GemmBackend.allCases)
    func recordIsReproducible(_ backend: GemmBackend) {
        let first = GemmBackend.withBackend(backend) { Self.record() }
        #expect(first.text == GemmBackend.withBackend(backend) { Self.record() }.text)
    }

    static func fnv(_ values: UnsafeMutableBufferPointer<Float>) -> UInt64 {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        for v in values { hash = (hash ^ UInt64(v.bitPattern)) &* 0x0000_0100_0000_01B3 }
        return hash
    }

    static func hex<T: BinaryInteger>(_ x: T) -> String { String(x, radix: 16) }

    /// The record's text and the values the tolerance checks read.
    struct Record {
        var text = ""
        var losses: [Double] = []
        var norms: [Float] = []
        var hypotheses: [Hypothesis] = []
    }

    static func record() -> Record {
        var result = Record()
        let config = ModelConfig(sourceVocabularySize: 37, targetVocabularySize: 41, embedding: 12, hidden: 20,
                                 layers: 2, dropout: 0.25, reverseSource: true)
        let model = Seq2SeqModel(config: config, seed: 11)
        var rng = SeededGenerator(seed: 99)
        func sentence(_ maxLength: Int, _ v: Int) -> [Int32] {
            let length = 1 + Int(rng.next() % UInt64(maxLength))
            return (0..<length).map { _ in Int32(4 + Int(rng.next() % UInt64(v - 4))) }
        }
        let batches = (0..<3).map { _ in
            Batch(sources: (0..<5).map { _ in sentence(9, 37) }, targets: (0..<5).map { _ in sentence(8, 41) })
        }
        var lines: [String] = []
        let adam = Adam()
        for step in 0..<80 {
            let r = model.trainStep(batches[step % 3], dropoutSeed: UInt64(step))
            let norm = scaleGradients(model.parameters, by: 1 / Float(r.tokens))
            if step < 6 || step % 20 == 19 {
                result.losses.append(r.lossSum)
                result.norms.append(norm)
                lines.append("step \(step) loss \(hex(r.lossSum.bitPattern)) tokens \(r.tokens) norm \(hex(norm.bitPattern)) gradients \(hex(fnv(model.parameters.gradients)))")
            }
            adam.step(model.parameters, learningRate: 0.03, gradientScale: clipFactor(norm: norm, maxNorm: 1))
        }
        lines.append("weights \(hex(model.parameters.checksum()))")

        let sources = (0..<3).map { _ in sentence(7, 37) }
        let options = SearchOptions(beamSize: 3, nBest: 3)
        let packed = DecoderWeights(model: model)
        func describe(_ path: String, _ index: Int, _ hypotheses: [Hypothesis]) {
            result.hypotheses += hypotheses
            for (rank, h) in hypotheses.enumerated() {
                lines.append("\(path) \(index) \(rank) \(h.tokens) \(hex(h.logProb.bitPattern)) \(hex(h.score.bitPattern))")
            }
        }
        for (i, source) in sources.enumerated() {
            let scorer = ModelScorer(model: model, packed: packed, sources: [source])
            describe("packed", i, BeamSearch.search(scorer, sourceLengths: [source.count], options: options)[0])
        }
        let scorer = ModelScorer(model: model, packed: nil, sources: sources)
        for (i, hypotheses) in BeamSearch.search(scorer, sourceLengths: sources.map(\.count), options: options).enumerated() {
            describe("blas", i, hypotheses)
        }
        result.text = lines.joined(separator: "\n")
        return result
    }
}
