import CarbonAccounting
import CarbonModel
import GRDB
import GRDBSQLite

/// The registry as accounting reads it: consumers and meters by their row ids.
struct AccountingRegistry {
    /// Every registered consumer, in row id order.
    var consumers: [Consumer] = []
    /// Consumer row id -> position in `consumers` (-1: no such row).
    var positionOfRow: [Int32] = []
    /// Meter row id -> (utility, meter).
    var meters: [(utility: String, meter: String)] = []

    static func load(db: some SQLConnection) throws -> AccountingRegistry {
        var registry = AccountingRegistry()
        try db.forEachRow("SELECT id, consumer, utility, zone, class, normalizer FROM consumers ORDER BY id", []) { row in
            let id: Int64 = row["id"]
            guard id >= 0, id < Int64(Int32.max) else { throw StoreError.corrupt("consumer row id \(id)") }
            if registry.positionOfRow.count <= Int(id) {
                registry.positionOfRow += Array(repeating: -1, count: Int(id) + 1 - registry.positionOfRow.count)
            }
            registry.positionOfRow[Int(id)] = Int32(registry.consumers.count)
            registry.consumers.append(try ConsumerRow.consumer(from: row))
        }
        try db.forEachRow("SELECT id, utility, meter FROM meters ORDER BY id", []) { row in
            let id: Int64 = row[0]
            guard id >= 0, id < Int64(Int32.max) else { throw StoreError.corrupt("meter row id \(id)") }
            while registry.meters.count <= Int(id) { registry.meters.append(("", "")) }
            registry.meters[Int(id)] = (row[1], row[2])
        }
        return registry
    }

    /// The position of a consumer row id, or nil.
    func position(ofRow id: Int64) -> Int? {
        guard id >= 0, id < Int64(positionOfRow.count), positionOfRow[Int(id)] >= 0 else { return nil }
        return Int(positionOfRow[Int(id)])
    }
}

/// One stored reading as a scan hands it on.
struct ScannedReading {
    /// The reading; its `id` is nil when `idUTF8` carries it.
    var reading: Reading
    /// The id's UTF-8 bytes straight from SQLite, valid during the callback only.
    var idUTF8: UnsafeRawBufferPointer?
    /// The consumer's position in the registry.
    var consumer: Int
    /// The meter's row id.
    var meter: Int
}

/// Streams stored readings with `start` in a range, in `(start, meter)` order per
/// consumer, as the method orders them.
///
/// The table is keyed `(start, meter id)`; meter ids follow registration, not the
/// meters' names. Readings go out in table order, which is the method's order unless
/// one consumer has meters whose ids and names sort differently at one instant: then
/// the scan throws `MetersOutOfOrder`, and the caller starts again with
/// `sortingEachInstant`, which holds each instant's readings and sorts them.
struct ReadingScan {
    let db: any SQLConnection
    let registry: AccountingRegistry
    /// Readings a statement fetches on an engine reached through SQL only.
    var page = 10_000

    /// Thrown when table order is not the method's order (see the type's comment).
    struct MetersOutOfOrder: Error {}

    /// Calls `body` with each reading of `[from, to)`, of one consumer only when
    /// `consumer` (a row id) is given.
    func forEach(
        from: Int64, to: Int64, consumer: Int64? = nil, sortingEachInstant: Bool = false,
        _ body: (ScannedReading) throws -> Void
    ) throws {
        // Per consumer: the start and meter of its latest reading.
        var lastStart = [Int64](repeating: .min, count: registry.consumers.count)
        var lastMeter = [Int](repeating: 0, count: registry.consumers.count)
        // With sortingEachInstant: the readings of the current instant.
        var group: [ScannedReading] = []
        var groupNeedsSort = false
        func flush() throws {
            if groupNeedsSort {
                group.sort { a, b in
                    a.consumer != b.consumer
                        ? a.consumer < b.consumer : a.reading.meter.utf8.lexicographicallyPrecedes(b.reading.meter.utf8)
                }
            }
            for scanned in group { try body(scanned) }
            group.removeAll(keepingCapacity: true)
            groupNeedsSort = false
        }
        /// One stored reading, in table order.
        func take(_ row: StoredRow) throws {
            let start = row.start
            let meterID = Int(truncatingIfNeeded: row.meter)
            let consumerID = row.consumer
            guard let position = registry.position(ofRow: consumerID) else {
                throw StoreError.corrupt("a reading at \(start) names consumer row \(consumerID), which is not registered")
            }
            guard meterID >= 0, meterID < registry.meters.count, !registry.meters[meterID].meter.isEmpty else {
                throw StoreError.corrupt("a reading at \(start) names meter row \(meterID), which is not registered")
            }
            guard let quality = QualityCode.quality(row.quality) else {
                throw StoreError.corrupt("the quality of the reading at \(start) of meter row \(meterID)")
            }
            let meter = registry.meters[meterID]
            if lastStart[position] == start {
                // A second meter of the consumer at this instant: table order may not be name order.
                let previous = registry.meters[lastMeter[position]].meter
                if !previous.utf8.lexicographicallyPrecedes(meter.meter.utf8) {
                    guard sortingEachInstant else { throw MetersOutOfOrder() }
                    groupNeedsSort = true
                }
            }
            lastStart[position] = start
            lastMeter[position] = meterID
            var reading = Reading(
                utility: meter.utility, meter: meter.meter, consumer: registry.consumers[position].id, start: start,
                durationS: row.durationS, importWh: row.importWh, exportWh: row.exportWh, quality: quality, id: nil)
            let idUTF8 = row.idUTF8
            guard sortingEachInstant else {
                try body(ScannedReading(reading: reading, idUTF8: idUTF8, consumer: position, meter: meterID))
                return
            }
            if let first = group.first, first.reading.start != start { try flush() }
            // The bytes die with the row: keep the id as a string.
            reading.id = idUTF8.map { String(decoding: $0, as: UTF8.self) }
            group.append(ScannedReading(reading: reading, idUTF8: nil, consumer: position, meter: meterID))
        }
        if let sqlite = db.sqliteDatabase {
            try Self.scan(sqlite, from: from, to: to, consumer: consumer, take)
        } else {
            try Self.scan(db, from: from, to: to, consumer: consumer, page: page, take)
        }
        try flush()
    }

