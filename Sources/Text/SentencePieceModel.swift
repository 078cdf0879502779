import CSentencePiece

/// A SentencePiece model (Kudo & Richardson 2018) loaded with the real library (Debian's
/// libsentencepiece, behind the C shim `CSentencePiece`): `.model` files from `spm_train` or
/// shipped with another toolkit's model give the pieces and ids that library gives.
///
/// SentencePiece works on raw text: it normalizes (by the rules stored in the model) and marks word
/// starts with ▁ itself, so a side that uses it bypasses the tokenizer.
public final class SentencePieceModel {
    private let processor: OpaquePointer
    /// The model file's bytes (copied into model folders).
    public let bytes: [UInt8]
    /// FNV-1a (64-bit) of `bytes`, 16 hex digits: what a vocabulary built with the model records.
    public let checksum: String

    /// Loads a `.model` file. Throws `TextError.io` when it cannot be read and
    /// `TextError.malformedSubwords` naming `path` when it is not a SentencePiece model.
    public convenience init(contentsOf path: String) throws {
        try self.init(bytes: FileBytes.read(path), path: path)
    }

    /// Loads model bytes; `path` names the source in errors.
    public init(bytes: [UInt8], path: String) throws {
        guard !bytes.isEmpty else {
            throw TextError.malformedSubwords(file: path, line: 1, hint: "not a SentencePiece model (empty file)")
        }
        var message = [CChar](repeating: 0, count: 512)
        let loaded = bytes.withUnsafeBufferPointer { buffer in
            buffer.withMemoryRebound(to: CChar.self) { cspm_load($0.baseAddress, Int64($0.count), &message, Int32(message.count)) }
        }
        guard let loaded else {
            let reason = String(decoding: message.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            throw TextError.malformedSubwords(file: path, line: 1,
                                              hint: "not a SentencePiece model (\(reason))")
        }
        processor = loaded
        self.bytes = bytes
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in bytes { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01B3 }
        let hex = String(hash, radix: 16)
        checksum = String(repeating: "0", count: 16 - hex.count) + hex
    }

    deinit { cspm_free(processor) }

    /// Pieces in the model.
    public var pieceCount: Int { Int(cspm_piece_count(processor)) }

    /// The model's ids of `text` (one line).
    public func ids(_ text: String) -> [Int32] {
        var text = text
        return text.withUTF8 { utf8 in
            var ids = [Int32](repeating: 0, count: max(16, utf8.count + 2))
            var count = utf8.withMemoryRebound(to: CChar.self) { cspm_encode(processor, $0.baseAddress, Int64($0.count), &ids, Int32(ids.count)) }
            if Int(count) > ids.count {
                ids = [Int32](repeating: 0, count: Int(count))
                count = utf8.withMemoryRebound(to: CChar.self) { cspm_encode(processor, $0.baseAddress, Int64($0.count), &ids, Int32(ids.count)) }
            }
            return Array(ids.prefix(max(Int(count), 0)))
        }
    }

    /// The spelling of piece `id` (0 ..< `pieceCount`).
    public func piece(_ id: Int32) -> String {
        var length: Int32 = 0
        guard let start = cspm_id_to_piece(processor, id, &length) else { return "" }
        return start.withMemoryRebound(to: UInt8.self, capacity: Int(length)) {
            String(decoding: UnsafeBufferPointer(start: $0, count: Int(length)), as: UTF8.self)
        }
    }

    /// The pieces of `text`, as the model's `encode(out_type=str)` gives them.
    public func pieces(_ text: String) -> [String] { ids(text).map(piece) }

    /// Text from pieces (SentencePiece's `decode_pieces`: ▁ becomes a space, the leading one goes).
    public func text(_ pieces: [String]) -> String {
        if pieces.isEmpty { return "" }
        let storage = pieces.map { Array($0.utf8) }
        var lengths = storage.map { Int32($0.count) }
        var capacity = storage.reduce(0) { $0 + $1.count } + 16
        while true {
            var out = [CChar](repeating: 0, count: capacity)
            let needed = withPointers(storage) { pointers in
                cspm_decode_pieces(processor, pointers, &lengths, Int32(storage.count), &out, Int64(capacity))
            }
            if needed < 0 { return "" }
            if Int(needed) <= capacity {
                return String(decoding: out.prefix(Int(needed)).map { UInt8(bitPattern: $0) }, as: UTF8.self)
            }
            capacity = Int(needed)
        }
    }

    private func withPointers<R>(_ storage: [[UInt8]], _ body: ([UnsafePointer<CChar>?]) -> R) -> R {
        var pointers: [UnsafePointer<CChar>?] = []
        var keep: [UnsafeMutablePointer<CChar>] = []
        for piece in storage {
            let p = UnsafeMutablePointer<CChar>.allocate(capacity: max(piece.count, 1))
            piece.withUnsafeBufferPointer { b in b.withMemoryRebound(to: CChar.self) { p.initialize(from: $0.baseAddress!, count: piece.count) } }
            keep.append(p)
            pointers.append(UnsafePointer(p))
        }
        defer { keep.forEach { $0.deallocate() } }
        return body(pointers)
    }
}
