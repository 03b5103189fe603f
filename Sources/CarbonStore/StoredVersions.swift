import CarbonLedger
import CarbonModel
import GRDB

/// The leaves a `readings` or `corrections` entry committed to, as the store keeps
/// them: each reading version in `readings` while it is in force, in the records of
/// the `corrections` entry that replaced it once one did (`CorrectionChunks`), which
/// also hold each correction's reason and the version it replaced. Proofs and exports
/// of any batch, old or new, rebuild its leaves from here.
enum StoredVersions {
    /// One leaf of a batch: the reading, and for a correction what it says beside it.
    struct Version {
        var reading: Reading
        var correction: (reason: String, replaces: ReadingVersion)?

        /// The leaf bytes the entry's root is over.
        var leafBytes: [UInt8] {
            guard let correction else { return reading.leafBytes }
            return CorrectionLeaf(reading: reading, reason: correction.reason, replaces: correction.replaces).leafBytes
        }
    }

    /// Every leaf of entry `entry`, in batch order.
    static func versions(ofBatch entry: Int64, db: some SQLConnection) throws -> [Version] {
        guard let span = try db.row("SELECT first_start, last_start, count FROM reading_batches WHERE entry = ?", entry)
        else { throw StoreError.corrupt("entry \(entry) has no batch record") }
        return try versions(
            ofBatch: entry, positions: 0..<(span["count"] as Int),
            keys: ((span["first_start"], 0), (span["last_start"], Int64.max)), db: db)
    }

    /// The leaves at `positions` of entry `entry`, in batch order: the versions in force
    /// are looked for between two `(start, meter id)` keys of the readings table, the
    /// replaced ones by their place.
    static func versions(
        ofBatch entry: Int64, positions: Range<Int>, keys: (first: (Int64, Int64), last: (Int64, Int64)), db: some SQLConnection
    ) throws -> [Version] {
        var slots = [Version?](repeating: nil, count: positions.count)
        func fill(_ sql: String, _ arguments: [Int64]) throws {
            try db.forEachRow(sql, arguments.map(\.databaseValue)) { row in
                let position: Int = row[0]
                let slot = position - positions.lowerBound
                guard let quality = QualityCode.quality(row[8]), slots.indices.contains(slot), slots[slot] == nil else {
                    throw StoreError.corrupt("reading at position \(position) of entry \(entry)")
                }
                slots[slot] = Version(
                    reading: Reading(
                        utility: row[1], meter: row[2], consumer: row[3], start: row[4], durationS: row[5],
                        importWh: row[6], exportWh: row[7], quality: quality, id: row[9]))
            }
        }
        try fill(
            """
            SELECT r.position, m.utility, m.meter, c.consumer, r.start, r.duration_s, r.import_wh, r.export_wh,
                r.quality, r.ref
            FROM readings r JOIN meters m ON m.id = r.meter JOIN consumers c ON c.id = r.consumer
            WHERE (r.start, r.meter) >= (?, ?) AND (r.start, r.meter) <= (?, ?) AND r.batch = ?
                AND r.position >= ? AND r.position < ?
            """,
            [keys.first.0, keys.first.1, keys.last.0, keys.last.1, entry, Int64(positions.lowerBound), Int64(positions.upperBound)])
        if slots.contains(where: { $0 == nil }) {
            let replaced = try CorrectionChunks.replacedVersions(ofBatch: entry, positions: positions, db: db)
            var names = Names(db: db)
            for (position, old) in replaced where slots[position - positions.lowerBound] == nil {
                guard let quality = QualityCode.quality(old.quality) else {
                    throw StoreError.corrupt("replaced reading at position \(position) of entry \(entry)")
                }
                let (utility, meter) = try names.meter(old.meter)
                slots[position - positions.lowerBound] = Version(
                    reading: Reading(
                        utility: utility, meter: meter, consumer: try names.consumer(old.consumerRow), start: old.start,
                        durationS: old.durationS, importWh: old.importWh, exportWh: old.exportWh, quality: quality,
                        id: old.ref))
            }
        }
        var versions = slots.compactMap { $0 }
        guard versions.count == positions.count else {
            throw StoreError.corrupt("entry \(entry) covers readings \(positions) but \(versions.count) of them are stored")
        }
        for (position, record) in try CorrectionChunks.records(ofEntry: entry, positions: positions, db: db) {
            versions[position - positions.lowerBound].correction = (record.reason, record.replaces)
        }
        return versions
    }
}

/// Meter and consumer names by row id, looked up once each.
private struct Names<Connection: SQLConnection> {
    let db: Connection
    private var meters: [Int64: (String, String)] = [:]
    private var consumers: [Int64: String] = [:]

    init(db: Connection) { self.db = db }

    mutating func meter(_ id: Int64) throws -> (utility: String, meter: String) {
        if let known = meters[id] { return known }
        guard let row = try db.row("SELECT utility, meter FROM meters WHERE id = ?", id)
        else { throw StoreError.corrupt("meter id \(id) is not registered") }
        meters[id] = (row[0], row[1])
        return (row[0], row[1])
    }

    mutating func consumer(_ id: Int64) throws -> String {
        if let known = consumers[id] { return known }
        guard let name = try db.value("SELECT consumer FROM consumers WHERE id = ?", id, as: String.self)
        else { throw StoreError.corrupt("consumer row \(id) is not registered") }
        consumers[id] = name
        return name
    }
}
