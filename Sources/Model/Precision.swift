/// The arithmetic of the matrix products at translation time (``DecoderWeights``).
public enum Precision: String, CaseIterable, Sendable, Codable {
    /// Float32 weights and products (the packed weights for few rows, BLAS for many).
    case float32
    /// Int8 weights with one scale per output row (symmetric, 127/max|w|), activations quantized
    /// per row at run time, int32 accumulation, dequantized to float32 for the nonlinearities,
    /// softmax and search (as CTranslate2, Marian and PyTorch's `quantize_dynamic` do), on every
    /// step whatever its row count, the encoder's recurrent layers included. The embeddings stay
    /// float32.
    case int8
}
