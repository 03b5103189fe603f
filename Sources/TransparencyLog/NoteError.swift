/// Why a signed note could not be signed or opened.
public enum NoteError: Error, Equatable, Sendable {
    /// The note text is empty or does not end in a newline.
    case textMissingFinalNewline
    /// No signers were given to `SignedNote.sign`.
    case noSigners
    /// The note contains an ASCII control character other than newline (or invalid UTF-8).
    case invalidCharacter
    /// There is no blank line separating the text from the signatures.
    case missingSignatureBlock
    /// The signature block is empty or does not end in a newline.
    case malformedSignatureBlock
    /// Signature line `line` (1-based within the block) is not `— <name> <base64>`.
    case malformedSignatureLine(line: Int)
    /// More than `SignedNote.maxSignatures` signature lines.
    case tooManySignatures
    /// Two different verifier keys share this name and key ID.
    case ambiguousVerifier(name: String, keyID: UInt32)
    /// A signature by a known key (name and ID match) does not verify: the note is forged or corrupt.
    case invalidSignature(name: String, keyID: UInt32)
    /// The note is well-formed but carries no signature from any known key.
    case unverified(OpenedNote)
}

extension NoteError: CustomStringConvertible {
    /// A readable one-line explanation.
    public var description: String {
        switch self {
        case .textMissingFinalNewline:
            return "note text must be non-empty and end in a newline"
        case .noSigners:
            return "a note needs at least one signer"
        case .invalidCharacter:
            return "note contains a control character other than newline, or invalid UTF-8"
        case .missingSignatureBlock:
            return "malformed note: no blank line before the signatures"
        case .malformedSignatureBlock:
            return "malformed note: signature block is empty or lacks its final newline"
        case let .malformedSignatureLine(line):
            return "malformed note: signature line \(line) is not '— <name> <base64>'"
        case .tooManySignatures:
            return "malformed note: more than \(SignedNote.maxSignatures) signatures"
        case let .ambiguousVerifier(name, keyID):
            return "ambiguous verifier: several keys named \(name)+\(Hex.encode(keyID))"
        case let .invalidSignature(name, keyID):
            return "invalid signature for known key \(name)+\(Hex.encode(keyID))"
        case let .unverified(note):
            return "note has no signature from a known key (\(note.unverifiedSignatureCount) from unknown keys)"
        }
    }
}
