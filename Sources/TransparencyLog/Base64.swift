/// Strict RFC 4648 section 4 base64 (standard alphabet, padded), without Foundation.
///
/// Strict on purpose: no whitespace, padding required, and unused trailing
/// bits must be zero, so every byte string has exactly one accepted encoding
/// (keys and signatures cannot be re-encoded into a second valid spelling).
public enum Base64 {
    private static let alphabet: [UInt8] = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    // 0xFF marks bytes outside the alphabet.
    private static let reverse: [UInt8] = {
        var table = [UInt8](repeating: 0xFF, count: 256)
        for (value, char) in alphabet.enumerated() { table[Int(char)] = UInt8(value) }
        return table
    }()

    /// Encodes bytes as padded base64.
    public static func encode(_ bytes: UnsafeRawBufferPointer) -> String {
        let outputCount = (bytes.count + 2) / 3 * 4
        return String(unsafeUninitializedCapacity: outputCount) { out in
            var o = 0
            var i = 0
            while i + 3 <= bytes.count {
                let n = UInt32(bytes[i]) << 16 | UInt32(bytes[i + 1]) << 8 | UInt32(bytes[i + 2])
                out[o] = alphabet[Int(n >> 18 & 63)]
                out[o + 1] = alphabet[Int(n >> 12 & 63)]
                out[o + 2] = alphabet[Int(n >> 6 & 63)]
                out[o + 3] = alphabet[Int(n & 63)]
                i += 3
                o += 4
            }
            let rest = bytes.count - i
            if rest > 0 {
                var n = UInt32(bytes[i]) << 16
                if rest == 2 { n |= UInt32(bytes[i + 1]) << 8 }
                out[o] = alphabet[Int(n >> 18 & 63)]
                out[o + 1] = alphabet[Int(n >> 12 & 63)]
                out[o + 2] = rest == 2 ? alphabet[Int(n >> 6 & 63)] : UInt8(ascii: "=")
                out[o + 3] = UInt8(ascii: "=")
                o += 4
            }
            return o
        }
    }

    /// Encodes bytes as padded base64.
    public static func encode(_ bytes: [UInt8]) -> String {
        bytes.withUnsafeBytes { encode($0) }
    }

    /// The number of bytes `text` decodes to, or nil if its length or padding is impossible.
    static func decodedCount(_ text: some Collection<UInt8>) -> Int? {
        let count = text.count
        guard count % 4 == 0 else { return nil }
        guard count > 0 else { return 0 }
        let secondLast = text[text.index(text.startIndex, offsetBy: count - 2)] == UInt8(ascii: "=")
        let last = text[text.index(text.startIndex, offsetBy: count - 1)] == UInt8(ascii: "=")
        let padding: Int
        switch (secondLast, last) {
        case (false, false): padding = 0
        case (false, true): padding = 1
        case (true, true): padding = 2
        case (true, false): return nil
        }
        return count / 4 * 3 - padding
    }

    /// Decodes `text` into `output`; returns the byte count, or nil if malformed or too long.
    ///
    /// Writing into a caller-provided buffer lets secrets be decoded straight
    /// into memory the caller wipes afterwards.
    static func decode(_ text: some Collection<UInt8>, into output: UnsafeMutableRawBufferPointer) -> Int? {
        guard let total = decodedCount(text), total <= output.count else { return nil }
        let count = text.count
        var o = 0
        var quad: UInt32 = 0
        var filled = 0
        var padding = 0
        for (position, char) in text.enumerated() {
            if char == UInt8(ascii: "=") {
                // Padding only in the last two places (decodedCount checked their order).
                guard position >= count - 2 else { return nil }
                padding += 1
                quad <<= 6
            } else {
                guard padding == 0 else { return nil }
                let value = reverse[Int(char)]
                guard value != 0xFF else { return nil }
                quad = quad << 6 | UInt32(value)
            }
            filled += 1
            if filled == 4 {
                // Non-zero bits under the padding would give a second spelling.
                if padding == 1, quad & 0xFF != 0 { return nil }
                if padding == 2, quad & 0xFFFF != 0 { return nil }
                let produced = 3 - padding
                output[o] = UInt8(truncatingIfNeeded: quad >> 16)
                if produced >= 2 { output[o + 1] = UInt8(truncatingIfNeeded: quad >> 8) }
                if produced == 3 { output[o + 2] = UInt8(truncatingIfNeeded: quad) }
                o += produced
                quad = 0
                filled = 0
            }
        }
        return o == total ? o : nil
    }

    /// Decodes `text` into a new array, or nil if malformed.
    public static func decode(_ text: some Collection<UInt8>) -> [UInt8]? {
        guard let count = decodedCount(text) else { return nil }
        var result = [UInt8](repeating: 0, count: count)
        let written = result.withUnsafeMutableBytes { decode(text, into: $0) }
        return written == count ? result : nil
    }

    /// Decodes a string, or nil if malformed.
    public static func decode(_ text: String) -> [UInt8]? {
        decode(text.utf8)
    }
}
