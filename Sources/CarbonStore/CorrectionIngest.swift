import CarbonLedger
import CarbonModel
import Foundation
import GRDB
import GRDBSQLite
import TransparencyLog

/// Deciding and storing one batch of corrections inside the writer's transaction.
///
/// Each correction replaces the version in force of the stored reading with the same
/// `(utility, meter, start)`: the readings row takes the new figures and the place of
/// the correction in its `corrections` entry, the replaced version's figures go into
/// the entry's records (`CorrectionChunks`, where its batch's proofs still find them),
/// and the consumer's hour sums change by the difference. Cost per correction: one
/// indexed read of the stored reading and one row updated, plus a share of a blob.
///
/// On SQLite the reads and updates step through SQLite's C API; on another engine
/// they are a statement for up to `rowsAStatement` corrections.
struct CorrectionIngest<Tables: IngestTables & SQLConnection> {
    let batch: CorrectionBatch
    let tables: Tables
    let program: Program
    /// Corrections read or updated in one statement on an engine reached through SQL only.
    static var rowsAStatement: Int { 1_000 }

    /// A correction found good, with the version it replaces.
    private struct Accepted {
        var index: Int
        var meterID: Int64
        var consumerRow: Int64
        var replaced: StoredReading
    }

    /// The version in force of a reading, as stored, and where it is in the ledger.
    private struct StoredReading {
        var stored: CorrectionRecord.StoredVersion
        var version: ReadingVersion
    }

    /// Decides every record; stores the accepted ones unless the batch is refused.
    func run(cache: RegistryCache, appender: inout LedgerAppender, time: Int64) throws -> (BatchResult?, [Rejection]) {
        let (accepted, duplicates, rejections, utility) = try decide(cache: cache)
        guard rejections.isEmpty || batch.partial else { return (nil, rejections) }
        let errors = rejections.summarized()?.errors ?? []
        guard !accepted.isEmpty else {
            return (BatchResult(accepted: 0, duplicates: duplicates, entry: nil, entries: [], errors: errors), rejections)
        }
        let index = try store(accepted, utility: utility, appender: &appender, time: time)
        return (
            BatchResult(accepted: accepted.count, duplicates: duplicates, entry: index, entries: [index], errors: errors),
            rejections
        )
    }

    private func decide(
        cache: RegistryCache
    ) throws -> (accepted: [Accepted], duplicates: Int, rejections: [Rejection], utility: String) {
        let corrections = batch.corrections
        var rejections = batch.parseErrors.map { Rejection(.invalid, index: $0.index, field: $0.field, $0.message) }
        let batchUtility = batch.submitter.utility ?? corrections.first?.reading.utility ?? ""
        let knownMeters = cache.meterPositions(of: batchUtility)
        // Each record's meter id, looked up once (nil: no stored reading of that meter).
        let meterIDs = corrections.map { knownMeters[$0.reading.meter].map { cache.meters[$0].id } }
        let stored = try storedVersions(of: zip(corrections, meterIDs).compactMap { correction, meter in
            meter.map { ReadingKeyOfMeter(meter: $0, start: correction.reading.start) }
        })
        var accepted: [Accepted] = []
        var duplicates = 0
        // Each (meter, start) once a batch: the record that named it first.
        var seen: [ReadingKeyOfMeter: Int] = [:]

        for (i, correction) in corrections.enumerated() {
            let reading = correction.reading
            let record = batch.recordIndex[i]
            func reject(_ kind: RejectionKind, _ field: String, _ message: String) {
                rejections.append(Rejection(kind, index: record, field: field, message))
            }
            if let allowed = batch.submitter.utility, reading.utility != allowed {
                reject(.forbidden, "utility", "this peer may only correct readings of utility \"\(allowed)\"")
                continue
            }
            guard let consumer = cache.consumers[reading.consumer] else {
                reject(.invalid, "consumer", "unknown consumer \"\(reading.consumer)\"")
                continue
            }
            guard consumer.record.utility == reading.utility else {
                reject(.forbidden, "consumer", "consumer \"\(reading.consumer)\" belongs to another utility")
                continue
            }
            guard reading.utility == batchUtility else {
                reject(.invalid, "utility", "a batch carries one utility's corrections; this one is for \"\(batchUtility)\"")
                continue
            }
            let what = "meter \"\(reading.meter)\" at start \(reading.start)"
            guard let key = meterIDs[i].map({ ReadingKeyOfMeter(meter: $0, start: reading.start) }), let found = stored[key]
            else {
                reject(.invalid, "start", "no stored reading of \(what) to correct (send new readings without ?correct=true)")
                continue
            }
            if let first = seen[key] {
                reject(.conflict, "start", "\(what) is corrected twice in the batch (record \(first)); send one correction")
                continue
            }
            seen[key] = record
            let old = found.stored
            guard old.durationS == reading.durationS else {
                reject(
                    .invalid, "duration_s",
                    "the stored reading of \(what) lasts \(old.durationS) s; a correction keeps the interval, got \(reading.durationS)")
                continue
            }
            guard old.consumerRow == consumer.rowID else {
                reject(
                    .invalid, "consumer",
                    "the stored reading of \(what) belongs to another consumer; a correction keeps the consumer")
                continue
            }
            if (old.importWh, old.exportWh, old.quality, old.ref)
                == (reading.importWh, reading.exportWh, QualityCode.code(reading.quality), reading.id)
            {
                duplicates += 1
                continue
            }
            guard cache.mayCorrect(start: reading.start) else {
                let period = program.period(containing: reading.start)
                reject(
                    .conflict, "start",
                    "\(what) falls in period \(period), which is closed: an administrator restates it first "
                        + "(POST /v1/periods/\(period)/restate)")
                continue
            }
            accepted.append(Accepted(index: i, meterID: key.meter, consumerRow: consumer.rowID, replaced: found))
        }
        return (accepted, duplicates, rejections, batchUtility)
    }

