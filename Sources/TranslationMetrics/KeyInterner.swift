/// Maps 64-bit keys to dense ids 0, 1, 2, … in first-seen order (open addressing, linear probing).
///
/// Metrics use it per segment, chained: an n-gram's key is `(id of its (n-1)-gram prefix + 1) << 32 |
/// last element`, so equal n-grams get equal ids without building a String or Array per n-gram.
/// `reset()` clears only the slots in use, so a table sized for the longest segment is reused.
struct KeyInterner {
    private var keys: [UInt64]
    private var ids: [Int32]          // -1 marks an empty slot
    private var usedSlots: [Int] = []
    private var mask: Int
    private(set) var count: Int = 0

    init(capacity: Int = 256) {
        var size = 16
        while size < capacity * 2 { size <<= 1 }
        keys = Array(repeating: 0, count: size)
        ids = Array(repeating: -1, count: size)
        mask = size - 1
    }

    mutating func reset() {
        for slot in usedSlots { ids[slot] = -1 }
        usedSlots.removeAll(keepingCapacity: true)
        count = 0
    }

    /// The id of `key`, assigning the next id when it is new.
    @inline(__always)
    mutating func id(_ key: UInt64) -> Int32 {
        var slot = Int(truncatingIfNeeded: (key &* 0x9E37_79B9_7F4A_7C15) >> 32) & mask
        while true {
            let found = ids[slot]
            if found < 0 { break }
            if keys[slot] == key { return found }
            slot = (slot &+ 1) & mask
        }
        let new = Int32(count)
        keys[slot] = key
        ids[slot] = new
        usedSlots.append(slot)
        count += 1
        if count * 2 > ids.count { grow() }
        return new
    }

    private mutating func grow() {
        let oldKeys = keys, oldIDs = ids, oldUsed = usedSlots
        let size = ids.count * 2
        keys = Array(repeating: 0, count: size)
        ids = Array(repeating: -1, count: size)
        mask = size - 1
        usedSlots.removeAll(keepingCapacity: true)
        for s in oldUsed {
            var slot = Int(truncatingIfNeeded: (oldKeys[s] &* 0x9E37_79B9_7F4A_7C15) >> 32) & mask
            while ids[slot] >= 0 { slot = (slot &+ 1) & mask }
            keys[slot] = oldKeys[s]
            ids[slot] = oldIDs[s]
            usedSlots.append(slot)
        }
    }
}

/// Chained key of an element following the n-gram (or token prefix) with id `prefix` (-1: none).
@inline(__always)
func chainKey(_ prefix: Int32, _ element: UInt32) -> UInt64 {
    (UInt64(UInt32(bitPattern: prefix &+ 1)) << 32) | UInt64(element)
}

/// Per-id counters that grow with the interner and reset only the entries touched.
struct IDCounts {
    var values: [Int32] = []
    var touched: [Int32] = []

    @inline(__always)
    mutating func add(_ id: Int32) {
        let i = Int(id)
        while i >= values.count { values.append(0) }
        if values[i] == 0 { touched.append(id) }
        values[i] &+= 1
    }

    @inline(__always)
    func count(_ id: Int32) -> Int32 { Int(id) < values.count ? values[Int(id)] : 0 }

    mutating func reset() {
        for id in touched { values[Int(id)] = 0 }
        touched.removeAll(keepingCapacity: true)
    }
}

/// Splits `text` on Python whitespace and gives each token an id unique within the segment:
/// a token is interned as the chain of its scalars in `tokens`.
@inline(__always)
func internTokens(_ text: [UInt32], _ tokens: inout KeyInterner, into ids: inout [UInt32]) {
    ids.removeAll(keepingCapacity: true)
    var prefix: Int32 = -1
    for c in text {
        if PythonText.isSpace(c) {
            if prefix >= 0 { ids.append(UInt32(prefix)); prefix = -1 }
        } else {
            prefix = tokens.id(chainKey(prefix, c))
        }
    }
    if prefix >= 0 { ids.append(UInt32(prefix)) }
}
