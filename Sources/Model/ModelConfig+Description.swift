extension CellType {
    /// The cell's name as papers write it: LSTM, GRU, Elman RNN (tanh), IRNN.
    public var displayName: String {
        switch self {
        case .lstm: return "LSTM"
        case .gru: return "GRU"
        case .rnnTanh: return "Elman RNN (tanh)"
        case .irnn: return "IRNN"
        }
    }
}

extension ModelConfig {
    /// One line for logs: "2×512 GRU, bidirectional encoder, residual", layers × H.
    public var architectureDescription: String {
        var parts = ["\(layers)×\(hidden) \(cell.displayName)"]
        if bidirectional { parts.append("bidirectional encoder") }
        if residual { parts.append("residual") }
        if attention != .none { parts.append("\(attention.rawValue) attention" + (inputFeed ? " with input feeding" : "")) }
        return parts.joined(separator: ", ")
    }
}
