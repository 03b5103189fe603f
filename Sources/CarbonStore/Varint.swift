/// Unsigned LEB128 varints of `Int64` bit patterns: the encoding of the store's blobs
/// (hour sums, correction records). Small non-negative numbers take one or two bytes.
enum Varint {
    static func append(_ value: Int64, to bytes: inout [UInt8]) {
        var v = UInt64(bitPattern: value)
        while v >= 0x80 {
            bytes.append(UInt8(v & 0x7f) | 0x80)
            v >>= 7
        }
        bytes.append(UInt8(v))
    }

    /// The varint at `offset`, which moves past it; nil at the end of `bytes` or for
    /// one longer than 64 bits.
    static func read<Bytes: RandomAccessCollection>(_ bytes: Bytes, at offset: inout Int) -> Int64?
    where Bytes.Element == UInt8, Bytes.Index == Int {
        var value: UInt64 = 0
        var shift: UInt64 = 0
        while offset < bytes.endIndex, shift < 64 {
            let byte = bytes[offset]
            offset += 1
            value |= UInt64(byte & 0x7f) << shift
            if byte < 0x80 { return Int64(bitPattern: value) }
            shift += 7
        }
        return nil
    }
}
