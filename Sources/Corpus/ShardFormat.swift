/// The on-disk shard format, version 1.
///
/// A corpus is a folder holding `manifest.json` and shards named `shard-00000.zst`,
/// `shard-00001.zst`, …; pairs are stored in input order, shard by shard.
///
/// Each shard file is exactly one zstd frame (written with the streaming API, content checksum
/// ON via `ZSTD_c_checksumFlag`, so a bit flip inside the data is caught by the decoder). The
/// decompressed bytes are a record stream:
///
/// | field            | size          | value                                                  |
/// |------------------|---------------|--------------------------------------------------------|
/// | magic            | 8 bytes       | ASCII `S2SSHARD`                                        |
/// | version          | u32 LE        | 1                                                       |
/// | then, per pair:                                                                           |
/// | source length    | u32 LE        | byte length of the source, < 0xFFFF_FFFF               |
/// | source           | that many     | UTF-8 bytes of the source sentence, stored verbatim    |
/// | target length    | u32 LE        | byte length of the target                              |
/// | target           | that many     | UTF-8 bytes of the target sentence, stored verbatim    |
/// | then, once, the end marker:                                                               |
/// | end mark         | u32 LE        | 0xFFFF_FFFF (never a valid length)                     |
/// | pair count       | u64 LE        | number of pairs in this shard                          |
///
/// Lengths instead of separators mean a TAB, a "\r" or any other character inside a sentence
/// survives unchanged. The end marker makes truncation detectable even at a record boundary.
/// The manifest records for each shard its pair count, compressed and decompressed byte counts
/// and a CRC-32 (zlib polynomial) of the compressed file, so a missing, cut or altered shard is
/// reported by name before or while it is read.
public enum ShardFormat {
    /// Version of the record stream and of the manifest; bump on any change.
    public static let version = 1
    static let magic: [UInt8] = Array("S2SSHARD".utf8)
    static let endMark: UInt32 = 0xFFFF_FFFF
    static let headerSize = 12
    public static let manifestName = "manifest.json"

    /// File name of the shard with this index (five digits, so names sort in order).
    public static func shardName(_ index: Int) -> String {
        let digits = String(index)
        return "shard-" + String(repeating: "0", count: max(0, 5 - digits.count)) + digits + ".zst"
    }

    /// Whether a file name looks like one of our shards (used to clean up stale shards).
    static func isShardName(_ name: String) -> Bool {
        name.hasPrefix("shard-") && name.hasSuffix(".zst")
            && name.dropFirst(6).dropLast(4).allSatisfy { $0.isASCII && $0.isNumber }
    }

    static func loadU32(_ bytes: UnsafeRawBufferPointer, at offset: Int = 0) -> UInt32 {
        UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt32.self))
    }
}

/// CRC-32 rendered the way the manifest stores it: 8 lowercase hex digits.
func checksumText(_ crc: UInt) -> String {
    let hex = String(UInt32(truncatingIfNeeded: crc), radix: 16)
    return String(repeating: "0", count: 8 - hex.count) + hex
}
