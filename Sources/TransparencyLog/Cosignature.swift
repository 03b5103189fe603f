/// C2SP tlog-cosignature: a witness's statement, timestamped and signed with Ed25519,
/// that it has seen a checkpoint and that the log's tree grew append-only into it.
///
/// The signed message is `cosignature/v1\ntime <seconds>\n` followed by the checkpoint
/// text; the signature line is `— <witness name> base64(key ID || time || signature)`,
/// with the time as 8 big-endian bytes, and the key ID that of the witness's key under
/// signature type 0x04 (so the same Ed25519 key never yields a line a note verifier
/// would mistake for a plain signature).
public enum Cosignature {
    /// The bytes a witness signs for `checkpointText` at `time` (Unix seconds).
    public static func message(checkpointText: String, time: UInt64) -> [UInt8] {
        Array("cosignature/v1\ntime \(time)\n".utf8) + Array(checkpointText.utf8)
    }

    /// Key ID, time and signature: the bytes a cosignature line carries in base64.
    static let blobLength = 4 + 8 + 64

    /// The time a cosignature line's base64 claims, its signature NOT checked (as Go's
    /// `note.CoSigV1Timestamp`); nil when it is not base64 of a cosignature's length.
    public static func claimedTime(_ base64: String) -> UInt64? {
        guard let blob = Base64.decode(base64), blob.count == blobLength else { return nil }
        return time(in: blob)
    }

    /// The big-endian time after the key ID; nil past 2^63 - 1, which the format forbids.
    static func time(in blob: [UInt8]) -> UInt64? {
        let time = blob[4..<12].reduce(0) { $0 << 8 | UInt64($1) }
        return time <= UInt64(Int64.max) ? time : nil
    }
}

/// A witness's public key: `<name>+<hex key id>+<base64(0x04 || Ed25519 public key)>`.
public struct WitnessVerifier: Sendable, Hashable {
    /// The witness's name, as on its cosignature lines.
    public let name: String
    /// SHA256(name || 0x0A || 0x04 || publicKey)[0..<4], big-endian.
    public let keyID: UInt32
    /// The 32-byte Ed25519 public key.
    public let publicKey: [UInt8]

    /// Parses and checks a witness verifier key: of signature type 0x04, or a plain
    /// Ed25519 key (type 0x01) taken as the same key's cosignature/v1 key, as Go's
    /// `note.NewVerifierForCosignatureV1` does.
    public init(_ vkey: String) throws(KeyFormatError) {
        do throws(KeyFormatError) {
            let (name, _, publicKey) = try NoteKey.parseVerifierKey(vkey, algorithm: NoteKey.cosignatureV1)
            try self.init(name: name, publicKey: publicKey)
        } catch .unknownAlgorithm(NoteKey.ed25519) {
            let plain = try NoteVerifier(vkey)
            try self.init(name: plain.name, publicKey: plain.publicKey)
        }
    }

    /// The witness key for an Ed25519 public key under `name`.
    public init(name: String, publicKey: [UInt8]) throws(KeyFormatError) {
        guard NoteKey.isValidName(name) else { throw .invalidName }
        guard publicKey.count == 32 else { throw .wrongKeyLength(publicKey.count) }
        self.name = name
        self.publicKey = publicKey
        keyID = publicKey.withUnsafeBytes { NoteKey.keyID(name: name, algorithm: NoteKey.cosignatureV1, publicKey: $0) }
    }

    /// The verifier key string; parsing it gives back this verifier.
    public var vkey: String {
        "\(name)+\(Hex.encode(keyID))+\(Base64.encode([NoteKey.cosignatureV1] + publicKey))"
    }

    /// The time of this witness's cosignature of `checkpointText` among `signatures`
    /// (a note's signature lines from keys the log does not know); nil when the note
    /// carries none from this key, or the one it carries does not verify.
    public func cosignatureTime(of checkpointText: String, among signatures: [NoteSignature]) -> UInt64? {
        for signature in signatures where signature.name == name && signature.keyID == keyID {
            if let time = verify(signature.base64, checkpointText: checkpointText) { return time }
        }
        return nil
    }

    /// The time of the cosignature in `base64` (key ID, time, signature) if it is this
    /// witness's valid cosignature of `checkpointText`.
    public func verify(_ base64: String, checkpointText: String) -> UInt64? {
        guard let blob = Base64.decode(base64), blob.count == Cosignature.blobLength,
              blob[0..<4].reduce(0, { $0 << 8 | UInt32($1) }) == keyID,
              let time = Cosignature.time(in: blob)
        else { return nil }
        let message = Cosignature.message(checkpointText: checkpointText, time: time)
        guard Ed25519.verify(signature: Array(blob[12...]), message: message, publicKey: publicKey) else { return nil }
        return time
    }
}

/// A witness's signing side: its Ed25519 note key, used for cosignature/v1 only.
public struct WitnessSigner: Sendable {
    private let key: NoteSigner
    /// The matching public key, with its type-0x04 key ID.
    public let verifier: WitnessVerifier

    /// A witness signer from a private key string (`PRIVATE+KEY+<name>+<id>+<base64(0x01 || seed)>`,
    /// as `carbonctl keygen` writes; the type-0x04 key ID is derived from it, as Go's
    /// `note.NewSignerForCosignatureV1` does).
    public init(_ key: NoteSigner) {
        self.key = key
        // The name was valid for the note key and the public key is 32 bytes.
        verifier = try! WitnessVerifier(name: key.name, publicKey: key.verifier.publicKey)
    }

    /// The witness's name.
    public var name: String { key.name }

    /// The signature line cosigning `checkpointText` at `time`, newline included.
    public func cosign(checkpointText: String, time: UInt64) -> String {
        var blob = withUnsafeBytes(of: verifier.keyID.bigEndian) { Array($0) }
        blob += withUnsafeBytes(of: time.bigEndian) { Array($0) }
        blob += key.sign(Cosignature.message(checkpointText: checkpointText, time: time))
        return "— \(name) \(Base64.encode(blob))\n"
    }
}
