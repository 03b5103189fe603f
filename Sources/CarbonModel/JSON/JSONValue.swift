/// A JSON value as the ledger holds it: canonical JSON has integers only, so there is
/// no case for fractions or exponents.
///
/// Equality and hashing follow Swift's `String`, which compares canonically equivalent
/// strings as equal (`"é"` precomposed equals `"e"` + U+0301); the canonical *bytes*
/// keep what was written. Compare `canonicalBytes()` when bytes matter.
public indirect enum JSONValue: Sendable, Equatable, Hashable {
    case null
    case bool(Bool)
    case int(Int64)
    /// An integer outside Int64 (sums over many consumers); `integer(_:)` picks the case.
    case bigInt(Int128)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])
}

extension JSONValue {
    /// The canonical encoding (ledger.md section 1): keys sorted by their UTF-8 bytes,
    /// no whitespace, minimal escaping.
    public func canonicalBytes() -> [UInt8] {
        var writer = CanonicalWriter()
        writer.value(self)
        return writer.bytes
    }

    /// The canonical encoding as a string.
    public var canonicalString: String {
        String(decoding: canonicalBytes(), as: UTF8.self)
    }

    /// The member named `key` when this is an object.
    public subscript(key: String) -> JSONValue? {
        if case .object(let members) = self { return members[key] }
        return nil
    }

    /// An integer of any size: `.int` when it fits in Int64, else `.bigInt`.
    public static func integer(_ value: Int128) -> JSONValue {
        Int64(exactly: value).map(JSONValue.int) ?? .bigInt(value)
    }

    /// The integer, when this is one.
    public var intValue: Int64? {
        if case .int(let value) = self { return value }
        return nil
    }

    /// The string, when this is one.
    public var stringValue: String? {
        if case .string(let value) = self { return value }
        return nil
    }

    /// The Boolean, when this is one.
    public var boolValue: Bool? {
        if case .bool(let value) = self { return value }
        return nil
    }

    /// The elements, when this is an array.
    public var arrayValue: [JSONValue]? {
        if case .array(let value) = self { return value }
        return nil
    }

    /// The members, when this is an object.
    public var objectValue: [String: JSONValue]? {
        if case .object(let value) = self { return value }
        return nil
    }

    /// Whether this is `null`.
    public var isNull: Bool {
        if case .null = self { return true }
        return false
    }
}

extension JSONValue: ExpressibleByNilLiteral, ExpressibleByBooleanLiteral, ExpressibleByIntegerLiteral,
    ExpressibleByStringLiteral, ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral
{
    /// `null`.
    public init(nilLiteral: ()) { self = .null }
    /// A Boolean.
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    /// An integer.
    public init(integerLiteral value: Int64) { self = .int(value) }
    /// A string.
    public init(stringLiteral value: String) { self = .string(value) }
    /// An array.
    public init(arrayLiteral elements: JSONValue...) { self = .array(elements) }
    /// An object; a repeated key keeps its last value.
    public init(dictionaryLiteral elements: (String, JSONValue)...) {
        self = .object(Dictionary(elements, uniquingKeysWith: { _, last in last }))
    }
}

extension JSONValue: CustomStringConvertible {
    /// The canonical encoding.
    public var description: String { canonicalString }
}
