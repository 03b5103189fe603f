/// Why `JSONValue.parse` refused its input, and where.
public struct JSONParseError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The kinds of refusal.
    public enum Kind: Sendable, Equatable {
        /// Not JSON (RFC 8259): a stray character, a missing quote or bracket, a bad escape,
        /// a number such as `012`, `+1`, `1.` or `NaN`, or text after the value.
        case syntax
        /// The bytes are not valid UTF-8.
        case notUTF8
        /// A valid JSON number with a fraction or exponent: canonical JSON has integers only.
        case nonInteger
        /// An integer outside Int64.
        case numberOutOfRange
        /// An object names the same key twice.
        case duplicateKey
        /// Arrays and objects nested deeper than `JSONValue.maximumDepth`.
        case tooDeep
    }

    /// The kind of refusal.
    public var kind: Kind
    /// The byte offset where the problem was found.
    public var offset: Int
    /// What is wrong, in words.
    public var message: String

    /// An error of `kind` at `offset`.
    public init(kind: Kind, offset: Int, message: String) {
        self.kind = kind
        self.offset = offset
        self.message = message
    }

    /// The message with its offset.
    public var description: String { "\(message) (byte \(offset))" }
}
