import CarbonModel
import Foundation
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
/// (methodology sections 4 and 5). `ConsumerAccounting.forEachReading` checks the rest.
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

extension HourSums {
    /// The sums of one hour of 64 consecutive consumer rows ids (a block) are stored as
    /// one row: an hourly batch of 10,000 consumers then writes 157 rows, not 10,000.
    static let blockSize: Int64 = 64

    /// `[readings, actual_wh, estimated_wh, export_wh, irregular]`, each as an
    /// unsigned LEB128 varint, for each slot of a block in turn.
    static func encode(_ block: [HourSums]) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(block.count * 8)
        for sums in block {
            for value in [sums.readings, sums.actualWh, sums.estimatedWh, sums.exportWh, sums.irregular] {
                Varint.append(value, to: &bytes)
            }
        }
        return bytes
    }

    /// Every slot of an encoded block; nil if the bytes are not a block.
    static func decode(_ bytes: UnsafeRawBufferPointer) -> [HourSums]? {
        var reader = BlockReader(bytes: bytes)
        var block: [HourSums] = []
        block.reserveCapacity(Int(blockSize))
        for _ in 0..<blockSize {
            guard let sums = reader.next() else { return nil }
            block.append(sums)
        }
        return block
    }

    /// One slot of an encoded block, the slots before it skipped; nil if the bytes are
    /// not a block.
    static func decode(_ bytes: UnsafeRawBufferPointer, slot: Int) -> HourSums? {
        var reader = BlockReader(bytes: bytes)
        for _ in 0..<slot {
            guard reader.next() != nil else { return nil }
        }
        return reader.next()
    }

    /// Reads the slots of an encoded block in turn.
    private struct BlockReader {
        let bytes: UnsafeRawBufferPointer
        var offset = 0

        mutating func next() -> HourSums? {
            guard let readings = varint(), let actual = varint(), let estimated = varint(), let export = varint(),
                let irregular = varint()
            else { return nil }
            return HourSums(
                readings: readings, actualWh: actual, estimatedWh: estimated, exportWh: export, irregular: irregular)
        }

        private mutating func varint() -> Int64? { Varint.read(bytes, at: &offset) }
    }

    /// Takes `old` out of the sums and puts `new`, a correction of it (same start and
    /// duration), in. A reading that runs past the hour is counted only as irregular,
    /// which the correction does not change; a sum leaving Int64 makes the hour irregular.
    mutating func replace(_ old: Reading, with new: Reading) {
        guard new.end <= Self.hour(of: new.start) + 3_600 else { return }
        func imports(_ r: Reading, _ quality: Quality) -> Int64 { r.quality == quality ? r.importWh : 0 }
        let (dActual, o1) = imports(new, .actual).subtractingReportingOverflow(imports(old, .actual))
        let (dEstimated, o2) = imports(new, .estimated).subtractingReportingOverflow(imports(old, .estimated))
        let (dExport, o3) = new.exportWh.subtractingReportingOverflow(old.exportWh)
        let (actual, o4) = actualWh.addingReportingOverflow(dActual)
        let (estimated, o5) = estimatedWh.addingReportingOverflow(dEstimated)
        let (export, o6) = exportWh.addingReportingOverflow(dExport)
        guard !(o1 || o2 || o3 || o4 || o5 || o6) else {
            irregular = max(irregular, 1)
            return
        }
        (actualWh, estimatedWh, exportWh) = (actual, estimated, export)
    }

    /// Both hours' readings; a sum that would leave Int64 makes the hour irregular.
    mutating func merge(_ other: HourSums) {
        let (readings, o0) = self.readings.addingReportingOverflow(other.readings)
        let (actual, o1) = actualWh.addingReportingOverflow(other.actualWh)
        let (estimated, o2) = estimatedWh.addingReportingOverflow(other.estimatedWh)
        let (export, o3) = exportWh.addingReportingOverflow(other.exportWh)
        let (irregular, o4) = self.irregular.addingReportingOverflow(other.irregular)
        guard !(o0 || o1 || o2 || o3 || o4) else {
            self.irregular = max(self.irregular, 1)
            return
        }
        self = HourSums(readings: readings, actualWh: actual, estimatedWh: estimated, exportWh: export, irregular: irregular)
    }
}

/// The hour sums of one batch, added to `consumer_hours` in the batch's transaction.
struct ConsumerHoursBatch {
    private var blocks: [HourBlock: [HourSums]] = [:]
    /// The block readings are being added to: a head-end's batch brings a block's
    /// consumers one after the other, so most readings skip the dictionary.
    private var current: (key: HourBlock, sums: [HourSums])?

    mutating func add(_ reading: Reading, consumerRow: Int64) {
        withSums(of: consumerRow, hourOf: reading.start) { $0.add(reading) }
    }

    /// Records a correction: the difference `new - old` is added to the stored sums.
    mutating func replace(_ old: Reading, with new: Reading, consumerRow: Int64) {
        withSums(of: consumerRow, hourOf: new.start) { $0.replace(old, with: new) }
    }

    private mutating func withSums(of consumerRow: Int64, hourOf start: Int64, _ change: (inout HourSums) -> Void) {
        let key = HourBlock(hour: HourSums.hour(of: start), block: consumerRow / HourSums.blockSize)
        if current?.key != key {
            if let current { blocks[current.key] = current.sums }
            current = (key, blocks.removeValue(forKey: key) ?? Array(repeating: HourSums(), count: Int(HourSums.blockSize)))
        }
        change(&current!.sums[Int(consumerRow % HourSums.blockSize)])
    }

