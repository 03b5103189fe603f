import CarbonLedger
import CarbonModel
import GRDB

/// The leaves a `readings` or `corrections` entry committed to, as the store keeps
/// them: each reading version in `readings` while it is in force, in
/// `superseded_readings` once a correction replaced it; a correction's reason and the
/// version it replaced in `corrections`. Proofs and exports of any batch, old or new,
/// rebuild its leaves from here.
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
    static func versions(ofBatch entry: Int64, db: Database) throws -> [Version] {
        guard let span = try Row.fetchOne(
            db.cachedStatement(sql: "SELECT first_start, last_start, count FROM reading_batches WHERE entry = ?"), arguments: [entry])
        else { throw StoreError.corrupt("entry \(entry) has no batch record") }
        return try versions(
            ofBatch: entry, positions: 0..<(span["count"] as Int),
            keys: ((span["first_start"], 0), (span["last_start"], Int64.max)), db: db)
    }

    /// The leaves at `positions` of entry `entry`, in batch order: the versions in force
    /// are looked for between two `(start, meter id)` keys of the readings table, the
    /// replaced ones by their place.
    static func versions(
        ofBatch entry: Int64, positions: Range<Int>, keys: (first: (Int64, Int64), last: (Int64, Int64)), db: Database
    ) throws -> [Version] {
        var slots = [Version?](repeating: nil, count: positions.count)
        func fill(_ sql: String, _ arguments: StatementArguments) throws {
            let cursor = try Row.fetchCursor(db.cachedStatement(sql: sql), arguments: arguments)
            while let row = try cursor.next() {
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
            [keys.first.0, keys.first.1, keys.last.0, keys.last.1, entry, positions.lowerBound, positions.upperBound])
        if slots.contains(where: { $0 == nil }) {
            try fill(
                """
                SELECT s.position, m.utility, m.meter, c.consumer, s.start, s.duration_s, s.import_wh, s.export_wh,
                    s.quality, s.ref
                FROM superseded_readings s JOIN meters m ON m.id = s.meter JOIN consumers c ON c.id = s.consumer
                WHERE s.entry = ? AND s.position >= ? AND s.position < ?
                """,
                [entry, positions.lowerBound, positions.upperBound])
        }
        var versions = slots.compactMap { $0 }
        guard versions.count == positions.count else {
            throw StoreError.corrupt("entry \(entry) covers readings \(positions) but \(versions.count) of them are stored")
        }
        let corrections = try Row.fetchCursor(
            db.cachedStatement(sql: """
                SELECT position, reason, replaces_entry, replaces_position FROM corrections
                WHERE entry = ? AND position >= ? AND position < ?
                """),
            arguments: [entry, positions.lowerBound, positions.upperBound])
        while let row = try corrections.next() {
            let position: Int = row[0]
            let replaces = ReadingVersion(entry: UInt64(row[2] as Int64), position: row[3])
            versions[position - positions.lowerBound].correction = (row[1], replaces)
        }
        return versions
    }
}
