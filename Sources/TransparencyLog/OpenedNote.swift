/// A signature line of a note: who claims to have signed it.
public struct NoteSignature: Sendable, Equatable, Hashable {
    /// The key name on the signature line.
    public let name: String
    /// The key ID in the first 4 signature bytes.
    public let keyID: UInt32
    /// The base64 of key ID and signature, as on the line.
    public let base64: String
}

/// A parsed note whose signatures from known keys all verified.
public struct OpenedNote: Sendable, Equatable {
    /// The note text, including its final newline.
    public let text: String
    /// The known keys whose signatures verified, in note order.
    public let verified: [NoteVerifier]
    /// Signatures from keys not in the verifier list (ignored, as C2SP requires).
    public let unverified: [NoteSignature]

    /// How many distinct signatures came from unknown keys.
    public var unverifiedSignatureCount: Int { unverified.count }
}
