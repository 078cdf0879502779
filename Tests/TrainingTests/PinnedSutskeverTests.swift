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
        step 0 loss 405565f8b7540000 tokens 23 norm 3e8db7d5 gradients aa2717e146eb464b
        step 1 loss 406039b220394000 tokens 35 norm 3e5fc02b gradients 5f3417b3dd3a605f
        step 2 loss 40509ce0b8ae0000 tokens 18 norm 3eab8abf gradients d35df424f5f7fb71
        step 3 loss 40544c84b0300000 tokens 23 norm 3ec81e91 gradients 2deb39742b8330d7
        step 4 loss 405e7b46c5a00000 tokens 35 norm 3eb89992 gradients 114b469a0326918c
        step 5 loss 404e077386480000 tokens 18 norm 3f2780c8 gradients a81638ca0a9dae38
        step 19 loss 405a0459db7a0000 tokens 35 norm 3f0fe9d9 gradients c464ac2cfc8c4ae
        step 39 loss 404c9bb73d180000 tokens 23 norm 3f0486c0 gradients 521ce2200081122b
        step 59 loss 403f3bc551000000 tokens 18 norm 3f265b9d gradients 624b8f5e2bc66be1
        step 79 loss 4053ecd67f000000 tokens 35 norm 3f24b71d gradients 9fe994513aad4532
        weights 464e80488e3c517f
        packed 0 0 [10, 40, 35, 23] c01ff6f6c0000000 c01786d73ea922bf
        packed 0 1 [10, 40, 35] c01ed5e740000000 c0182d3c6ee70c04
        packed 0 2 [10, 40, 35, 9] c020719550000000 c01834b0ed2830e1
        packed 1 0 [37, 34, 22] c01536a980000000 c010a1ecd9435441
        packed 1 1 [37, 34] c0141e6a10000000 c010ede67eef8fa5
        packed 1 2 [37, 34, 34] c016432a20000000 c0117471fbdd3f2b
        packed 2 0 [10, 40, 35, 23] c01f5426c0000000 c0170f01d9dcca98
        packed 2 1 [10, 40, 35] c01dcaf9d0000000 c0175bf36b15378e
        packed 2 2 [10, 40, 35, 8] c01fcc07a0000000 c017673d892af791
        blas 0 0 [10, 40, 35, 23] c01ff6f6d0000000 c01786d74a6fe1ac
        blas 0 1 [10, 40, 35] c01ed5e760000000 c0182d3c87fe01aa
        blas 0 2 [10, 40, 35, 9] c020719568000000 c01834b1107c6da6
        blas 1 0 [37, 34, 22] c01536a980000000 c010a1ecd9435441
        blas 1 1 [37, 34] c0141e6a20000000 c010ede68c663513
        blas 1 2 [37, 34, 34] c016432a28000000 c01174720222fc95
        blas 2 0 [10, 40, 35, 23] c01f5426d0000000 c0170f01e5a38985
        blas 2 1 [10, 40, 35] c01dcaf9c0000000 c0175bf35e89bcbb
        blas 2 2 [10, 40, 35, 8] c01fcc07a0000000 c017673d892af791
        """

    /// On every instruction-set path this CPU has, for all of our kernels at once (the reference
    /// GEMM, the packed product, tanh/sigmoid/softmax; an AVX2-only CPU runs the avx2 paths, an
    /// older one the scalar paths): the same record.
    @Test func trainingAndBeamSearchKeepTheirBits() {
        let before = (ReferenceGemm.path, PackedWeights.path, VectorKernels.path)
        defer { (ReferenceGemm.path, PackedWeights.path, VectorKernels.path) = before }
        for path in VectorPath.allCases where path.isAvailable {
            (ReferenceGemm.path, PackedWeights.path, VectorKernels.path) = (path, path, path)
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
