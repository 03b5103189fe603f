/// Shared rules for signed-note key names and key IDs (C2SP signed-note).
enum NoteKey {
    /// Signature type Ed25519, of the log's own signatures.
    static let ed25519: UInt8 = 0x01
    /// Signature type of a witness's timestamped Ed25519 cosignature (C2SP tlog-cosignature).
    static let cosignatureV1: UInt8 = 0x04

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

    /// Parses and checks a verifier key string `<name>+<hex key id>+<base64(algorithm || Ed25519 key)>`
    /// as Go's note.NewVerifier does, for keys of `algorithm`: name, key ID and public key.
    ///
    /// Stricter than Go in two ways C2SP prescribes: the key ID must be
    /// lowercase hex and the base64 canonical, so a key has one spelling.
    static func parseVerifierKey(
        _ vkey: String, algorithm expected: UInt8
    ) throws(KeyFormatError) -> (name: String, keyID: UInt32, publicKey: [UInt8]) {
        guard let (name, rest) = cut(vkey[...]), let (id, key) = cut(rest) else { throw .malformed }
        guard isValidName(name) else { throw .invalidName }
        guard let stated = Hex.parseKeyID(id.utf8) else { throw .invalidKeyID }
        guard let bytes = Base64.decode(key.utf8) else { throw .invalidBase64 }
        guard let algorithm = bytes.first else { throw .wrongKeyLength(0) }
        // Go checks the ID over all the key bytes before looking at the algorithm.
        let computed = bytes.withUnsafeBytes { raw in
            keyID(name: String(name), algorithm: algorithm, publicKey: UnsafeRawBufferPointer(rebasing: raw.dropFirst()))
        }
        guard computed == stated else { throw .keyIDMismatch(stated: stated, computed: computed) }
        guard algorithm == expected else { throw .unknownAlgorithm(algorithm) }
        guard bytes.count == 33 else { throw .wrongKeyLength(bytes.count - 1) }
        return (String(name), stated, Array(bytes.dropFirst()))
    }

    /// Splits `text` at the first `+`; nil when there is none.
    static func cut(_ text: Substring) -> (Substring, Substring)? {
        guard let plus = text.firstIndex(of: "+") else { return nil }
        return (text[..<plus], text[text.index(after: plus)...])
    }
}
