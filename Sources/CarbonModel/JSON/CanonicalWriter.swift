/// Appends canonical JSON to a byte array, for code that knows its key order and
/// wants no intermediate `JSONValue` (ledger entries, reading leaves).
///
/// Separators are written automatically: call `key(_:)` before each member's value.
/// The caller must write object keys in ascending UTF-8 byte order; `value(_:)`
/// sorts the members of a `JSONValue.object` itself.
///
///     var w = CanonicalWriter()
///     w.beginObject()
///     w.key("count"); w.int(2)
///     w.key("kind"); w.string("readings")
///     w.endObject()        // {"count":2,"kind":"readings"}
public struct CanonicalWriter: Sendable {
    /// The bytes written so far.
    public var bytes: [UInt8]
    private var needsComma = false

    /// A writer appending to `bytes`.
    public init(bytes: [UInt8] = []) {
        self.bytes = bytes
    }

    /// A writer with room reserved for `capacity` bytes.
    public init(reservingCapacity capacity: Int) {
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    /// Writes `null`.
    public mutating func null() {
        separate()
        JSONText.appendLiteral("null", to: &bytes)
        needsComma = true
    }

    /// Writes `true` or `false`.
    public mutating func bool(_ value: Bool) {
        separate()
        JSONText.appendLiteral(value ? "true" : "false", to: &bytes)
        needsComma = true
    }

    /// Writes an integer in its shortest decimal form.
    public mutating func int(_ value: Int64) {
        separate()
        JSONText.appendInt(value, to: &bytes)
        needsComma = true
    }

    /// Writes a string, quoted and minimally escaped.
    public mutating func string(_ value: String) {
        separate()
        JSONText.appendString(value, to: &bytes)
        needsComma = true
    }

    /// Writes an object member's key and the colon; the member's value follows.
    public mutating func key(_ name: String) {
        separate()
        JSONText.appendString(name, to: &bytes)
        bytes.append(UInt8(ascii: ":"))
        needsComma = false
    }

    /// Opens an object.
    public mutating func beginObject() {
        separate()
        bytes.append(UInt8(ascii: "{"))
        needsComma = false
    }

    /// Closes the innermost object.
    public mutating func endObject() {
        bytes.append(UInt8(ascii: "}"))
        needsComma = true
    }

    /// Opens an array.
    public mutating func beginArray() {
        separate()
        bytes.append(UInt8(ascii: "["))
        needsComma = false
    }

    /// Closes the innermost array.
    public mutating func endArray() {
        bytes.append(UInt8(ascii: "]"))
        needsComma = true
    }

    /// Writes a whole value canonically, sorting object members by their keys' bytes.
    public mutating func value(_ value: JSONValue) {
        switch value {
        case .null: null()
        case .bool(let b): bool(b)
        case .int(let i): int(i)
        case .bigInt(let i):
            separate()
            bytes.append(contentsOf: String(i).utf8)
            needsComma = true
        case .string(let s): string(s)
        case .array(let elements):
            beginArray()
            for element in elements { self.value(element) }
            endArray()
        case .object(let members):
            beginObject()
            let keys = members.keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
            for key in keys {
                self.key(key)
                // The key came from `members`, so the lookup cannot fail.
                self.value(members[key] ?? .null)
            }
            endObject()
        }
    }

    @inline(__always)
    private mutating func separate() {
        if needsComma { bytes.append(UInt8(ascii: ",")) }
    }
}
