/// Why a checkpoint text was refused.
public enum CheckpointError: Error, Equatable, Sendable {
    /// The text is empty or does not end in a newline.
    case missingFinalNewline
    /// Fewer than the three mandatory lines (origin, size, root hash).
    case tooFewLines
    /// The origin line is empty.
    case emptyOrigin
    /// A line contains a control character (a newline inside a field, for instance).
    case invalidCharacter
    /// The size line is not a decimal UInt64 without leading zeros.
    case invalidSize
    /// The root hash line is not canonical base64 of exactly 32 bytes.
    case invalidRootHash
    /// An extension line is empty.
    case emptyExtensionLine
    /// No verified (or provided) signature is by a key named like the origin.
    case notSignedByOrigin(origin: String)
}

extension CheckpointError: CustomStringConvertible {
    /// A readable one-line explanation.
    public var description: String {
        switch self {
        case .missingFinalNewline: return "checkpoint text must end in a newline"
        case .tooFewLines: return "checkpoint needs origin, size and root hash lines"
        case .emptyOrigin: return "checkpoint origin is empty"
        case .invalidCharacter: return "checkpoint line contains a control character"
        case .invalidSize: return "checkpoint size is not a decimal number without leading zeros"
        case .invalidRootHash: return "checkpoint root hash is not base64 of 32 bytes"
        case .emptyExtensionLine: return "checkpoint extension lines must not be empty"
        case let .notSignedByOrigin(origin): return "checkpoint is not signed by a key named after its origin \(origin)"
        }
    }
}
