/// Shared rules for signed-note key names and key IDs (C2SP signed-note).
enum NoteKey {
    /// The only signature type supported: Ed25519.
    static let ed25519: UInt8 = 0x01

    /// Whether `name` is a valid key name: non-empty, no Unicode white space, no `+`.
    ///
    /// Unicode White_Space is what Go's unicode.IsSpace tests.
    static func isValidName(_ name: some StringProtocol) -> Bool {
        !name.isEmpty && !name.unicodeScalars.contains { $0 == "+" || $0.properties.isWhitespace }
    }

    /// Key ID: first 4 bytes, big-endian, of SHA256(name || 0x0A || algorithm || public key).
    static func keyID(name: String, algorithm: UInt8, publicKey: UnsafeRawBufferPointer) -> UInt32 {
        var input: [UInt8] = []
        input.reserveCapacity(name.utf8.count + 2 + publicKey.count)
        input.append(contentsOf: name.utf8)
        input.append(0x0A)
        input.append(algorithm)
        input.append(contentsOf: publicKey)
        return SHA256.hash(input).withUnsafeBytes { digest in
            digest.loadUnaligned(as: UInt32.self).bigEndian
        }
    }

    /// Splits `text` at the first `+`; nil when there is none.
    static func cut(_ text: Substring) -> (Substring, Substring)? {
        guard let plus = text.firstIndex(of: "+") else { return nil }
        return (text[..<plus], text[text.index(after: plus)...])
    }
}
