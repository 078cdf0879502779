/// A byte-string → byte-string map for BPE's per-word cache, looked up without allocating: keys
/// and values live in one byte arena, slots are open-addressed by an FNV-1a hash. One entry per
/// distinct word, like subword-nmt's cache, but bounded: once the arena passes `maximumArenaBytes`
/// the cache starts empty again (a cache changes no output), so memory stays bounded on input
/// with millions of distinct "words" (a 10 MB line of random tokens, say).
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

    /// Bytes of keys and values above which the cache is emptied (32 MiB: about a million words).
    var maximumArenaBytes = 32 << 20
    /// Bytes of keys and values held now.
    var arenaBytes: Int { arena.count }

    /// Caches `value` for `key` (which must not be cached yet).
    mutating func insert(key: UnsafeBufferPointer<UInt8>, value: [UInt8]) {
        if arena.count + key.count + value.count > maximumArenaBytes {
            slots = Array(repeating: -1, count: 1 << 12)
            entries = []
            arena = []
        }
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
