import CarbonModel
import TransparencyLog

/// A list an entry records item by item, or, when that would take more than its
/// budget of bytes, by the RFC 6962 root over its items' leaves (each item's
/// canonical JSON) and their count: `<name>` or `<name>_root` and `<name>_count`
/// (ledger.md section 1), so that every entry fits the 65,535 bytes of a tile.
public enum RecordedList<Item: Sendable & Equatable>: Sendable, Equatable {
    case items([Item])
    case root(Hash256, count: Int)

    /// `items` in full when their JSON takes at most `budget` bytes, else their root.
    init(_ items: [Item], budget: Int, json: (Item) -> JSONValue) {
        let leaves = items.map { json($0).canonicalBytes() }
        guard leaves.reduce(0, { $0 + $1.count + 1 }) > budget else {
            self = .items(items)
            return
        }
        self = .root(RFC6962.rootHash(ofLeafHashes: leaves.map { RFC6962.leafHash($0) }), count: items.count)
    }

    /// The entry fields that record the list under `name`.
    func fields(_ name: String, json: (Item) -> JSONValue) -> [String: JSONValue] {
        switch self {
        case .items(let items): [name: .array(items.map(json))]
        case .root(let root, let count): [name + "_root": .string(root.base64), name + "_count": .int(Int64(count))]
        }
    }

    /// The list recorded under `name` in `fields`, in either form.
    static func decode(
        _ name: String, from fields: EntryFields, item: (JSONValue) throws(LedgerEntryError) -> Item
    ) throws(LedgerEntryError) -> RecordedList {
        if fields.has(name) {
            var items: [Item] = []
            for value in try fields.array(name) { items.append(try item(value)) }
            return .items(items)
        }
        let count = try fields.int(name + "_count")
        guard count >= 0, let exact = Int(exactly: count) else { throw fields.error(name + "_count", "must not be negative") }
        return .root(try fields.hash(name + "_root"), count: exact)
    }
}
