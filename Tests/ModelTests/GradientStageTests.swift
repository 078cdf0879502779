import Kernels
@testable import Model
import Testing

/// The backward pass announces its gradient stages (what the overlapped MPI exchange starts from):
/// every float in exactly one stage, and each stage's gradients final when it is announced.
@Suite struct GradientStageTests {
    /// Each named config, plus tied embeddings (decoder and all) with attention: the stages cover
    /// every parameter float once.
    static let configs = namedConfigs + [
        ("tied decoder, general attention", tinyConfig(attention: .general, tie: .decoder)),
        ("tied all, dot attention", ModelConfig(sourceVocabularySize: 9, targetVocabularySize: 9, embedding: 3, hidden: 4,
                                                attention: .dot, tieEmbeddings: .all)),
    ]

    @Test(arguments: configs.map(\.name))
    func theStagesCoverEveryParameterOnce(name: String) {
        let config = Self.configs.first { $0.name == name }!.config
        let model = Seq2SeqModel(config: config, seed: 1)
        var seen = [Int](repeating: 0, count: model.parameters.count)
        for ranges in model.gradientStages { for range in ranges { for i in range { seen[i] += 1 } } }
        #expect(seen.allSatisfy { $0 == 1 })
    }

    /// At each announcement the stage's gradients already hold their final bits (a snapshot then
    /// equals the gradient after the backward pass), and the stages come 0, 1, … in order, once each.
    @Test(arguments: configs.map(\.name))
    func eachStageIsFinalWhenAnnounced(name: String) {
        let config = Self.configs.first { $0.name == name }!.config
        let model = Seq2SeqModel(config: config, seed: 2)
        model.parameters.zeroGradients()
        var announced: [Int] = []
        var snapshots: [[Scalar]] = []
        model.gradientStageReady = { stage in
            announced.append(stage)
            snapshots.append(model.gradientStages[stage].flatMap { Array(model.parameters.gradients[$0]) })
        }
        _ = model.trainStep(Batch(sources: tinySources, targets: tinyTargets), dropoutSeed: 5)
        #expect(announced == Array(model.gradientStages.indices))
        for (stage, snapshot) in zip(announced, snapshots) {
            let final = model.gradientStages[stage].flatMap { Array(model.parameters.gradients[$0]) }
            #expect(snapshot.map(\.bitPattern) == final.map(\.bitPattern), "stage \(stage) changed after it was announced")
            if stage == 0 || stage == 1 { #expect(final.contains { $0 != 0 }, "stage \(stage) has no gradient at all") }
        }
    }
}
