import Kernels

extension Seq2SeqModel {
    /// Label smoothing ε in [0, 1) of the training loss (Szegedy et al. 2016; PyTorch's
    /// `CrossEntropyLoss(label_smoothing: ε)`): ``trainStep(_:dropoutSeed:)`` then adds the gradient
    /// of the smoothed loss Σ_r [(1−ε)·NLL_r + ε·mean_j(−log p_rj)] over the V classes, while its
    /// `lossSum` stays the plain NLL. 0 (the default) trains on the NLL, bit for bit as without it.
    public var labelSmoothing: Scalar {
        get { output.labelSmoothing }
        set { output.labelSmoothing = newValue }
    }

    /// The summed smoothed loss in nats of the last forward pass (`trainStep` or `evaluate`):
    /// equal to its `lossSum` when ``labelSmoothing`` is 0.
    public var lastSmoothedLossSum: Double { output.smoothedLoss }
}
