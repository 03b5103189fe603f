import CarbonModel
import GRDB
import GRDBSQLite

/// One consumer's readings that start in one UTC hour, summed: a row of
/// `consumer_hours`, the consumer-major read structure kept at ingest.
///
/// The sums stand exactly for the readings when every one of them ends within the
/// hour (`irregular` counts those that do not, and sums that would leave Int64) and
/// nothing the method cuts at falls inside the hour: then the readings of the hour
/// are one piece each in the same factor segment and see the same certificates, so
/// their emissions and matched energy are those of one reading of the summed energy
/// (methodology sections 4 and 5). `ConsumerReadingFeed` checks the rest.
struct HourSums: Sendable, Equatable {
    var readings: Int64 = 0
    /// Import of readings of quality `actual`.
    var actualWh: Int64 = 0
    /// Import of readings of quality `estimated`.
    var estimatedWh: Int64 = 0
    var exportWh: Int64 = 0
    /// Readings the sums cannot stand for.
    var irregular: Int64 = 0

    /// The UTC hour `start` falls in.
    static func hour(of start: Int64) -> Int64 {
        start - ((start % 3_600) + 3_600) % 3_600
    }

    /// Adds a reading of this hour; one that runs past it, or would take a sum beyond
    /// Int64, is only counted as irregular.
    mutating func add(_ reading: Reading) {
        readings += 1
        let hourEnd = Self.hour(of: reading.start) + 3_600
        let (actual, o1) = actualWh.addingReportingOverflow(reading.quality == .actual ? reading.importWh : 0)
        let (estimated, o2) = estimatedWh.addingReportingOverflow(reading.quality == .estimated ? reading.importWh : 0)
        let (export, o3) = exportWh.addingReportingOverflow(reading.exportWh)
        guard reading.end <= hourEnd, !(o1 || o2 || o3) else {
            irregular += 1
            return
        }
        (actualWh, estimatedWh, exportWh) = (actual, estimated, export)
    }
}

/// The hour sums of one batch, written into `consumer_hours` in the batch's transaction.
struct ConsumerHoursBatch {
    private struct Key: Hashable, Comparable {
        var hour: Int64
        var consumer: Int64
        static func < (a: Key, b: Key) -> Bool { (a.hour, a.consumer) < (b.hour, b.consumer) }
    }
    private var sums: [Key: HourSums] = [:]

    init(capacity: Int = 0) { sums.reserveCapacity(capacity) }

    mutating func add(_ reading: Reading, consumerRow: Int64) {
        sums[Key(hour: HourSums.hour(of: reading.start), consumer: consumerRow), default: HourSums()].add(reading)
    }

    /// Adds the sums to the stored rows, in key order (a head-end's batch appends at
    /// the table's right edge). SQLite turns an integer sum that overflows into a real:
    /// readers treat such a row as irregular.
    func write(db: Database) throws {
        let statement = try db.cachedStatement(sql: """
            INSERT INTO consumer_hours(hour, consumer, readings, actual_wh, estimated_wh, export_wh, irregular)
            VALUES (?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT(hour, consumer) DO UPDATE SET
                readings = readings + excluded.readings, actual_wh = actual_wh + excluded.actual_wh,
                estimated_wh = estimated_wh + excluded.estimated_wh, export_wh = export_wh + excluded.export_wh,
                irregular = irregular + excluded.irregular
            """)
        let handle = statement.sqliteStatement
        for key in sums.keys.sorted() {
            let s = sums[key]!
            for (column, value) in [key.hour, key.consumer, s.readings, s.actualWh, s.estimatedWh, s.exportWh, s.irregular]
                .enumerated()
            {
                sqlite3_bind_int64(handle, Int32(column + 1), value)
            }
            let code = sqlite3_step(handle)
            sqlite3_reset(handle)
            guard code == SQLITE_DONE else {
                throw DatabaseError(resultCode: ResultCode(rawValue: code), message: db.lastErrorMessage)
            }
        }
    }

    /// Builds every row from the stored readings (the migration that adds the table).
    static func rebuild(db: Database) throws {
        try db.execute(sql: "DELETE FROM consumer_hours")
        var batch = ConsumerHoursBatch()
        let rows = try Row.fetchCursor(
            db, sql: "SELECT start, consumer, duration_s, import_wh, export_wh, quality FROM readings ORDER BY start")
        var hour = Int64.min
        while let row = try rows.next() {
            let start: Int64 = row[0]
            // Written an hour at a time, so memory stays one hour of consumers.
            if HourSums.hour(of: start) != hour {
                try batch.write(db: db)
                batch = ConsumerHoursBatch()
                hour = HourSums.hour(of: start)
            }
            let reading = Reading(
                utility: "", meter: "", consumer: "", start: start, durationS: row[2], importWh: row[3],
                exportWh: row[4], quality: QualityCode.quality(row[5]) ?? .actual, id: nil)
            batch.add(reading, consumerRow: row[1])
        }
        try batch.write(db: db)
    }
}

extension HourSums {
    /// The stored sums of one consumer for every hour of `[from, to)` that has any,
    /// one indexed read per hour; nil when a row holds a sum that overflowed.
    static func stored(consumerRow: Int64, from: Int64, to: Int64, db: Database) throws -> [(hour: Int64, sums: HourSums)]? {
        let statement = try db.cachedStatement(sql: """
            SELECT readings, actual_wh, estimated_wh, export_wh, irregular FROM consumer_hours
            WHERE hour = ? AND consumer = ?
            """)
        let handle = statement.sqliteStatement
        sqlite3_bind_int64(handle, 2, consumerRow)
        var found: [(hour: Int64, sums: HourSums)] = []
        var hour = Self.hour(of: from)
        while hour < to {
            sqlite3_bind_int64(handle, 1, hour)
            let code = sqlite3_step(handle)
            if code == SQLITE_ROW {
                for column in 0..<5 where sqlite3_column_type(handle, Int32(column)) != SQLITE_INTEGER {
                    sqlite3_reset(handle)
                    return nil
                }
                found.append((hour, HourSums(
                    readings: sqlite3_column_int64(handle, 0), actualWh: sqlite3_column_int64(handle, 1),
                    estimatedWh: sqlite3_column_int64(handle, 2), exportWh: sqlite3_column_int64(handle, 3),
                    irregular: sqlite3_column_int64(handle, 4))))
            }
            sqlite3_reset(handle)
            guard code == SQLITE_ROW || code == SQLITE_DONE else {
                throw DatabaseError(resultCode: ResultCode(rawValue: code), message: db.lastErrorMessage)
            }
            hour += 3_600
        }
        return found
    }
}
