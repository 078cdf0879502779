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
/// The sizes are below OpenBLAS's threading threshold, so every GEMM runs on one thread whatever
/// the thread count. Bits depend on the OpenBLAS kernel family, so the record is kept per
/// `BLAS.coreName`; on a core without a record the test does not run (add one by running with
/// `OPENBLAS_CORETYPE=NAME` on a machine that has the instructions and copying the printed record).
@Suite struct PinnedSutskeverTests {
    /// Recorded on 2026-12-02 with OpenBLAS 0.3.21 (Debian 12) before the Model restructuring;
    /// Haswell and Zen share their kernels, as do SkylakeX and Cooperlake.
    static let haswellRecord = """
        step 0 loss 405565f8b6618000 tokens 23 norm 3e8db7d5 gradients 449b5f9aa971779
        step 1 loss 406039b22124e000 tokens 35 norm 3e5fc02a gradients a387fd3d5d440958
        step 2 loss 40509ce0b8ac0000 tokens 18 norm 3eab8abf gradients 73b6c1f4764d0e9a
        step 3 loss 40544c84b0860000 tokens 23 norm 3ec81e90 gradients fe64db1d8de2e6b6
        step 4 loss 405e7b46cde80000 tokens 35 norm 3eb89990 gradients 35bc4bb3fc5a5ffa
        step 5 loss 404e07738a780000 tokens 18 norm 3f2780c6 gradients 30027daa66c75213
        step 19 loss 405a0459d2560000 tokens 35 norm 3f0fe9db gradients 4db7ac3809b3342
        step 39 loss 404c9bb697200000 tokens 23 norm 3f0486bd gradients b6676739df1807ed
        step 59 loss 403f3bc7dd000000 tokens 18 norm 3f265b9d gradients aae51cd2c3b9b719
        step 79 loss 4053ecb7caa00000 tokens 35 norm 3f24aeff gradients fac0ddce2b15d8b5
        weights e7461d6042bd15c2
        packed 0 0 [10, 40, 35, 23] c01ff6d880000000 c01786c0fae82ba8
        packed 0 1 [10, 40, 35] c01ed61b70000000 c0182d6559d8aaae
        packed 0 2 [10, 40, 35, 9] c02071a178000000 c01834c2d2284e36
        packed 1 0 [37, 34, 22] c0153736f0000000 c010a25bbe3e14a9
        packed 1 1 [37, 34] c0141f1ac0000000 c010ee7b2c246345
        packed 1 2 [37, 34, 34] c01642fa30000000 c011744c65f84096
        packed 2 0 [10, 40, 35, 23] c01f541b30000000 c0170ef9573cd1b4
        packed 2 1 [10, 40, 35] c01dcb3ce0000000 c0175c27ffb30682
        packed 2 2 [10, 40, 35, 8] c01fcbc4e0000000 c017670c68067503
        blas 0 0 [10, 40, 35, 23] c01ff6d880000000 c01786c0fae82ba8
        blas 0 1 [10, 40, 35] c01ed61b70000000 c0182d6559d8aaae
        blas 0 2 [10, 40, 35, 9] c02071a190000000 c01834c2f57c8afc
        blas 1 0 [37, 34, 22] c015373720000000 c010a25be3e08523
        blas 1 1 [37, 34] c0141f1af0000000 c010ee7b5488538e
        blas 1 2 [37, 34, 34] c01642fa50000000 c011744c7f0f363d
        blas 2 0 [10, 40, 35, 23] c01f541b40000000 c0170ef9630390a0
        blas 2 1 [10, 40, 35] c01dcb3cf0000000 c0175c280c3e8156
        blas 2 2 [10, 40, 35, 8] c01fcbc4d0000000 c017670c5c3fb617
        """
    static let skylakeXRecord = """
        step 0 loss 405565f8b65a8000 tokens 23 norm 3e8db7d5 gradients 93192aa004466153
        step 1 loss 406039b221262000 tokens 35 norm 3e5fc02b gradients 3097f7bfe294bfb
        step 2 loss 40509ce0b8d80000 tokens 18 norm 3eab8abf gradients 309dc822f469a44e
        step 3 loss 40544c84ae4a0000 tokens 23 norm 3ec81e90 gradients 145906a236b6fb92
        step 4 loss 405e7b46d6e00000 tokens 35 norm 3eb89991 gradients 7db9211409fd593e
        step 5 loss 404e07738bc80000 tokens 18 norm 3f2780c8 gradients b31c1f18a3808001
        step 19 loss 405a0459d87c0000 tokens 35 norm 3f0fe9dd gradients 906eef56d273c9a2
        step 39 loss 404c9bb648100000 tokens 23 norm 3f0486b9 gradients da5c5a954adee0f5
        step 59 loss 403f3bc93b000000 tokens 18 norm 3f265bac gradients 5b1bbaec15c61a9f
        step 79 loss 4053ec9fbac00000 tokens 35 norm 3f24a8c9 gradients 75519d7c19639127
        weights f50c6ff8849291e9
        packed 0 0 [10, 40, 35, 23] c01ff6c0c0000000 c01786af7fe4c4a3
        packed 0 1 [10, 40, 35] c01ed63a20000000 c0182d7d695d3da2
        packed 0 2 [10, 40, 35, 9] c02071ab28000000 c01834d114d38092
        packed 1 0 [37, 34, 22] c01537a190000000 c010a2af57be97af
        packed 1 1 [37, 34] c0141fa100000000 c010eeec23a870a4
        packed 1 2 [37, 34, 34] c01642d248000000 c011742d1c1668fc
        packed 2 0 [10, 40, 35, 23] c01f540df0000000 c0170eef96a6b5df
        packed 2 1 [10, 40, 35] c01dcb6450000000 c0175c46eb7ec4ed
        packed 2 2 [10, 40, 35, 8] c01fcb9ae0000000 c01766ed7e514842
        blas 0 0 [10, 40, 35, 23] c01ff6c0e0000000 c01786af9772427c
        blas 0 1 [10, 40, 35] c01ed63a20000000 c0182d7d695d3da2
        blas 0 2 [10, 40, 35, 9] c02071ab18000000 c01834d0fd4602b9
        blas 1 0 [37, 34, 22] c01537a190000000 c010a2af57be97af
        blas 1 1 [37, 34] c0141fa110000000 c010eeec311f1612
        blas 1 2 [37, 34, 34] c01642d1f0000000 c011742cd7174573
        blas 2 0 [10, 40, 35, 23] c01f540dc0000000 c0170eef73527919
        blas 2 1 [10, 40, 35] c01dcb6440000000 c0175c46def34a1a
        blas 2 2 [10, 40, 35, 8] c01fcb9a90000000 c01766ed436f8da4
        """
    static let pinned: [String: String] = [
        "Haswell": haswellRecord, "Zen": haswellRecord, "SkylakeX": skylakeXRecord, "Cooperlake": skylakeXRecord,
    ]

