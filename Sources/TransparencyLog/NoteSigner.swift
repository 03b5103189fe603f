import CSodium

/// A signed-note signer: a named Ed25519 key parsed from `PRIVATE+KEY+<name>+<hex id>+<base64(0x01 || seed)>`.
public final class NoteSigner: Sendable {
    /// The key name (for the ledger, its origin).
    public let name: String
    /// The key ID, as in the verifier key.
    public let keyID: UInt32
    /// The matching public verifier.
    public let verifier: NoteVerifier
    // The only home of the secret.
    private let key: SigningKey

    /// Parses a private key string, as Go's note.NewSigner does (plus C2SP's lowercase-hex, canonical-base64 rules).
    ///
    /// The seed is decoded into a temporary buffer that is wiped with
    /// sodium_memzero before returning; only the SigningKey keeps it.
    public init(skey: String) throws(KeyFormatError) {
        let text = skey[...]
        guard let (private1, rest1) = NoteKey.cut(text), private1 == "PRIVATE",
              let (private2, rest2) = NoteKey.cut(rest1), private2 == "KEY",
              let (name, rest3) = NoteKey.cut(rest2),
              let (id, encoded) = NoteKey.cut(rest3)
        else { throw .malformed }
        guard NoteKey.isValidName(name) else { throw .invalidName }
        guard let stated = Hex.parseKeyID(id.utf8) else { throw .invalidKeyID }
        guard let count = Base64.decodedCount(encoded.utf8) else { throw .invalidBase64 }

        let parsed: Result<SigningKey, KeyFormatError> =
            withUnsafeTemporaryAllocation(byteCount: max(count, 1), alignment: 1) { buffer in
                defer { sodium_memzero(buffer.baseAddress, buffer.count) }
                guard Base64.decode(encoded.utf8, into: buffer) == count else { return .failure(.invalidBase64) }
                guard count > 0 else { return .failure(.wrongKeyLength(0)) }
                guard buffer[0] == NoteKey.ed25519 else { return .failure(.unknownAlgorithm(buffer[0])) }
                guard count == 33 else { return .failure(.wrongKeyLength(count - 1)) }
                return .success(SigningKey(seedBytes: UnsafeRawBufferPointer(rebasing: buffer[1..<33])))
            }
        let key = try parsed.get()

        // The ID is of the public key, so it can only be checked after deriving it.
        let verifier = try NoteVerifier(name: String(name), publicKey: key.publicKey)
        guard verifier.keyID == stated else { throw .keyIDMismatch(stated: stated, computed: verifier.keyID) }
        self.name = verifier.name
        self.keyID = stated
        self.verifier = verifier
        self.key = key
    }

    /// Signs `message` (a note text, or any bytes) with this key.
    public func sign(_ message: UnsafeRawBufferPointer) -> [UInt8] {
        key.sign(message)
    }

    /// Signs `message` with this key.
    public func sign(_ message: [UInt8]) -> [UInt8] {
        key.sign(message)
    }

    /// Generates a fresh key pair under `name`, returned as private and verifier key strings.
    ///
    /// The returned `skey` necessarily holds the secret; the byte buffers
    /// used to build it are wiped.
    public static func generate(name: String) throws(KeyFormatError) -> (skey: String, vkey: String) {
        guard NoteKey.isValidName(name) else { throw .invalidName }
        let key = SigningKey.generate()
        let verifier = try NoteVerifier(name: name, publicKey: key.publicKey)
        let encoded = withUnsafeTemporaryAllocation(byteCount: 33, alignment: 1) { buffer in
            defer { sodium_memzero(buffer.baseAddress, buffer.count) }
            buffer[0] = NoteKey.ed25519
            key.copySeed(into: UnsafeMutableRawBufferPointer(rebasing: buffer[1...]))
            return Base64.encode(UnsafeRawBufferPointer(buffer))
        }
        return ("PRIVATE+KEY+\(name)+\(Hex.encode(verifier.keyID))+\(encoded)", verifier.vkey)
    }
}
