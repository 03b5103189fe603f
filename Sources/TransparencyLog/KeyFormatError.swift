/// Why a key or key string was refused. Descriptions never contain key material.
public enum KeyFormatError: Error, Equatable, Sendable {
    /// Not of the form `<name>+<key id>+<key>` (or `PRIVATE+KEY+...` for private keys).
    case malformed
    /// The key name is empty, contains Unicode white space or `+`.
    case invalidName
    /// The key ID is not exactly 8 lowercase hexadecimal digits.
    case invalidKeyID
    /// The key is not canonical padded standard base64.
    case invalidBase64
    /// The key's algorithm byte is not the one expected: 0x01 (Ed25519) for a log's key,
    /// 0x04 (cosignature/v1) for a witness's.
    case unknownAlgorithm(UInt8)
    /// The key material has the wrong length for Ed25519.
    case wrongKeyLength(Int)
    /// The key ID does not match SHA256(name || 0x0A || 0x01 || public key)[0..<4].
    case keyIDMismatch(stated: UInt32, computed: UInt32)
}

extension KeyFormatError: CustomStringConvertible {
    /// A readable one-line explanation, free of secrets.
    public var description: String {
        switch self {
        case .malformed:
            return "key is not of the form <name>+<hex key id>+<base64 key>"
        case .invalidName:
            return "key name must be non-empty without white space or '+'"
        case .invalidKeyID:
            return "key id must be 8 lowercase hexadecimal digits"
        case .invalidBase64:
            return "key is not valid padded base64"
        case let .unknownAlgorithm(byte):
            return "key algorithm \(byte) is not the one expected (1, Ed25519, for a log's key; 4, cosignature/v1, for a witness's)"
        case let .wrongKeyLength(length):
            return "key is \(length) bytes, Ed25519 needs 32"
        case let .keyIDMismatch(stated, computed):
            return "key id \(Hex.encode(stated)) does not match the key (computed \(Hex.encode(computed)))"
        }
    }
}
