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
    /// A String cannot be wiped: prefer `init(skeyBytes:)` for a key read from a file.
    public init(skey: String) throws(KeyFormatError) {
        var bytes = Array(skey.utf8)
        defer { bytes.withUnsafeMutableBytes { sodiumWipe($0) } }
        let parsed = bytes.withUnsafeBytes { bytes in
            Result { () throws(KeyFormatError) in try Self.parse(bytes) }
        }
        (name, keyID, verifier, key) = try parsed.get()
    }

    /// Parses the bytes of a private key string. Only the key's public parts (name and
    /// ID) are copied; the seed is decoded into a temporary buffer that is wiped with
    /// sodium_memzero before returning, so the caller's buffer, which it wipes, is the
    /// one other place the secret was.
    public init(skeyBytes bytes: UnsafeRawBufferPointer) throws(KeyFormatError) {
        (name, keyID, verifier, key) = try Self.parse(bytes)
    }

    private static func parse(
        _ bytes: UnsafeRawBufferPointer
    ) throws(KeyFormatError) -> (String, UInt32, NoteVerifier, SigningKey) {
        // PRIVATE+KEY+<name>+<id>+<base64>: the secret is everything after the fourth
        // '+' (names and IDs have none; base64 may).
        var pluses = 0
        guard let fourthPlus = bytes.firstIndex(where: { byte in
            if byte == UInt8(ascii: "+") { pluses += 1 }
            return pluses == 4
        }) else { throw .malformed }
        let publicPart = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[..<fourthPlus]), as: UTF8.self)[...]
        let encoded = UnsafeRawBufferPointer(rebasing: bytes[(fourthPlus + 1)...])
        guard let (private1, rest1) = NoteKey.cut(publicPart), private1 == "PRIVATE",
              let (private2, rest2) = NoteKey.cut(rest1), private2 == "KEY",
              let (name, id) = NoteKey.cut(rest2)
        else { throw .malformed }
        guard NoteKey.isValidName(name) else { throw .invalidName }
        guard let stated = Hex.parseKeyID(id.utf8) else { throw .invalidKeyID }
        guard let count = Base64.decodedCount(encoded) else { throw .invalidBase64 }

        let parsed: Result<SigningKey, KeyFormatError> =
            withUnsafeTemporaryAllocation(byteCount: max(count, 1), alignment: 1) { buffer in
                defer { sodium_memzero(buffer.baseAddress, buffer.count) }
                guard Base64.decode(encoded, into: buffer) == count else { return .failure(.invalidBase64) }
                guard count > 0 else { return .failure(.wrongKeyLength(0)) }
                guard buffer[0] == NoteKey.ed25519 else { return .failure(.unknownAlgorithm(buffer[0])) }
                guard count == 33 else { return .failure(.wrongKeyLength(count - 1)) }
                return .success(SigningKey(seedBytes: UnsafeRawBufferPointer(rebasing: buffer[1..<33])))
            }
        let key = try parsed.get()

        // The ID is of the public key, so it can only be checked after deriving it.
        let verifier = try NoteVerifier(name: String(name), publicKey: key.publicKey)
        guard verifier.keyID == stated else { throw .keyIDMismatch(stated: stated, computed: verifier.keyID) }
        return (verifier.name, stated, verifier, key)
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
