import Basics
import Foundation
import Model

/// The safetensors checkpoint format (https://huggingface.co/docs/safetensors): F32 tensors (every
/// checkpoint) and I8 tensors (the int8 copy `seq2seq quantize` writes, read by ``decodeMixed(_:)``).
///
/// Layout, field by field:
/// 1. 8 bytes: N, the header length, unsigned little-endian.
/// 2. N bytes: a UTF-8 JSON object. Each tensor name maps to
///    `{"dtype":"F32","shape":[d0,…],"data_offsets":[begin,end]}` (or `"I8"`; byte offsets into the data
///    section, end exclusive); the optional key `"__metadata__"` maps to a string→string object
///    (our format name and version live there, and ``checksumKey``). Padded with spaces to a
///    multiple of 8 bytes.
/// 3. The data: each tensor's values (floats little-endian, or signed bytes), row-major, one after
///    the other with no gaps and nothing after the last.
///
/// Python's `safetensors.numpy.load_file` reads these files (the checksum is an ordinary metadata
/// string to it).
public enum SafeTensors {
    /// A decoded tensor: name, shape (row-major), values.
    public typealias Tensor = (name: String, shape: [Int], values: [Float])

    /// Metadata key of the data checksum: FNV-1a (64-bit) over the data section read as
    /// little-endian 32-bit words (a last partial word, possible only with I8 tensors, padded with
    /// zero bytes), 16 lowercase hex digits. Any single changed word changes it.
    /// Written by ``encode(_:metadata:)``; verified and removed from the metadata by ``decode(_:)``
    /// when present (files written before it existed carry none and still load).
    public static let checksumKey = "data_fnv1a64"

    /// Serializes tensors (in the given order) and string metadata, adding ``checksumKey``.
    /// Precondition (a programmer error): each shape's product equals its value count.
    public static func encode(_ tensors: [(name: String, shape: [Int], values: UnsafeBufferPointer<Float>)],
                              metadata: [String: String]) -> [UInt8] {
        let header = headerBytes(tensors.map { ($0.name, $0.shape, $0.values.count, .f32) },
                                 metadata: metadata, checksum: checksum(tensors.map { .buffer($0.values) }))
        var out = header
        for tensor in tensors {
            for v in tensor.values {
                var bits = v.bitPattern.littleEndian
                withUnsafeBytes(of: &bits) { out.append(contentsOf: $0) }
            }
        }
        return out
    }

    /// A tensor's values for `write`: floats in a buffer that outlives the call or in an array
    /// (dtype F32), or signed bytes (dtype I8).
    public enum Values {
        case buffer(UnsafeBufferPointer<Float>)
        case array([Float])
        case int8([Int8])

        var count: Int {
            switch self {
            case .buffer(let b): return b.count
            case .array(let a): return a.count
            case .int8(let a): return a.count
            }
        }

        var dtype: DType {
            if case .int8 = self { return .i8 }
            return .f32
        }

