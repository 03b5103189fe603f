/// Standard padded base64 (RFC 4648 section 4), the ledger's encoding of binary values.
enum Base64 {
    private static let alphabet: StaticString = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"

    /// Appends the base64 text of `data`.
    static func append(_ data: some Collection<UInt8>, to bytes: inout [UInt8]) {
        alphabet.withUTF8Buffer { symbols in
            var iterator = data.makeIterator()
            while let b0 = iterator.next() {
                let b1 = iterator.next()
                let b2 = iterator.next()
                let group = UInt32(b0) << 16 | UInt32(b1 ?? 0) << 8 | UInt32(b2 ?? 0)
                bytes.append(symbols[Int(group >> 18 & 0x3F)])
                bytes.append(symbols[Int(group >> 12 & 0x3F)])
                bytes.append(b1 == nil ? UInt8(ascii: "=") : symbols[Int(group >> 6 & 0x3F)])
                bytes.append(b2 == nil ? UInt8(ascii: "=") : symbols[Int(group & 0x3F)])
            }
        }
    }
}