    /// Adds the sums to the stored blocks, in key order (a head-end's batch appends at
    /// the table's right edge): new blocks are inserted as they are, and only blocks
    /// already stored are read and merged.
    func write(to tables: some IngestTables) throws {
        var blocks = self.blocks
        if let current { blocks[current.key] = current.sums }
        guard !blocks.isEmpty else { return }
        let keys = blocks.keys.sorted()
        let taken = try tables.insertNewHourSums(keys.map { ($0, HourSums.encode(blocks[$0]!)) })
        guard !taken.isEmpty else { return }
        let merged = keys.filter(taken.contains)
        let stored = try tables.hourSums(of: merged)
        try tables.storeHourSums(try merged.map { key in
            var block = blocks[key]!
            guard let old = stored[key]?.withUnsafeBytes({ HourSums.decode($0) }) else {
                throw StoreError.corrupt("the hour sums of block \(key.block) at \(key.hour)")
            }
            for slot in block.indices { block[slot].merge(old[slot]) }
            return (key, HourSums.encode(block))
        })
    }

    func write(db: Database) throws {
        try write(to: StoredLedger(db: db))
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
    /// The stored sums of one consumer for every hour of `[from, to)` in which it has
    /// readings, one indexed read per hour.
    static func stored(
        consumerRow: Int64, from: Int64, to: Int64, db: some SQLConnection
    ) throws -> [(hour: Int64, sums: HourSums)] {
        guard let db = db.sqliteDatabase else { return try storedByList(consumerRow: consumerRow, from: from, to: to, db: db) }
        let statement = try db.cachedStatement(sql: "SELECT sums FROM consumer_hours WHERE hour = ? AND block = ?")
        let handle = statement.sqliteStatement
        sqlite3_bind_int64(handle, 2, consumerRow / blockSize)
        let slot = Int(consumerRow % blockSize)
        var found: [(hour: Int64, sums: HourSums)] = []
        // Only hours some reading started in can have a row: an open month ends at the
        // latest reading, not at its last hour. (One aggregate a query keeps SQLite's
        // min/max shortcut: a read at one edge of the key.)
        guard let first = try Int64.fetchOne(db.cachedStatement(sql: "SELECT min(hour) FROM consumer_hours")),
            let last = try Int64.fetchOne(db.cachedStatement(sql: "SELECT max(hour) FROM consumer_hours"))
        else { return [] }
        var hour = max(Self.hour(of: from), first)
        let to = min(to, last + 3_600)
        defer { sqlite3_reset(handle) }
        while hour < to {
            sqlite3_bind_int64(handle, 1, hour)
            let code = sqlite3_step(handle)
            if code == SQLITE_ROW {
                let bytes = UnsafeRawBufferPointer(
                    start: sqlite3_column_blob(handle, 0), count: Int(sqlite3_column_bytes(handle, 0)))
                guard let sums = Self.decode(bytes, slot: slot) else {
                    throw StoreError.corrupt("the hour sums of consumer row \(consumerRow) at \(hour)")
                }
                if sums.readings > 0 { found.append((hour, sums)) }
            }
            sqlite3_reset(handle)
            guard code == SQLITE_ROW || code == SQLITE_DONE else {
                throw DatabaseError(resultCode: ResultCode(rawValue: code), message: db.lastErrorMessage)
            }
            hour += 3_600
        }
        return found
    }

    /// `stored` on an engine reached through SQL only: the hours asked for by list, up
    /// to `hoursAStatement` a statement, each an index probe of the `(hour, block)` key.
    private static func storedByList(
        consumerRow: Int64, from: Int64, to: Int64, db: some SQLConnection
    ) throws -> [(hour: Int64, sums: HourSums)] {
        guard let bounds = try db.row("SELECT min(hour), max(hour) FROM consumer_hours"),
            let first = bounds[0] as Int64?, let last = bounds[1] as Int64?
        else { return [] }
        let hours = Array(stride(from: max(Self.hour(of: from), first), to: min(to, last + 3_600), by: 3_600))
        let slot = Int(consumerRow % blockSize)
        var found: [(hour: Int64, sums: HourSums)] = []
        for start in stride(from: 0, to: hours.count, by: hoursAStatement) {
            let some = hours[start..<min(start + hoursAStatement, hours.count)]
            let list = Array(repeating: "?", count: some.count).joined(separator: ", ")
            try db.forEachRow(
                "SELECT hour, sums FROM consumer_hours WHERE block = ? AND hour IN (\(list)) ORDER BY hour",
                [(consumerRow / blockSize).databaseValue] + some.map(\.databaseValue)
            ) { row in
                let hour: Int64 = row[0]
                let bytes: Data = row[1]
                guard let sums = bytes.withUnsafeBytes({ Self.decode($0, slot: slot) }) else {
                    throw StoreError.corrupt("the hour sums of consumer row \(consumerRow) at \(hour)")
                }
                if sums.readings > 0 { found.append((hour, sums)) }
            }
        }
        return found
    }

    /// Hours listed in one statement of `storedByList` (a month is 744).
    static let hoursAStatement = 1_000
}