    /// Runs `body` with `text` bound to parameter `column` of `statement` (null for
    /// nil); static binding, so SQLite reads the text during `body` without a copy.
    private static func withText(
        _ text: String?, bound column: Int32, to statement: OpaquePointer, _ body: () throws -> Void
    ) throws {
        guard var text else {
            sqlite3_bind_null(statement, column)
            return try body()
        }
        try text.withUTF8 { bytes in
            sqlite3_bind_text(statement, column, bytes.baseAddress, Int32(bytes.count), nil)
            defer { sqlite3_bind_null(statement, column) }
            try body()
        }
    }

    /// The versions in force of the readings at `keys`, read one start at a time: a
    /// range of meter ids when the start's meters lie close together (a head-end's
    /// hour, where a scan reads each row once), point lookups otherwise.
    private func storedVersions(of keys: [ReadingKeyOfMeter]) throws -> [ReadingKeyOfMeter: StoredReading] {
        let columns = "meter, duration_s, consumer, import_wh, export_wh, quality, ref, batch, position"
        guard let db = tables.sqliteDatabase else { return try storedVersionsBySQL(of: keys, columns: columns) }
        let point = try db.cachedStatement(sql: "SELECT \(columns) FROM readings WHERE start = ? AND meter = ?")
            .sqliteStatement
        let range = try db.cachedStatement(
            sql: "SELECT \(columns) FROM readings WHERE start = ? AND meter >= ? AND meter <= ?"
        ).sqliteStatement
        var found: [ReadingKeyOfMeter: StoredReading] = [:]
        found.reserveCapacity(keys.count)
        func read(_ statement: OpaquePointer, start: Int64) throws {
            defer { sqlite3_reset(statement) }
            while true {
                switch sqlite3_step(statement) {
                case SQLITE_DONE: return
                case SQLITE_ROW: break
                case let code: throw DatabaseError(resultCode: ResultCode(rawValue: code), message: db.lastErrorMessage)
                }
                let ref = sqlite3_column_text(statement, 6).map { String(cString: $0) }
                let meter = sqlite3_column_int64(statement, 0)
                found[ReadingKeyOfMeter(meter: meter, start: start)] = StoredReading(
                    stored: CorrectionRecord.StoredVersion(
                        start: start, meter: meter, consumerRow: sqlite3_column_int64(statement, 2),
                        durationS: sqlite3_column_int64(statement, 1), importWh: sqlite3_column_int64(statement, 3),
                        exportWh: sqlite3_column_int64(statement, 4), quality: sqlite3_column_int64(statement, 5), ref: ref),
                    version: ReadingVersion(
                        entry: UInt64(sqlite3_column_int64(statement, 7)), position: Int(sqlite3_column_int64(statement, 8))))
            }
        }
        let sorted = keys.sorted { ($0.start, $0.meter) < ($1.start, $1.meter) }
        var runStart = 0
        while runStart < sorted.count {
            let start = sorted[runStart].start
            var runEnd = runStart
            while runEnd < sorted.count && sorted[runEnd].start == start { runEnd += 1 }
            let (low, high) = (sorted[runStart].meter, sorted[runEnd - 1].meter)
            if high - low < 4 * Int64(runEnd - runStart) + 64 {
                sqlite3_bind_int64(range, 1, start)
                sqlite3_bind_int64(range, 2, low)
                sqlite3_bind_int64(range, 3, high)
                try read(range, start: start)
            } else {
                for key in sorted[runStart..<runEnd] {
                    sqlite3_bind_int64(point, 1, start)
                    sqlite3_bind_int64(point, 2, key.meter)
                    try read(point, start: start)
                }
            }
            runStart = runEnd
        }
        return found
    }

