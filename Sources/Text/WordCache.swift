import Glibc

/// A byte-string → byte-string map for BPE's per-word cache, looked up without allocating: keys
/// and values live in one byte arena, slots are open-addressed by an FNV-1a hash. Grows without
/// bound, like subword-nmt's cache (one entry per distinct word).
struct WordCache {
    private struct Entry {
        var hash: UInt64
        var keyStart: Int
        var keyCount: Int
        var valueStart: Int
        var valueCount: Int
    }

    private var slots: [Int32] = Array(repeating: -1, count: 1 << 12)
    private var entries: [Entry] = []
    private var arena: [UInt8] = []

    @inline(__always) private static func hash(_ bytes: UnsafeBufferPointer<UInt8>) -> UInt64 {
        var h: UInt64 = 0xCBF2_9CE4_8422_2325
        for b in bytes { h = (h ^ UInt64(b)) &* 0x0000_0100_0000_01B3 }
        return h ^ (h >> 29)
    }

    /// Appends the value cached for `key` to `output`; false when `key` is not cached.
    @inline(__always) func appendValue(for key: UnsafeBufferPointer<UInt8>, to output: inout [UInt8]) -> Bool {
        let h = WordCache.hash(key)
        let mask = slots.count - 1
        var i = Int(truncatingIfNeeded: h) & mask
        while true {
            let k = Int(slots[i])
            if k < 0 { return false }
            let e = entries[k]
            if e.hash == h && e.keyCount == key.count && arena.withUnsafeBufferPointer({ a in
                var same = true
                for j in 0..<key.count where a[e.keyStart + j] != key[j] { same = false; break }
                return same
            }) {
                arena.withUnsafeBufferPointer { a in
                    output.append(contentsOf: UnsafeBufferPointer(rebasing: a[e.valueStart..<(e.valueStart + e.valueCount)]))
                }
                return true
            }
            i = (i + 1) & mask
        }
    }

    /// Caches `value` for `key` (which must not be cached yet).
    mutating func insert(key: UnsafeBufferPointer<UInt8>, value: [UInt8]) {
        if (entries.count + 1) * 2 > slots.count { grow() }
        let h = WordCache.hash(key)
        let entry = Entry(hash: h, keyStart: arena.count, keyCount: key.count,
                          valueStart: arena.count + key.count, valueCount: value.count)
        arena.append(contentsOf: key)
        arena.append(contentsOf: value)
        place(Int32(entries.count), hash: h)
        entries.append(entry)
    }

    private mutating func place(_ index: Int32, hash: UInt64) {
        let mask = slots.count - 1
        var i = Int(truncatingIfNeeded: hash) & mask
        while slots[i] >= 0 { i = (i + 1) & mask }
        slots[i] = index
    }

    private mutating func grow() {
        slots = Array(repeating: -1, count: slots.count * 2)
        for (k, e) in entries.enumerated() { place(Int32(k), hash: e.hash) }
    }
}

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
