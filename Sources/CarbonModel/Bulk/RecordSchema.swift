/// What the bulk parsers need to know about one kind of record: its fields, and how
/// raw field values become the record. `ReadingParser` and `ConsumerParser` each
/// supply one; `BulkReader` does the rest for all three body formats.
protocol RecordDraft {
    associatedtype Record: Sendable
    associatedtype Field: RecordField

    /// The record's fields, by name.
    static var fields: FieldTable<Field> { get }

    /// A draft with nothing set.
    init()

    /// Applies the rule of `field` to `value`, keeping the result or reporting the
    /// problem to `reader`. Called at most once per field; never with `null` for an
    /// optional field (null means absent there).
    mutating func set(_ field: Field, _ value: RawValue, _ reader: inout FieldReader)

    /// The record; asked only when every field passed and every required one was set,
    /// so no placeholder of `init()` can leak out.
    consuming func record() -> Record
}

/// A field of a record: its name in JSON and CSV is the raw value.
protocol RecordField: RawRepresentable<String>, CaseIterable, Sendable {
    /// Whether a record without it is refused.
    var isRequired: Bool { get }
}

/// The fields of a record kind, found by their names' bytes.
struct FieldTable<Field: RecordField>: Sendable {
    /// The fields in declaration order; a field's position is its bit in `requiredMask`.
    let fields: [Field]
    let names: NameTable
    let requiredMask: UInt64

    init() {
        fields = Array(Field.allCases)
        names = NameTable(fields.map(\.rawValue))
        var mask: UInt64 = 0
        for (i, field) in fields.enumerated() where field.isRequired { mask |= 1 << UInt64(i) }
        requiredMask = mask
    }

    /// The message for a field name that is not one of `fields`, with a suggestion when
    /// the name is a near miss (`importWh`, `Import_Wh`, `duration`).
    func unknownFieldMessage(_ name: String, noun: String = "field") -> String {
        let known = fields.map(\.rawValue)
        let wanted = NameTable.loose(name)
        if let match = known.first(where: { candidate in
            let loose = NameTable.loose(candidate)
            return loose == wanted || (wanted.count >= 4 && (loose.hasPrefix(wanted) || wanted.hasPrefix(loose)))
        }) {
            return "unknown \(noun) \(MessageText.quoted(name)): did you mean \(match)?"
        }
        return "unknown \(noun) \(MessageText.quoted(name)); the \(noun)s are \(known.joined(separator: ", "))"
    }
}

/// Fixed names looked up by their UTF-8 bytes without building a `String`.
///
/// Each name is held as two words (its first and last 8 bytes, or 4 and 4, which
/// overlap for short names) in a slot picked by a hash of its length and first and last
/// bytes; a lookup is a hash, one slot load and two word compares. Names of 1...16
/// bytes take this path; others (and hash collisions) are compared one by one.
struct NameTable: Sendable {
    let names: [String]
    private struct Slot: Sendable {
        var head: UInt64 = 0
        var tail: UInt64 = 0
        var count = 0
        /// The name's position; -1 for an empty slot, -2 when names collide here.
        var index = -1
    }
    private let slots: [Slot]
    private static let slotMask = 63

    init(_ names: [String]) {
        self.names = names
        var slots = [Slot](repeating: Slot(), count: NameTable.slotMask + 1)
        for (i, name) in names.enumerated() {
            let utf8 = Array(name.utf8)
            guard (1...16).contains(utf8.count) else { continue }
            let slot = utf8.withUnsafeBytes { NameTable.slot(of: $0) }
            if slots[slot].index != -1 {
                slots[slot].index = -2
                continue
            }
            let (head, tail) = utf8.withUnsafeBytes { NameTable.words(of: $0) }
            slots[slot] = Slot(head: head, tail: tail, count: utf8.count, index: i)
        }
        self.slots = slots
    }

    @inline(__always)
    private static func slot(of bytes: UnsafeRawBufferPointer) -> Int {
        let count = bytes.count
        return (count &* 7 ^ Int(bytes[0]) &* 3 ^ Int(bytes[count &- 1]) &* 5) & slotMask
    }

    /// The first and last bytes of 1...16 bytes as two words.
    @inline(__always)
    private static func words(of bytes: UnsafeRawBufferPointer) -> (UInt64, UInt64) {
        let count = bytes.count
        if count >= 8 {
            return (bytes.loadUnaligned(as: UInt64.self), bytes.loadUnaligned(fromByteOffset: count &- 8, as: UInt64.self))
        }
        if count >= 4 {
            return (
                UInt64(bytes.loadUnaligned(as: UInt32.self)),
                UInt64(bytes.loadUnaligned(fromByteOffset: count &- 4, as: UInt32.self))
            )
        }
        var head: UInt64 = 0
        for k in 0..<count { head |= UInt64(bytes[k]) << (8 * UInt64(k)) }
        return (head, 0)
    }

    /// The position of the name spelled by `bytes`, or nil.
    @inline(__always)
    func index(of bytes: UnsafeRawBufferPointer) -> Int? {
        let count = bytes.count
        guard count >= 1 && count <= 16 else { return slowIndex(of: bytes) }
        let slot = slots[NameTable.slot(of: bytes)]
        if slot.index >= 0 {
            guard slot.count == count else { return nil }
            let (head, tail) = NameTable.words(of: bytes)
            return head == slot.head && tail == slot.tail ? slot.index : nil
        }
        return slot.index == -1 ? nil : slowIndex(of: bytes)
    }

    private func slowIndex(of bytes: UnsafeRawBufferPointer) -> Int? {
        names.firstIndex { $0.utf8.elementsEqual(bytes) }
    }

    /// A name folded for near-miss suggestions: lower case, without `_`, `-` or spaces.
    static func loose(_ name: String) -> String {
        String(name.lowercased().filter { $0 != "_" && $0 != "-" && $0 != " " })
    }
}

/// The allowed words of an enumerated field (`quality`, `class`).
struct Keywords<Value: RawRepresentable & CaseIterable & Sendable>: Sendable where Value.RawValue == String {
    let values: [Value]
    let names: NameTable

    init() {
        values = Array(Value.allCases)
        names = NameTable(values.map(\.rawValue))
    }

    /// The value spelled by `text`, or nil (case matters).
    func match(_ text: UnsafeRawBufferPointer) -> Value? {
        names.index(of: text).map { values[$0] }
    }

    /// `"actual" or "estimated"`, `one of "a", "b", "c"`.
    var choices: String {
        let quoted = names.names.map { MessageText.quoted($0) }
        if quoted.count == 2 { return "\(quoted[0]) or \(quoted[1])" }
        return "one of " + quoted.joined(separator: ", ")
    }
}