        /// The values' little-endian bytes.
        func withBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
            switch self {
            case .buffer(let b): return try body(UnsafeRawBufferPointer(b))
            case .array(let a): return try a.withUnsafeBytes(body)
            case .int8(let a): return try a.withUnsafeBytes(body)
            }
        }
    }

    /// The element types this project reads and writes.
    public enum DType: String, Sendable {
        case f32 = "F32"
        case i8 = "I8"

        /// Bytes per element.
        public var size: Int { self == .f32 ? 4 : 1 }
    }

    /// A decoded tensor of either dtype (``decodeMixed(_:)``).
    public enum Storage: Equatable, Sendable {
        case f32([Float])
        case i8([Int8])
    }

    /// Writes the same file as `encode` straight to `path` through `AtomicFileWriter` (temporary
    /// name, then rename), streaming each tensor's bytes from its own memory: no copy of the
    /// weights is made (a checkpoint of P floats needs no 3P-byte buffer). Throws `FileError`
    /// naming `path`; on error `path` keeps what it held before.
    public static func write(_ tensors: [(name: String, shape: [Int], values: Values)], metadata: [String: String],
                             to path: String, sync: Bool) throws {
        let header = headerBytes(tensors.map { ($0.name, $0.shape, $0.values.count, $0.values.dtype) },
                                 metadata: metadata, checksum: checksum(tensors.map(\.values)))
        let writer = try AtomicFileWriter(path: path, sync: sync)
        try header.withUnsafeBytes { try writer.write($0) }
        // Floats are written as their in-memory bytes: little-endian on every machine we build for.
        for tensor in tensors { try tensor.values.withBytes { try writer.write($0) } }
        try writer.commit()
    }

    /// FNV-1a over the data section these values make, in order (``checksumKey``).
    static func checksum(_ values: [Values]) -> String {
        var checksum = Checksum()
        for tensor in values { tensor.withBytes { checksum.add(bytes: $0) } }
        return checksum.hex
    }

    /// The 8-byte length and the JSON header (padded to 8 bytes) of a file holding these tensors
    /// in this order, with the metadata plus the checksum.
    static func headerBytes(_ tensors: [(name: String, shape: [Int], count: Int, dtype: DType)], metadata: [String: String],
                            checksum: String) -> [UInt8] {
        var metadata = metadata
        metadata[checksumKey] = checksum
        // Foundation's JSON encoder with sorted keys: the same checkpoint always has the same bytes.
        var header: [String: HeaderEntry] = ["__metadata__": .metadata(metadata)]
        var offset = 0
        for tensor in tensors {
            precondition(tensor.shape.reduce(1, *) == tensor.count,
                         "SafeTensors: \(tensor.name) has shape \(tensor.shape) but \(tensor.count) values")
            let bytes = tensor.count * tensor.dtype.size
            header[tensor.name] = .tensor(TensorEntry(dtype: tensor.dtype.rawValue, shape: tensor.shape, data_offsets: [offset, offset + bytes]))
            offset += bytes
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let json: Data
        do {
            json = try encoder.encode(header)
        } catch {
            preconditionFailure("JSONEncoder failed on strings and integers: \(error)")
        }
        var headerBytes = [UInt8](json)
        while headerBytes.count % 8 != 0 { headerBytes.append(0x20) }
        var out = [UInt8]()
        out.reserveCapacity(8 + headerBytes.count)
        var n = UInt64(headerBytes.count).littleEndian
        withUnsafeBytes(of: &n) { out.append(contentsOf: $0) }
        return out + headerBytes
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

    /// Parses a safetensors file held in memory. Tensors come back in data order; the metadata
    /// without ``checksumKey``.
    ///
    /// Everything the header claims is checked against the file before any tensor is allocated,
    /// so the floats allocated never exceed the file's own size: the header length fits the file;
    /// the header is a JSON object of the documented form (Foundation's `JSONDecoder`); every
    /// dtype is F32; every dimension is non-negative and the shape's byte size does not overflow;
    /// offsets lie inside the data and match the shape; the tensors cover the data exactly (no
    /// overlap, no gap, no trailing bytes); the checksum, when present, matches.
    /// Throws `ModelError` with a one-line message naming what is wrong (and the tensor).
    public static func decode(_ bytes: [UInt8]) throws -> (tensors: [Tensor], metadata: [String: String]) {
        let decoded = try decode(bytes, dtypes: [.f32])
        return (decoded.tensors.map { tensor in
            guard case .f32(let values) = tensor.values else { preconditionFailure("decode admitted a non-F32 tensor") }
            return (tensor.name, tensor.shape, values)
        }, decoded.metadata)
    }

    /// ``decode(_:)`` for files that may also hold I8 tensors (the int8 copy of a model), with the
    /// same checks; each tensor's values in its own dtype.
    public static func decodeMixed(_ bytes: [UInt8]) throws
        -> (tensors: [(name: String, shape: [Int], values: Storage)], metadata: [String: String]) {
        try decode(bytes, dtypes: [.f32, .i8])
    }

    private static func decode(_ bytes: [UInt8], dtypes: Set<DType>) throws
        -> (tensors: [(name: String, shape: [Int], values: Storage)], metadata: [String: String]) {
        guard bytes.count >= 8 else { throw ModelError("safetensors: file is \(bytes.count) bytes, shorter than its 8-byte header length") }
        var n: UInt64 = 0
        for i in 0..<8 { n |= UInt64(bytes[i]) << (8 * UInt64(i)) }
        guard n <= UInt64(bytes.count - 8) else {
            throw ModelError("safetensors: header length \(n) exceeds the file (\(bytes.count) bytes); the file is truncated or not safetensors")
        }
        let headerEnd = 8 + Int(n)
        let header: Header
        do {
            header = try JSONDecoder().decode(Header.self, from: Data(bytes[8..<headerEnd]))
        } catch {
            throw ModelError("safetensors: the header is not a JSON object of tensor entries (\(oneLineDescription(of: error)))")
        }
        let dataCount = bytes.count - headerEnd

        var entries: [(name: String, shape: [Int], begin: Int, end: Int, dtype: DType)] = []
        for (name, entry) in header.tensors {
            let label = "safetensors: tensor \(quoted(name))"
            guard let dtype = DType(rawValue: entry.dtype), dtypes.contains(dtype) else {
                let supported = dtypes.map(\.rawValue).sorted().joined(separator: " and ")
                throw ModelError("\(label) has dtype \(quoted(entry.dtype)); only \(supported) \(dtypes.count == 1 ? "is" : "are") supported")
            }
            var count = 1
            for d in entry.shape {
                guard d >= 0 else { throw ModelError("\(label) has a negative dimension in shape \(entry.shape)") }
                let (product, overflow) = count.multipliedReportingOverflow(by: d)
                guard !overflow else { throw ModelError("\(label) has shape \(entry.shape), too large to address") }
                count = product
            }
            let (byteCount, overflow) = count.multipliedReportingOverflow(by: dtype.size)
            guard !overflow else { throw ModelError("\(label) has shape \(entry.shape), too large to address") }
            guard entry.dataOffsets.count == 2 else {
                throw ModelError("\(label) has \(entry.dataOffsets.count) data_offsets, expected [begin, end]")
            }
            let (begin, end) = (entry.dataOffsets[0], entry.dataOffsets[1])
            guard begin >= 0, begin <= end, end <= dataCount else {
                throw ModelError("\(label) has data_offsets [\(begin), \(end)] outside the \(dataCount) data bytes; the file is truncated or corrupt")
            }
            guard end - begin == byteCount else {
                throw ModelError("\(label) has shape \(entry.shape) (\(byteCount) bytes) but data_offsets span \(end - begin) bytes")
            }
            entries.append((name, entry.shape, begin, end, dtype))
        }
        entries.sort { ($0.begin, $0.end, $0.name) < ($1.begin, $1.end, $1.name) }
        var covered = 0
        for entry in entries {
            if entry.begin < covered { throw ModelError("safetensors: tensor \(quoted(entry.name)) overlaps the tensor before it") }
            if entry.begin > covered { throw ModelError("safetensors: \(entry.begin - covered) data bytes before tensor \(quoted(entry.name)) belong to no tensor") }
            covered = entry.end
        }
        guard covered == dataCount else {
            throw ModelError("safetensors: \(dataCount - covered) data bytes after the last tensor belong to no tensor")
        }

        var metadata = header.metadata
        if let recorded = metadata.removeValue(forKey: checksumKey) {
            var checksum = Checksum()
            bytes.withUnsafeBytes { raw in checksum.add(bytes: UnsafeRawBufferPointer(rebasing: raw[headerEnd...])) }
            guard recorded == checksum.hex else {
                throw ModelError("safetensors: tensor data checksum \(checksum.hex) differs from the recorded \(quoted(recorded)); the file is corrupt")
            }
        }

        // Allocation: at most the data section's own size, checked above.
        let tensors = entries.map { entry -> (name: String, shape: [Int], values: Storage) in
            if entry.dtype == .i8 {
                return (entry.name, entry.shape, .i8(bytes[(headerEnd + entry.begin)..<(headerEnd + entry.end)].map { Int8(bitPattern: $0) }))
            }
            var values = [Float](repeating: 0, count: (entry.end - entry.begin) / 4)
            bytes.withUnsafeBytes { raw in
                for i in values.indices {
                    // The file is little-endian; so is every machine we run on, but say so.
                    let bits = raw.loadUnaligned(fromByteOffset: headerEnd + entry.begin + 4 * i, as: UInt32.self)
                    values[i] = Float(bitPattern: UInt32(littleEndian: bits))
                }
            }
            return (entry.name, entry.shape, .f32(values))
        }
        return (tensors, metadata)
    }

    // MARK: Header

    /// The JSON header: tensor entries by name plus the optional string metadata.
    private struct Header: Decodable {
        var metadata: [String: String] = [:]
        var tensors: [(String, Entry)] = []

        struct Entry: Decodable {
            var dtype: String
            var shape: [Int]
            var dataOffsets: [Int]
            enum CodingKeys: String, CodingKey { case dtype, shape, dataOffsets = "data_offsets" }
        }

        struct Key: CodingKey {
            var stringValue: String
            var intValue: Int? { nil }
            init(stringValue: String) { self.stringValue = stringValue }
            init?(intValue: Int) { nil }
        }

        init(from decoder: Decoder) throws {
            let container = try decoder.container(keyedBy: Key.self)
            for key in container.allKeys {
                if key.stringValue == "__metadata__" {
                    metadata = try container.decode([String: String].self, forKey: key)
                } else {
                    tensors.append((key.stringValue, try container.decode(Entry.self, forKey: key)))
                }
            }
        }
    }

    /// FNV-1a over 32-bit words (the same mixing as `ParameterStore.checksum`).
    struct Checksum {
        private(set) var value: UInt64 = 0xCBF2_9CE4_8422_2325
        /// Bytes of a word not yet complete (little-endian order) and how many.
        private var pending: UInt32 = 0, pendingCount = 0
        mutating func add(_ word: UInt32) { value = (value ^ UInt64(word)) &* 0x0000_0100_0000_01B3 }

        /// Adds bytes of the data section in order, as little-endian words (the stream may split
        /// words between calls: an I8 tensor of odd length followed by another tensor).
        mutating func add(bytes: UnsafeRawBufferPointer) {
            var i = 0
            while pendingCount > 0 && i < bytes.count { push(bytes[i]); i += 1 }
            while i + 4 <= bytes.count {
                add(UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: i, as: UInt32.self)))
                i += 4
            }
            while i < bytes.count { push(bytes[i]); i += 1 }
        }

        private mutating func push(_ byte: UInt8) {
            pending |= UInt32(byte) << (8 * UInt32(pendingCount))
            pendingCount += 1
            if pendingCount == 4 { add(pending); pending = 0; pendingCount = 0 }
        }

        /// The checksum, a last partial word padded with zero bytes.
        var hex: String {
            var value = self.value
            if pendingCount > 0 { value = (value ^ UInt64(pending)) &* 0x0000_0100_0000_01B3 }
            let digits = String(value, radix: 16)
            return String(repeating: "0", count: 16 - digits.count) + digits
        }
    }

    /// One value of the header object: the string metadata, or a tensor's entry.
    private enum HeaderEntry: Encodable {
        case metadata([String: String])
        case tensor(TensorEntry)

        func encode(to encoder: Encoder) throws {
            var container = encoder.singleValueContainer()
            switch self {
            case .metadata(let values): try container.encode(values)
            case .tensor(let entry): try container.encode(entry)
            }
        }
    }

    /// A tensor's header entry, with the safetensors format's key names.
    private struct TensorEntry: Encodable {
        let dtype: String
        let shape: [Int]
        let data_offsets: [Int]
    }

    /// A name from the file, quoted and cut short, so a hostile name cannot break the one-line error.
    static func quoted(_ s: String) -> String {
        let cut = s.unicodeScalars.count > 80 ? String(String.UnicodeScalarView(s.unicodeScalars.prefix(80))) + "…" : s
        guard let data = try? JSONEncoder().encode(cut) else { return "\"?\"" }
        return String(decoding: data, as: UTF8.self)
    }
}