    /// A stored reading's columns as a scan reads them; `idUTF8` is valid during the call only.
    struct StoredRow {
        var start: Int64
        var meter: Int64
        var consumer: Int64
        var durationS: Int64
        var importWh: Int64
        var exportWh: Int64
        var quality: Int64
        var idUTF8: UnsafeRawBufferPointer?
    }

    static let columns = "SELECT start, meter, consumer, duration_s, import_wh, export_wh, quality, ref FROM readings"

    /// SQLite's scan: one statement stepped through the C API, the id's bytes read in place.
    private static func scan(
        _ db: Database, from: Int64, to: Int64, consumer: Int64?, _ take: (StoredRow) throws -> Void
    ) throws {
        let statement = try db.makeStatement(
            sql: consumer == nil
                ? "\(columns) WHERE start >= ?1 AND start < ?2 ORDER BY start, meter"
                : "\(columns) WHERE start >= ?1 AND start < ?2 AND consumer = ?3 ORDER BY start, meter")
        let handle = statement.sqliteStatement
        sqlite3_bind_int64(handle, 1, from)
        sqlite3_bind_int64(handle, 2, to)
        if let consumer { sqlite3_bind_int64(handle, 3, consumer) }
        defer { sqlite3_reset(handle) }
        while true {
            let code = sqlite3_step(handle)
            guard code == SQLITE_ROW else {
                guard code == SQLITE_DONE else {
                    throw DatabaseError(resultCode: ResultCode(rawValue: code), message: db.lastErrorMessage)
                }
                return
            }
            var idUTF8: UnsafeRawBufferPointer? = nil
            if sqlite3_column_type(handle, 7) != SQLITE_NULL, let text = sqlite3_column_text(handle, 7) {
                idUTF8 = UnsafeRawBufferPointer(start: text, count: Int(sqlite3_column_bytes(handle, 7)))
            }
            try take(StoredRow(
                start: sqlite3_column_int64(handle, 0), meter: sqlite3_column_int64(handle, 1),
                consumer: sqlite3_column_int64(handle, 2), durationS: sqlite3_column_int64(handle, 3),
                importWh: sqlite3_column_int64(handle, 4), exportWh: sqlite3_column_int64(handle, 5),
                quality: sqlite3_column_int64(handle, 6), idUTF8: idUTF8))
        }
    }

    /// Any other engine's scan: `page` readings a statement, each page after the last
    /// `(start, meter)` key of the one before, so memory stays one page and every
    /// statement is a range of the key.
    private static func scan(
        _ db: any SQLConnection, from: Int64, to: Int64, consumer: Int64?, page: Int, _ take: (StoredRow) throws -> Void
    ) throws {
        var after: (start: Int64, meter: Int64) = (from, .min)
        let sql = "\(columns) WHERE (start, meter) > (?, ?) AND start < ?"
            + (consumer == nil ? "" : " AND consumer = ?") + " ORDER BY start, meter LIMIT \(page)"
        while true {
            var arguments = [after.start, after.meter, to]
            if let consumer { arguments.append(consumer) }
            var count = 0
            try db.forEachRow(sql, arguments.map(\.databaseValue)) { row in
                count += 1
                var stored = StoredRow(
                    start: row[0], meter: row[1], consumer: row[2], durationS: row[3], importWh: row[4], exportWh: row[5],
                    quality: row[6], idUTF8: nil)
                after = (stored.start, stored.meter)
                guard var id = row[7] as String? else { return try take(stored) }
                try id.withUTF8 { bytes in
                    stored.idUTF8 = UnsafeRawBufferPointer(bytes)
                    try take(stored)
                }
            }
            guard count == page else { return }
        }
    }
}
