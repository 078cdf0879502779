import Glibc

/// Byte strings → dense indices in first-seen order, looked up without allocating (one arena,
/// open addressing): the word counter of `BPELearner`.
struct ByteInterner {
    private var slots: [Int32] = Array(repeating: -1, count: 1 << 12)
    private var hashes: [UInt64] = []
    private var starts: [Int] = [0]
    private var arena: [UInt8] = []

    /// Distinct strings so far.
    var count: Int { hashes.count }

    /// A multiply-mix hash over 8-byte words (the tail zero-padded), the length mixed in.
    @inline(__always) static func hash(_ bytes: UnsafeBufferPointer<UInt8>) -> UInt64 {
        var h: UInt64 = 0x9E37_79B9_7F4A_7C15 ^ UInt64(bytes.count)
        guard let base = bytes.baseAddress else { return h }
        let raw = UnsafeRawPointer(base)
        var i = 0
        while i + 8 <= bytes.count {
            h = (h ^ raw.loadUnaligned(fromByteOffset: i, as: UInt64.self)) &* 0xBF58_476D_1CE4_E5B9
            h ^= h >> 31
            i += 8
        }
        if i < bytes.count {
            var tail: UInt64 = 0
            var shift: UInt64 = 0
            while i < bytes.count { tail |= UInt64(base[i]) << shift; shift += 8; i += 1 }
            h = (h ^ tail) &* 0x94D0_49BB_1331_11EB
            h ^= h >> 29
        }
        return h
    }

    /// The index of `bytes`, adding it when new.
    mutating func index(of bytes: UnsafeBufferPointer<UInt8>) -> Int {
        let h = ByteInterner.hash(bytes)
        let mask = slots.count - 1
        var i = Int(truncatingIfNeeded: h) & mask
        let found: Int? = slots.withUnsafeBufferPointer { slots in
            hashes.withUnsafeBufferPointer { hashes in
                starts.withUnsafeBufferPointer { starts in
                    arena.withUnsafeBufferPointer { arena in
                        while true {
                            let k = Int(slots[i])
                            if k < 0 { return nil }
                            if hashes[k] == h && starts[k + 1] - starts[k] == bytes.count
                                && (bytes.count == 0 || memcmp(arena.baseAddress! + starts[k], bytes.baseAddress!, bytes.count) == 0) {
                                return k
                            }
                            i = (i + 1) & mask
                        }
                    }
                }
            }
        }
        if let found { return found }
        let k = hashes.count
        hashes.append(h)
        arena.append(contentsOf: bytes)
        starts.append(arena.count)
        slots[i] = Int32(k)
        if hashes.count * 2 > slots.count { grow() }
        return k
    }

    /// The string at `index`.
    func string(_ index: Int) -> String {
        arena.withUnsafeBufferPointer { String(decoding: UnsafeBufferPointer(rebasing: $0[starts[index]..<starts[index + 1]]), as: UTF8.self) }
    }

    private mutating func grow() {
        slots = Array(repeating: -1, count: slots.count * 2)
        let mask = slots.count - 1
        for (k, h) in hashes.enumerated() {
            var i = Int(truncatingIfNeeded: h) & mask
            while slots[i] >= 0 { i = (i + 1) & mask }
            slots[i] = Int32(k)
        }
    }
}
