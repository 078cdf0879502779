import Kernels

/// The decoder's weights repacked for incremental decoding with few rows (a beam or two):
/// per layer a ``PackedLayer`` (for most cells [Wx | Wh] with its bias as one ``PackedWeights``, so a
/// step's gates are one pass, `[x | h]·[Wx | Wh]ᵀ + b`), attention's W_c (and mlp's W_q), and the
/// output layer [V×H] with its bias.
///
/// A snapshot of the model's current weights: build it after loading or training, once, and
/// share it between searches (packing copies all decoder weights). Steps with more rows than
/// ``PackedWeights/maximumRows`` use the model's own weights through BLAS instead.
public final class DecoderWeights {
    /// Per decoder layer: N = G·H, K = In + H (or In and H apart).
    let layers: [PackedLayer]
    /// N = V, K = H.
    let output: PackedWeights
    /// W_c (and W_q) of the attention, if any.
    let attention: PackedAttention?

    public init(model: Seq2SeqModel) {
        let h = model.config.hidden
        layers = model.decoder.forwardLayers.map(PackedLayer.init)
        output = PackedWeights(blocks: [(UnsafePointer(model.output.weight), h)],
                               rows: model.config.targetVocabularySize, bias: model.output.bias)
        attention = model.attention.map(PackedAttention.init)
    }
}
