/// A grid zone of the zone tree (`CN-ZJ` -> `CN-EAST` -> `CN`).
public struct Zone: Sendable, Equatable, Hashable {
    /// The zone's id, e.g. `CN-ZJ`.
    public var zone: String
    /// The enclosing zone, or nil for a root.
    public var parent: String?
    /// A human-readable name.
    public var name: String

    public init(zone: String, parent: String?, name: String) {
        self.zone = zone
        self.parent = parent
        self.name = name
    }

    /// The zone leaf of the ledger: canonical `{"name","parent","zone"}`.
    public var leafBytes: [UInt8] {
        JSONValue.object([
            "name": .string(name),
            "parent": parent.map(JSONValue.string) ?? .null,
            "zone": .string(zone),
        ]).canonicalBytes()
    }
}

/// The zone tree: every zone with its parent, checked to be a forest.
public struct ZoneTree: Sendable, Equatable {
    /// Zones ordered by id (the order of the `zones` ledger entry's leaves).
    public let zones: [Zone]
    private let byID: [String: Zone]

    /// Builds the tree, rejecting duplicate ids, unknown parents and cycles.
    public init(_ zones: [Zone]) throws(ZoneTreeError) {
        var byID: [String: Zone] = [:]
        for (row, zone) in zones.enumerated() {
            guard byID.updateValue(zone, forKey: zone.zone) == nil else {
                throw ZoneTreeError(row: row, message: "zone \"\(zone.zone)\" is listed twice")
            }
        }
        for (row, zone) in zones.enumerated() {
            var seen: Set<String> = [zone.zone]
            var cursor = zone.parent
            while let parent = cursor {
                guard let next = byID[parent] else {
                    throw ZoneTreeError(row: row, message: "zone \"\(zone.zone)\" names unknown parent \"\(parent)\"")
                }
                guard seen.insert(parent).inserted else {
                    throw ZoneTreeError(row: row, message: "zone \"\(zone.zone)\" is its own ancestor")
                }
                cursor = next.parent
            }
        }
        self.zones = zones.sorted { $0.zone.utf8.lexicographicallyPrecedes($1.zone.utf8) }
        self.byID = byID
    }

    /// Whether the tree knows this zone.
    public func contains(_ zone: String) -> Bool { byID[zone] != nil }

    /// The zone and its ancestors, nearest first.
    public func chain(from zone: String) -> [String] {
        var chain: [String] = []
        var cursor: String? = zone
        while let id = cursor, let node = byID[id] {
            chain.append(id)
            cursor = node.parent
        }
        return chain
    }

    /// Parses the zone CSV (`zone,parent,name`; empty parent for a root).
    public static func parseCSV(_ text: String) throws(ZoneTreeError) -> ZoneTree {
        var lines = text.split(omittingEmptySubsequences: true) { $0 == "\n" || $0 == "\r\n" }
        guard let header = lines.first else { throw ZoneTreeError(row: -1, message: "the zone file is empty") }
        guard header.split(separator: ",", omittingEmptySubsequences: false).map(String.init) == ["zone", "parent", "name"]
        else {
            throw ZoneTreeError(row: -1, message: "the zone file's header must be zone,parent,name")
        }
        lines.removeFirst()
        var zones: [Zone] = []
        for (row, line) in lines.enumerated() {
            let cells = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            guard cells.count == 3, !cells[0].isEmpty, !line.contains("\"") else {
                throw ZoneTreeError(row: row, message: "expected three unquoted cells zone,parent,name")
            }
            // Zone ids are names like consumer ids: one spelling each (they key the tree).
            for (field, id) in [("zone", cells[0]), ("parent", cells[1])] where !id.isEmpty {
                if let problem = Identifier.nameProblem(id) { throw ZoneTreeError(row: row, message: "\(field) \(problem)") }
            }
            zones.append(Zone(zone: cells[0], parent: cells[1].isEmpty ? nil : cells[1], name: cells[2]))
        }
        return try ZoneTree(zones)
    }
}

/// A problem with the zone tree; `row` is 0-based after the header (-1: the file as a whole).
public struct ZoneTreeError: Error, Sendable, Equatable, CustomStringConvertible {
    public var row: Int
    public var message: String
    public var description: String { row < 0 ? "zones: \(message)" : "zones row \(row): \(message)" }
}