    /// `storedVersions` through SQL: each start's meters listed, `rowsAStatement` a statement.
    private func storedVersionsBySQL(of keys: [ReadingKeyOfMeter], columns: String) throws -> [ReadingKeyOfMeter: StoredReading] {
        var found: [ReadingKeyOfMeter: StoredReading] = [:]
        let byStart = Dictionary(grouping: keys, by: \.start)
        for (start, sameStart) in byStart {
            let meters = Array(Set(sameStart.map(\.meter))).sorted()
            for first in stride(from: 0, to: meters.count, by: Self.rowsAStatement) {
                let some = meters[first..<min(first + Self.rowsAStatement, meters.count)]
                let list = Array(repeating: "?", count: some.count).joined(separator: ", ")
                try tables.forEachRow(
                    "SELECT \(columns) FROM readings WHERE start = ? AND meter IN (\(list))",
                    [start.databaseValue] + some.map(\.databaseValue)
                ) { row in
                    let meter: Int64 = row[0]
                    found[ReadingKeyOfMeter(meter: meter, start: start)] = StoredReading(
                        stored: CorrectionRecord.StoredVersion(
                            start: start, meter: meter, consumerRow: row[2], durationS: row[1], importWh: row[3],
                            exportWh: row[4], quality: row[5], ref: row[6]),
                        version: ReadingVersion(entry: UInt64(row[7] as Int64), position: row[8]))
                }
            }
        }
        return found
    }

    /// The new figures of a corrected reading, at `position` of its `corrections` entry.
    private struct CorrectedRow {
        var start: Int64
        var meter: Int64
        var importWh: Int64
        var exportWh: Int64
        var quality: Int64
        var ref: String?
        var position: Int64
    }

    /// Writes corrected readings through SQL: one `UPDATE ... FROM (VALUES ...)` for up
    /// to `rowsAStatement` of them.
    private func updateBySQL(_ rows: [CorrectedRow], entry: UInt64) throws {
        for first in stride(from: 0, to: rows.count, by: Self.rowsAStatement) {
            let some = rows[first..<min(first + Self.rowsAStatement, rows.count)]
            let values = Array(repeating: "(?, ?, ?, ?, ?, ?, ?)", count: some.count).joined(separator: ", ")
            let arguments = some.flatMap { row -> [DatabaseValue] in
                [row.start.databaseValue, row.meter.databaseValue, row.importWh.databaseValue, row.exportWh.databaseValue,
                 row.quality.databaseValue, row.ref?.databaseValue ?? .null, row.position.databaseValue]
            }
            try tables.execute(
                """
                UPDATE readings SET import_wh = v.import_wh, export_wh = v.export_wh, quality = v.quality, ref = v.ref,
                    batch = \(Int64(entry)), position = v.position
                FROM (VALUES \(values)) AS v(start, meter, import_wh, export_wh, quality, ref, position)
                WHERE readings.start = v.start AND readings.meter = v.meter
                """,
                arguments)
        }
    }

