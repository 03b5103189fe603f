/// A signed-note verifier key: `<name>+<hex key id>+<base64(0x01 || Ed25519 public key)>`.
public struct NoteVerifier: Sendable, Equatable, Hashable {
    /// The key name (for the ledger, its origin).
    public let name: String
    /// The key ID: SHA256(name || 0x0A || 0x01 || publicKey)[0..<4], big-endian.
    public let keyID: UInt32
    /// The 32-byte Ed25519 public key.
    public let publicKey: [UInt8]

    /// Parses and checks a verifier key string, as Go's note.NewVerifier does.
    ///
    /// Stricter than Go in two ways C2SP prescribes: the key ID must be
    /// lowercase hex and the base64 canonical, so a key has one spelling.
    public init(_ vkey: String) throws(KeyFormatError) {
        let (name, keyID, publicKey) = try NoteKey.parseVerifierKey(vkey, algorithm: NoteKey.ed25519)
        self.name = name
        self.keyID = keyID
        self.publicKey = publicKey
    }

    /// Makes the verifier key for an Ed25519 public key under `name`.
    public init(name: String, publicKey: [UInt8]) throws(KeyFormatError) {
        guard NoteKey.isValidName(name) else { throw .invalidName }
        guard publicKey.count == 32 else { throw .wrongKeyLength(publicKey.count) }
        self.name = name
        self.publicKey = publicKey
        self.keyID = publicKey.withUnsafeBytes { NoteKey.keyID(name: name, algorithm: NoteKey.ed25519, publicKey: $0) }
    }

    /// The verifier key string; parsing it gives back this verifier.
    public var vkey: String {
        "\(name)+\(Hex.encode(keyID))+\(Base64.encode([NoteKey.ed25519] + publicKey))"
    }

    /// Whether `signature` is this key's Ed25519 signature of `message`.
    public func verify(message: UnsafeRawBufferPointer, signature: [UInt8]) -> Bool {
        Ed25519.verify(signature: signature, message: message, publicKey: publicKey)
    }

    /// Whether `signature` is this key's Ed25519 signature of `message`.
    public func verify(message: [UInt8], signature: [UInt8]) -> Bool {
        message.withUnsafeBytes { verify(message: $0, signature: signature) }
    }
}
