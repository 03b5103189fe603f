/// Hexadecimal helpers (lowercase out, as C2SP requires for key IDs).
enum Hex {
    private static let digits: [UInt8] = Array("0123456789abcdef".utf8)

    /// Lowercase hex of the bytes.
    static func encode(_ bytes: UnsafeRawBufferPointer) -> String {
        String(unsafeUninitializedCapacity: bytes.count * 2) { out in
            for (i, byte) in bytes.enumerated() {
                out[2 * i] = digits[Int(byte >> 4)]
                out[2 * i + 1] = digits[Int(byte & 15)]
            }
            return bytes.count * 2
        }
    }

    /// The 8 lowercase hex digits of a key ID.
    static func encode(_ value: UInt32) -> String {
        withUnsafeBytes(of: value.bigEndian) { encode($0) }
    }

    /// Value of a hex digit, or nil; `lowercaseOnly` refuses A-F.
    static func digit(_ char: UInt8, lowercaseOnly: Bool) -> UInt8? {
        switch char {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return char - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return char - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F") where !lowercaseOnly: return char - UInt8(ascii: "A") + 10
        default: return nil
        }
    }

    /// Decodes hex of exactly `output.count` bytes (either case).
    static func decode(_ text: some Collection<UInt8>, into output: UnsafeMutableRawBufferPointer) -> Bool {
        guard text.count == output.count * 2 else { return false }
        var i = 0
        var high: UInt8 = 0
        for char in text {
            guard let v = digit(char, lowercaseOnly: false) else { return false }
            if i % 2 == 0 { high = v } else { output[i / 2] = high << 4 | v }
            i += 1
        }
        return true
    }

    /// Parses exactly 8 lowercase hex digits (the C2SP key ID spelling).
    static func parseKeyID(_ text: some Collection<UInt8>) -> UInt32? {
        guard text.count == 8 else { return nil }
        var value: UInt32 = 0
        for char in text {
            guard let v = digit(char, lowercaseOnly: true) else { return nil }
            value = value << 4 | UInt32(v)
        }
        return value
    }
}