    /// Moves each replaced version aside, writes the new ones, appends the batch's
    /// `corrections` entry; returns its index.
    private func store(_ accepted: [Accepted], utility: String, appender: inout LedgerAppender, time: Int64) throws -> UInt64 {
        let entryIndex = appender.nextIndex
        let sqlite = tables.sqliteDatabase
        let update = try sqlite?.cachedStatement(sql: """
            UPDATE readings SET import_wh = ?, export_wh = ?, quality = ?, ref = ?, batch = ?, position = ?
            WHERE start = ? AND meter = ?
            """).sqliteStatement
        if let update { sqlite3_bind_int64(update, 5, Int64(entryIndex)) }
        var corrected: [CorrectedRow] = []
        var records: [CorrectionRecord] = []
        records.reserveCapacity(accepted.count)
        var hours = ConsumerHoursBatch()
        var chunkKeys = ChunkKeys()
        var leafHashes: [Hash256] = []
        leafHashes.reserveCapacity(accepted.count)
        var leaf: [UInt8] = []
        var firstStart = Int64.max
        var lastStart = Int64.min
        var lastEnd = Int64.min
        for (position, a) in accepted.enumerated() {
            let correction = batch.corrections[a.index]
            let reading = correction.reading
            let old = a.replaced.stored
            if let update, let db = sqlite {
                sqlite3_bind_int64(update, 1, reading.importWh)
                sqlite3_bind_int64(update, 2, reading.exportWh)
                sqlite3_bind_int64(update, 3, QualityCode.code(reading.quality))
                sqlite3_bind_int64(update, 6, Int64(position))
                sqlite3_bind_int64(update, 7, reading.start)
                sqlite3_bind_int64(update, 8, a.meterID)
                try Self.withText(reading.id, bound: 4, to: update) {
                    let code = sqlite3_step(update)
                    sqlite3_reset(update)
                    guard code == SQLITE_DONE else {
                        throw DatabaseError(resultCode: ResultCode(rawValue: code), message: db.lastErrorMessage)
                    }
                }
            } else {
                corrected.append(CorrectedRow(
                    start: reading.start, meter: a.meterID, importWh: reading.importWh, exportWh: reading.exportWh,
                    quality: QualityCode.code(reading.quality), ref: reading.id, position: Int64(position)))
            }
            records.append(CorrectionRecord(reason: correction.reason, replaces: a.replaced.version, replaced: old))
            guard let oldQuality = QualityCode.quality(old.quality) else {
                throw StoreError.corrupt("the stored reading of meter id \(a.meterID) at \(reading.start) has quality \(old.quality)")
            }
            var replaced = reading
            (replaced.importWh, replaced.exportWh, replaced.quality) = (old.importWh, old.exportWh, oldQuality)
            hours.replace(replaced, with: reading, consumerRow: a.consumerRow)
            chunkKeys.add(position: position, start: reading.start, meter: a.meterID)
            leaf.removeAll(keepingCapacity: true)
            reading.writeCorrectionLeaf(
                into: &leaf, reason: correction.reason,
                replaces: (Int64(a.replaced.version.entry), Int64(a.replaced.version.position)))
            leafHashes.append(RFC6962.leafHash(leaf))
            firstStart = min(firstStart, reading.start)
            lastStart = max(lastStart, reading.start)
            lastEnd = max(lastEnd, reading.end)
        }
        try updateBySQL(corrected, entry: entryIndex)
        try hours.write(to: tables)
        try CorrectionChunks.write(records, entry: entryIndex, db: tables)
        let chunkRoots = BatchChunks.roots(of: leafHashes)
        let entry = ReadingsEntry(
            utility: utility, count: accepted.count, root: BatchChunks.batchRoot(ofChunkRoots: chunkRoots),
            firstStart: firstStart, lastEnd: lastEnd, batch: batch.batchID)
        let index = try StoreError.mapping { try appender.append(.corrections(entry), time: time, to: tables) }
        guard index == entryIndex else {
            throw StoreError.corrupt("corrections entry got index \(index), expected \(entryIndex)")
        }
        try tables.insertReadingBatch(
            entry: index, firstStart: firstStart, lastStart: lastStart, count: accepted.count,
            chunks: StoredChunk.encode(chunkKeys.chunks(roots: chunkRoots)))
        return index
    }
}

/// A reading's key with its meter's row id.
private struct ReadingKeyOfMeter: Hashable {
    var meter: Int64
    var start: Int64
}
