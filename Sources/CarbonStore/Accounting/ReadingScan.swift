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

/// Streams stored readings with `start` in a range, in `(start, meter)` order per
/// consumer, as the method orders them, without holding more than one instant's
/// readings.
///
/// The table is keyed `(start, meter id)`; meter ids follow registration, not the
/// meters' names, so readings of one consumer sharing a start (several meters) are
/// put in name order before they are handed on.
struct ReadingScan {
    let db: Database
    let registry: AccountingRegistry

    /// Calls `body` with each reading of `[from, to)` and its consumer's position,
    /// of one consumer only when `consumer` (a row id) is given.
    func forEach(
        from: Int64, to: Int64, consumer: Int64? = nil, _ body: (Reading, Int) throws -> Void
    ) throws {
        let statement = try db.makeStatement(sql: """
            SELECT start, meter, consumer, duration_s, import_wh, export_wh, quality, ref FROM readings
            WHERE start >= ?1 AND start < ?2 AND (?3 IS NULL OR consumer = ?3) ORDER BY start, meter
            """)
        let handle = statement.sqliteStatement
        sqlite3_bind_int64(handle, 1, from)
        sqlite3_bind_int64(handle, 2, to)
        if let consumer { sqlite3_bind_int64(handle, 3, consumer) } else { sqlite3_bind_null(handle, 3) }
        defer { sqlite3_reset(handle) }

        // Readings of the current instant; a consumer seen twice in it needs sorting.
        var group: [(reading: Reading, consumer: Int)] = []
        var seenAt = [Int64](repeating: .min, count: registry.consumers.count)
        var needsSort = false
        func flush() throws {
            if needsSort {
                group.sort { a, b in
                    a.consumer != b.consumer
                        ? a.consumer < b.consumer : a.reading.meter.utf8.lexicographicallyPrecedes(b.reading.meter.utf8)
                }
            }
            for (reading, consumer) in group { try body(reading, consumer) }
            group.removeAll(keepingCapacity: true)
            needsSort = false
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
            let meterID = sqlite3_column_int64(handle, 1)
            let consumerID = sqlite3_column_int64(handle, 2)
            guard let position = registry.position(ofRow: consumerID) else {
                throw StoreError.corrupt("a reading at \(start) names consumer row \(consumerID), which is not registered")
            }
            guard meterID >= 0, meterID < Int64(registry.meters.count), !registry.meters[Int(meterID)].meter.isEmpty
            else { throw StoreError.corrupt("a reading at \(start) names meter row \(meterID), which is not registered") }
            guard let quality = QualityCode.quality(sqlite3_column_int64(handle, 6)) else {
                throw StoreError.corrupt("the quality of the reading at \(start) of meter row \(meterID)")
            }
            let ref: String? =
                sqlite3_column_type(handle, 7) == SQLITE_NULL
                ? nil : String(cString: sqlite3_column_text(handle, 7))
            let meter = registry.meters[Int(meterID)]
            let reading = Reading(
                utility: meter.utility, meter: meter.meter, consumer: registry.consumers[position].id, start: start,
                durationS: sqlite3_column_int64(handle, 3), importWh: sqlite3_column_int64(handle, 4),
                exportWh: sqlite3_column_int64(handle, 5), quality: quality, id: ref)
            if let first = group.first, first.reading.start != start { try flush() }
            if seenAt[position] == start { needsSort = true }
            seenAt[position] = start
            group.append((reading, position))
        }
        try flush()
    }
}
