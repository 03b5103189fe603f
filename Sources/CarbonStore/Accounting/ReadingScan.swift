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

    static func load(db: Database) throws -> AccountingRegistry {
        var registry = AccountingRegistry()
        let rows = try Row.fetchCursor(
            db, sql: "SELECT id, consumer, utility, zone, class, normalizer FROM consumers ORDER BY id")
        while let row = try rows.next() {
            let id: Int64 = row["id"]
            guard id >= 0, id < Int64(Int32.max) else { throw StoreError.corrupt("consumer row id \(id)") }
            if registry.positionOfRow.count <= Int(id) {
                registry.positionOfRow += Array(repeating: -1, count: Int(id) + 1 - registry.positionOfRow.count)
            }
            registry.positionOfRow[Int(id)] = Int32(registry.consumers.count)
            registry.consumers.append(try ConsumerRow.consumer(from: row))
        }
        let meters = try Row.fetchCursor(db, sql: "SELECT id, utility, meter FROM meters ORDER BY id")
        while let row = try meters.next() {
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
    let db: Database
    let registry: AccountingRegistry

    /// Thrown when table order is not the method's order (see the type's comment).
    struct MetersOutOfOrder: Error {}

    /// Calls `body` with each reading of `[from, to)`, of one consumer only when
    /// `consumer` (a row id) is given.
    func forEach(
        from: Int64, to: Int64, consumer: Int64? = nil, sortingEachInstant: Bool = false,
        _ body: (ScannedReading) throws -> Void
    ) throws {
        let columns = "SELECT start, meter, consumer, duration_s, import_wh, export_wh, quality, ref FROM readings"
        let statement = try db.makeStatement(
            sql: consumer == nil
                ? "\(columns) WHERE start >= ?1 AND start < ?2 ORDER BY start, meter"
                : "\(columns) WHERE start >= ?1 AND start < ?2 AND consumer = ?3 ORDER BY start, meter")
        let handle = statement.sqliteStatement
        sqlite3_bind_int64(handle, 1, from)
        sqlite3_bind_int64(handle, 2, to)
        if let consumer { sqlite3_bind_int64(handle, 3, consumer) }
        defer { sqlite3_reset(handle) }

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
        while true {
            let code = sqlite3_step(handle)
            guard code == SQLITE_ROW else {
                guard code == SQLITE_DONE else {
                    throw DatabaseError(resultCode: ResultCode(rawValue: code), message: db.lastErrorMessage)
                }
                break
            }
            let start = sqlite3_column_int64(handle, 0)
            let meterID = Int(truncatingIfNeeded: sqlite3_column_int64(handle, 1))
            let consumerID = sqlite3_column_int64(handle, 2)
            guard let position = registry.position(ofRow: consumerID) else {
                throw StoreError.corrupt("a reading at \(start) names consumer row \(consumerID), which is not registered")
            }
            guard meterID >= 0, meterID < registry.meters.count, !registry.meters[meterID].meter.isEmpty else {
                throw StoreError.corrupt("a reading at \(start) names meter row \(meterID), which is not registered")
            }
            guard let quality = QualityCode.quality(sqlite3_column_int64(handle, 6)) else {
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
                durationS: sqlite3_column_int64(handle, 3), importWh: sqlite3_column_int64(handle, 4),
                exportWh: sqlite3_column_int64(handle, 5), quality: quality, id: nil)
            var idUTF8: UnsafeRawBufferPointer? = nil
            if sqlite3_column_type(handle, 7) != SQLITE_NULL, let text = sqlite3_column_text(handle, 7) {
                idUTF8 = UnsafeRawBufferPointer(start: text, count: Int(sqlite3_column_bytes(handle, 7)))
            }
            guard sortingEachInstant else {
                try body(ScannedReading(reading: reading, idUTF8: idUTF8, consumer: position, meter: meterID))
                continue
            }
            if let first = group.first, first.reading.start != start { try flush() }
            // The bytes die with the row: keep the id as a string.
            reading.id = idUTF8.map { String(decoding: $0, as: UTF8.self) }
            group.append(ScannedReading(reading: reading, idUTF8: nil, consumer: position, meter: meterID))
        }
        try flush()
    }
}
