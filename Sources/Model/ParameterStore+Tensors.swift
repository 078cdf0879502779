import Kernels
/// Named tensors in and out of the parameter store: what checkpoint files are made of (their
/// on-disk format lives in the ModelFolder module; Model knows nothing of files).
extension ParameterStore {
    /// Copies tensors into the store. Every tensor of the store must be given exactly once with its
    /// shape; otherwise a `ModelError` names the first difference and nothing is changed.
    public func load(_ tensors: [(name: String, shape: [Int], values: [Scalar])]) throws {
        var byName: [String: (shape: [Int], values: [Scalar])] = [:]
        for t in tensors {
            if byName[t.name] != nil { throw ModelError("checkpoint holds tensor \(t.name) twice") }
            byName[t.name] = (t.shape, t.values)
        }
        for mine in self.tensors {
            guard let given = byName[mine.name] else {
                throw ModelError("checkpoint lacks tensor \(mine.name) \(mine.shape); was it written for another model configuration?")
            }
            guard given.shape == mine.shape, given.values.count == mine.shape.reduce(1, *) else {
                throw ModelError("checkpoint tensor \(mine.name) has shape \(given.shape), the model expects \(mine.shape)")
            }
        }
        if tensors.count != self.tensors.count {
            let extra = tensors.map(\.name).filter { name in !self.tensors.contains { $0.name == name } }
            throw ModelError("checkpoint holds tensors this model does not have: \(extra.sorted().joined(separator: ", "))")
        }
        for mine in self.tensors {
            let given = byName[mine.name]!.values
            given.withUnsafeBufferPointer { (values.baseAddress! + mine.offset).update(from: $0.baseAddress!, count: $0.count) }
        }
    }

    /// The values as (name, shape, buffer) triples, in store order (what a checkpoint writes).
    public var valueTensors: [(name: String, shape: [Int], values: UnsafeBufferPointer<Scalar>)] {
        tensors.map { ($0.name, $0.shape, UnsafeBufferPointer(start: values.baseAddress! + $0.offset, count: $0.shape.reduce(1, *))) }
    }
}