    @Test(.enabled(if: pinned[BLAS.coreName] != nil, "no pinned record for this OpenBLAS core"))
    func trainingAndBeamSearchKeepTheirBits() {
        let record = Self.record()
        #expect(record == Self.pinned[BLAS.coreName], "core \(BLAS.coreName), record:\n\(record)")
    }

    /// Prints the record when no pin exists for this core, so it can be added.
    @Test func recordIsReproducible() {
        let first = Self.record()
        #expect(first == Self.record())
        if Self.pinned[BLAS.coreName] == nil { print("pinned record for core \(BLAS.coreName):\n\(first)") }
    }

    static func fnv(_ values: UnsafeMutableBufferPointer<Float>) -> UInt64 {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        for v in values { hash = (hash ^ UInt64(v.bitPattern)) &* 0x0000_0100_0000_01B3 }
        return hash
    }

    static func hex<T: BinaryInteger>(_ x: T) -> String { String(x, radix: 16) }

    static func record() -> String {
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
                lines.append("step \(step) loss \(hex(r.lossSum.bitPattern)) tokens \(r.tokens) norm \(hex(norm.bitPattern)) gradients \(hex(fnv(model.parameters.gradients)))")
            }
            adam.step(model.parameters, learningRate: 0.03, gradientScale: clipFactor(norm: norm, maxNorm: 1))
        }
        lines.append("weights \(hex(model.parameters.checksum()))")

        let sources = (0..<3).map { _ in sentence(7, 37) }
        let options = SearchOptions(beamSize: 3, nBest: 3)
        let packed = DecoderWeights(model: model)
        func describe(_ path: String, _ index: Int, _ hypotheses: [Hypothesis]) {
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
        return lines.joined(separator: "\n")
    }
}
