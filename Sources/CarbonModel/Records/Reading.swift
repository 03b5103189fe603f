/// One interval of a meter as its utility reports it: the energy imported from and
/// exported to the grid over `[start, end)`.
///
/// A reading is identified by `(utility, meter, start)` (see `key`); `id` is the
/// utility's own reference, kept and echoed. Values from `ReadingParser` obey the
/// rules documented there; the memberwise initializer checks nothing.
public struct Reading: Sendable, Equatable, Hashable {
    /// The utility that sent the reading.
    public var utility: String
    /// The meter, unique within its utility.
    public var meter: String
    /// The consumer the meter belongs to.
    public var consumer: String
    /// Start of the interval, Unix seconds.
    public var start: Int64
    /// Length of the interval in seconds.
    public var durationS: Int64
    /// Energy taken from the grid over the interval, Wh.
    public var importWh: Int64
    /// Energy fed into the grid over the interval, Wh.
    public var exportWh: Int64
    /// Whether the figures were metered or estimated.
    public var quality: Quality
    /// The utility's own reference, if it gave one.
    public var id: String?

    /// A reading with the given fields.
    public init(
        utility: String, meter: String, consumer: String, start: Int64, durationS: Int64,
        importWh: Int64, exportWh: Int64 = 0, quality: Quality = .actual, id: String? = nil
    ) {
        self.utility = utility
        self.meter = meter
        self.consumer = consumer
        self.start = start
        self.durationS = durationS
        self.importWh = importWh
        self.exportWh = exportWh
        self.quality = quality
        self.id = id
    }

    /// End of the interval (exclusive), Unix seconds.
    public var end: Int64 { start + durationS }

    /// What identifies the reading.
    public var key: ReadingKey { ReadingKey(utility: utility, meter: meter, start: start) }

    /// The reading leaf (ledger.md section 1): the canonical JSON of
    /// `{"consumer","duration_s","export_wh","id","import_wh","meter","quality","start","utility"}`,
    /// `id` null when absent.
    public var leafBytes: [UInt8] {
        [UInt8](unsafeUninitializedCapacity: leafCapacity) { buffer, initialized in
            guard let base = buffer.baseAddress else { return }
            var cursor = ByteCursor(base)
            writeLeaf(to: &cursor)
            initialized = cursor.count
        }
    }

    /// Appends the reading leaf to `bytes`. Written directly in its fixed key order
    /// with one append (this runs once per ingested reading); equal to `json.canonicalBytes()`.
    public func writeLeaf(into bytes: inout [UInt8]) {
        JSONText.withWritten(maximumCount: leafCapacity, to: &bytes) { writeLeaf(to: &$0) }
    }

    /// Appends the leaf of a reading whose `id` is left nil and given here as UTF-8 bytes
    /// instead (nil: `null`), for callers that read ids straight from storage.
    public func writeLeaf(into bytes: inout [UInt8], idUTF8: UnsafeRawBufferPointer?) {
        precondition(id == nil, "the id is given twice")
        let capacity = leafCapacity + ByteCursor.maximumStringBytes(idUTF8?.count ?? 0)
        JSONText.withWritten(maximumCount: capacity, to: &bytes) { writeLeaf(to: &$0, idUTF8: idUTF8) }
    }

    /// Appends the leaf of this reading as a correction of the version at `replaces`
    /// (entry index, position in its batch): the reading leaf's fields plus `reason`,
    /// `replaces_entry` and `replaces_position`, in canonical order.
    public func writeCorrectionLeaf(into bytes: inout [UInt8], reason: String, replaces: (entry: Int64, position: Int64)) {
        let capacity = leafCapacity + 64 + 2 * ByteCursor.maximumIntBytes + ByteCursor.maximumStringBytes(reason.utf8.count)
        JSONText.withWritten(maximumCount: capacity, to: &bytes) {
            writeLeaf(to: &$0, correction: (reason, replaces.entry, replaces.position))
        }
    }

    /// Room the leaf can take: the keys and punctuation (under 128 bytes), four integers
    /// and four strings at their longest escaped.
    private var leafCapacity: Int {
        128 + 4 * ByteCursor.maximumIntBytes
            + ByteCursor.maximumStringBytes(consumer.utf8.count + meter.utf8.count + utility.utf8.count + (id?.utf8.count ?? 0))
    }

    private func writeLeaf(
        to cursor: inout ByteCursor, idUTF8: UnsafeRawBufferPointer? = nil,
        correction: (reason: String, entry: Int64, position: Int64)? = nil
    ) {
        cursor.literal("{\"consumer\":")
        cursor.string(consumer)
        cursor.literal(",\"duration_s\":")
        cursor.int(durationS)
        cursor.literal(",\"export_wh\":")
        cursor.int(exportWh)
        cursor.literal(",\"id\":")
        if let id {
            cursor.string(id)
        } else if let idUTF8 {
            cursor.string(utf8: idUTF8)
        } else {
            cursor.literal("null")
        }
        cursor.literal(",\"import_wh\":")
        cursor.int(importWh)
        cursor.literal(",\"meter\":")
        cursor.string(meter)
        cursor.literal(quality == .actual ? ",\"quality\":\"actual\"" : ",\"quality\":\"estimated\"")
        if let correction {
            cursor.literal(",\"reason\":")
            cursor.string(correction.reason)
            cursor.literal(",\"replaces_entry\":")
            cursor.int(correction.entry)
            cursor.literal(",\"replaces_position\":")
            cursor.int(correction.position)
        }
        cursor.literal(",\"start\":")
        cursor.int(start)
        cursor.literal(",\"utility\":")
        cursor.string(utility)
        cursor.byte(UInt8(ascii: "}"))
    }

    /// The reading as a JSON object with the interface's field names.
    public var json: JSONValue {
        .object([
            "consumer": .string(consumer), "duration_s": .int(durationS), "export_wh": .int(exportWh),
            "id": id.map(JSONValue.string) ?? .null, "import_wh": .int(importWh), "meter": .string(meter),
            "quality": .string(quality.rawValue), "start": .int(start), "utility": .string(utility),
        ])
    }
}

/// What identifies a reading: a meter-data system's `(utility, meter, start)`.
public struct ReadingKey: Sendable, Equatable, Hashable {
    /// The utility that sent the reading.
    public var utility: String
    /// The meter, unique within its utility.
    public var meter: String
    /// Start of the interval, Unix seconds.
    public var start: Int64

    /// The key of the reading of `meter` starting at `start`.
    public init(utility: String, meter: String, start: Int64) {
        self.utility = utility
        self.meter = meter
        self.start = start
    }
}

/// Whether a reading's figures were metered or estimated.
public enum Quality: String, Sendable, CaseIterable, Hashable {
    /// Metered.
    case actual
    /// Estimated by the utility (a gap filled, a meter not read).
    case estimated
}
