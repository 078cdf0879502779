/// The safetensors checkpoint format (https://huggingface.co/docs/safetensors), F32 only.
///
/// Layout, field by field:
/// 1. 8 bytes: N, the header length, unsigned little-endian.
/// 2. N bytes: a UTF-8 JSON object. Each tensor name maps to
///    `{"dtype":"F32","shape":[d0,…],"data_offsets":[begin,end]}` (byte offsets into the data
///    section, end exclusive); the optional key `"__metadata__"` maps to a string→string object
///    (our format name and version live there). Padded with spaces to a multiple of 8 bytes.
/// 3. The data: each tensor's floats, little-endian, row-major, one after the other with no gaps.
/// Python's `safetensors.numpy.load_file` reads these files.
public enum SafeTensors {
    public static func encode(_ tensors: [(name: String, shape: [Int], values: UnsafeBufferPointer<Float>)],
                              metadata: [String: String]) -> [UInt8] {
        var header = "{"
        var offset = 0
        var first = true
        if !metadata.isEmpty {
            // Sorted keys: the same checkpoint always has the same bytes.
            let entries = metadata.keys.sorted().map { "\(jsonString($0)):\(jsonString(metadata[$0]!))" }
            header += "\"__metadata__\":{\(entries.joined(separator: ","))}"
            first = false
        }
        for tensor in tensors {
            precondition(tensor.shape.reduce(1, *) == tensor.values.count,
                         "SafeTensors.encode: \(tensor.name) has shape \(tensor.shape) but \(tensor.values.count) values")
            let bytes = tensor.values.count * 4
            if !first { header += "," }
            first = false
            header += "\(jsonString(tensor.name)):{\"dtype\":\"F32\",\"shape\":[\(tensor.shape.map(String.init).joined(separator: ","))],"
                + "\"data_offsets\":[\(offset),\(offset + bytes)]}"
            offset += bytes
        }
        header += "}"
        var headerBytes = Array(header.utf8)
        while headerBytes.count % 8 != 0 { headerBytes.append(0x20) }
        var out = [UInt8]()
        out.reserveCapacity(8 + headerBytes.count + offset)
        var n = UInt64(headerBytes.count).littleEndian
        withUnsafeBytes(of: &n) { out.append(contentsOf: $0) }
        out += headerBytes
        for tensor in tensors {
            for v in tensor.values {
                var bits = v.bitPattern.littleEndian
                withUnsafeBytes(of: &bits) { out.append(contentsOf: $0) }
            }
        }
        return out
    }

    /// The same for tensors held in arrays (e.g. optimizer state, or model values plus state in
    /// one file).
    public static func encode(arrays: [(name: String, shape: [Int], values: [Float])], metadata: [String: String]) -> [UInt8] {
        let all = arrays.flatMap(\.values)
        return all.withUnsafeBufferPointer { base in
            var offset = 0
            let views = arrays.map { tensor -> (name: String, shape: [Int], values: UnsafeBufferPointer<Float>) in
                defer { offset += tensor.values.count }
                return (tensor.name, tensor.shape, UnsafeBufferPointer(rebasing: base[offset..<(offset + tensor.values.count)]))
            }
            return encode(views, metadata: metadata)
        }
    }

    /// Parses a safetensors file. Tensors come back in data order. Throws `ModelError` naming what
    /// is wrong (truncation, bad JSON, a dtype other than F32, offsets outside the data).
    public static func decode(_ bytes: [UInt8]) throws -> (tensors: [(name: String, shape: [Int], values: [Float])], metadata: [String: String]) {
        guard bytes.count >= 8 else { throw ModelError("safetensors: file is \(bytes.count) bytes, shorter than its 8-byte header length") }
        var n: UInt64 = 0
        for i in 0..<8 { n |= UInt64(bytes[i]) << (8 * UInt64(i)) }
        guard n <= UInt64(bytes.count - 8) else {
            throw ModelError("safetensors: header length \(n) exceeds the file (\(bytes.count) bytes); the file is truncated or not safetensors")
        }
        let headerEnd = 8 + Int(n)
        var parser = JSONParser(bytes: bytes[8..<headerEnd])
        guard case .object(let entries) = try parser.parseDocument() else {
            throw ModelError("safetensors: the header is not a JSON object")
        }
        let dataCount = bytes.count - headerEnd
        var metadata: [String: String] = [:]
        var tensors: [(begin: Int, name: String, shape: [Int], values: [Float])] = []
        for (name, value) in entries {
            if name == "__metadata__" {
                guard case .object(let pairs) = value else { throw ModelError("safetensors: __metadata__ is not an object") }
                for (k, v) in pairs {
                    guard case .string(let s) = v else { throw ModelError("safetensors: metadata value of \(k) is not a string") }
                    metadata[k] = s
                }
                continue
            }
            guard case .object(let fields) = value,
                  case .string(let dtype)? = fields.first(where: { $0.0 == "dtype" })?.1,
                  case .array(let shapeValues)? = fields.first(where: { $0.0 == "shape" })?.1,
                  case .array(let offsetValues)? = fields.first(where: { $0.0 == "data_offsets" })?.1 else {
                throw ModelError("safetensors: tensor \(name) lacks dtype, shape or data_offsets")
            }
            guard dtype == "F32" else { throw ModelError("safetensors: tensor \(name) has dtype \(dtype); only F32 is supported") }
            let shape = try shapeValues.map { v -> Int in
                guard case .integer(let d) = v, d >= 0 else { throw ModelError("safetensors: tensor \(name) has a bad shape") }
                return d
            }
            guard offsetValues.count == 2, case .integer(let begin) = offsetValues[0], case .integer(let end) = offsetValues[1],
                  begin >= 0, begin <= end, end <= dataCount else {
                throw ModelError("safetensors: tensor \(name) has data_offsets outside the \(dataCount) data bytes")
            }
            let count = shape.reduce(1, *)
            guard end - begin == count * 4 else {
                throw ModelError("safetensors: tensor \(name) has shape \(shape) but \(end - begin) bytes")
            }
            var values = [Float](repeating: 0, count: count)
            values.withUnsafeMutableBytes { dst in
                bytes.withUnsafeBytes { src in
                    dst.copyMemory(from: UnsafeRawBufferPointer(rebasing: src[(headerEnd + begin)..<(headerEnd + end)]))
                }
            }
            // The file is little-endian; so is every machine we run on, but say so.
            for i in 0..<count { values[i] = Float(bitPattern: UInt32(littleEndian: values[i].bitPattern)) }
            tensors.append((begin, name, shape, values))
        }
        tensors.sort { ($0.begin, $0.name) < ($1.begin, $1.name) }
        return (tensors.map { ($0.name, $0.shape, $0.values) }, metadata)
    }

    /// A JSON string literal with the escapes JSON requires (also used for training logs).
    public static func jsonString(_ s: String) -> String {
        var out = "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}

extension ParameterStore {
    /// Copies tensors into the store. Every tensor of the store must be given exactly once with its
    /// shape; otherwise a `ModelError` names the first difference and nothing is changed.
    public func load(_ tensors: [(name: String, shape: [Int], values: [Float])]) throws {
        var byName: [String: (shape: [Int], values: [Float])] = [:]
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

    /// The values as (name, shape, buffer) triples for `SafeTensors.encode`.
    public var valueTensors: [(name: String, shape: [Int], values: UnsafeBufferPointer<Float>)] {
        tensors.map { ($0.name, $0.shape, UnsafeBufferPointer(start: values.baseAddress! + $0.offset, count: $0.shape.reduce(1, *))) }
    }
}
