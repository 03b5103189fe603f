import CarbonModel

/// Where one version of a reading is in the ledger: the index of the `readings` or
/// `corrections` entry of its batch, and its 0-based position in that batch.
public struct ReadingVersion: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var entry: UInt64
    public var position: Int

    public init(entry: UInt64, position: Int) {
        self.entry = entry
        self.position = position
    }

    public static func < (a: Self, b: Self) -> Bool { (a.entry, a.position) < (b.entry, b.position) }

    /// `entry 12 position 3`.
    public var description: String { "entry \(entry) position \(position)" }
}

/// A leaf of a `corrections` entry: the reading as it stands from then on, why it
/// changed, and the version it replaces. Its canonical JSON is the reading leaf's
/// fields plus `reason`, `replaces_entry` and `replaces_position`:
/// `{"consumer","duration_s","export_wh","id","import_wh","meter","quality","reason","replaces_entry","replaces_position","start","utility"}`.
public struct CorrectionLeaf: Sendable, Equatable {
    public var reading: Reading
    public var reason: String
    public var replaces: ReadingVersion

    public init(reading: Reading, reason: String, replaces: ReadingVersion) {
        self.reading = reading
        self.reason = reason
        self.replaces = replaces
    }

    /// The leaf's canonical JSON.
    public var leafBytes: [UInt8] {
        var bytes: [UInt8] = []
        writeLeaf(into: &bytes)
        return bytes
    }

    /// Appends the leaf's canonical JSON to `bytes`.
    public func writeLeaf(into bytes: inout [UInt8]) {
        reading.writeCorrectionLeaf(
            into: &bytes, reason: reason, replaces: (Int64(replaces.entry), Int64(replaces.position)))
    }

    /// Reads a leaf back from its fields; nil when one is missing or malformed.
    public init?(fields: [String: JSONValue]) {
        guard let reading = Reading(leafFields: fields), let reason = fields["reason"]?.stringValue,
            let entry = fields["replaces_entry"]?.intValue, entry >= 0,
            let position = fields["replaces_position"]?.intValue, let position = Int(exactly: position), position >= 0,
            fields.count == 12
        else { return nil }
        self.init(reading: reading, reason: reason, replaces: ReadingVersion(entry: UInt64(entry), position: position))
    }
}

extension Reading {
    /// Reads a reading leaf's fields (ledger.md section 1) back; nil when one is
    /// missing or malformed. Extra fields (a correction leaf's) are left to the caller.
    public init?(leafFields r: [String: JSONValue]) {
        guard let utility = r["utility"]?.stringValue, let meter = r["meter"]?.stringValue,
            let consumer = r["consumer"]?.stringValue, let start = r["start"]?.intValue,
            let duration = r["duration_s"]?.intValue, let importWh = r["import_wh"]?.intValue,
            let exportWh = r["export_wh"]?.intValue,
            let quality = r["quality"]?.stringValue.flatMap(Quality.init(rawValue:)), let id = r["id"],
            id.isNull || id.stringValue != nil
        else { return nil }
        self.init(
            utility: utility, meter: meter, consumer: consumer, start: start, durationS: duration, importWh: importWh,
            exportWh: exportWh, quality: quality, id: id.stringValue)
    }
}
