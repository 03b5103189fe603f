import CarbonLedger
import CarbonModel
import GRDB
import GRDBSQLite
import TransparencyLog

/// Deciding and storing one batch of readings inside the writer's transaction.
///
/// Cost per reading on the common path (a meter's next interval): two hash
/// lookups (consumer, meter), one row and one index entry appended. Only a
/// reading that starts before its meter's last stored end is checked against
/// stored rows, with one bounded range query.
struct ReadingIngest {
    let batch: ReadingBatch
    let db: Database

    private enum Status: UInt8 { case accepted, duplicate, rejected }

    /// A meter as seen by this batch.
    private struct Slot {
        var key: MeterKey
        var stored: MeterState?
        /// The latest end among this batch's readings of the meter taken so far, in body order.
        var batchEnd: Int64 = .min
    }

    /// Decides every record; stores the accepted ones unless the batch is refused.
    /// Returns the outcome and the appended `readings` entry, if any.
    func run(cache: inout RegistryCache, appender: inout LedgerAppender, time: Int64) throws -> (IngestResult?, [Rejection]) {
        let readings = batch.hashed.readings
        let recordIndex = batch.hashed.recordIndex
        var rejections = batch.parseErrors.map { Rejection(.invalid, index: $0.index, field: $0.field, $0.message) }
        var status = [Status](repeating: .accepted, count: readings.count)
        var slotOfMeter: [MeterKey: Int] = [:]
        slotOfMeter.reserveCapacity(readings.count)
        var slots: [Slot] = []
        var slotOfReading = [Int](repeating: 0, count: readings.count)
        var outOfOrder = false
        let batchUtility = batch.submitter.utility ?? readings.first?.utility

        func reject(_ i: Int, _ kind: RejectionKind, _ field: String, _ message: String) {
            status[i] = .rejected
            rejections.append(Rejection(kind, index: recordIndex[i], field: field, message))
        }

        for i in readings.indices {
            let reading = readings[i]
            if let allowed = batch.submitter.utility, reading.utility != allowed {
                reject(i, .forbidden, "utility", "this peer may only push readings of utility \"\(allowed)\"")
                continue
            }
            guard let consumer = cache.consumers[reading.consumer] else {
                reject(i, .invalid, "consumer", "unknown consumer \"\(reading.consumer)\": register it first")
                continue
            }
            guard consumer.record.utility == reading.utility else {
                reject(i, .forbidden, "consumer", "consumer \"\(reading.consumer)\" belongs to another utility")
                continue
            }
            guard reading.utility == batchUtility else {
                reject(i, .invalid, "utility", "a batch carries one utility's readings; this one is for \"\(batchUtility ?? "")\"")
                continue
            }
            let key = MeterKey(utility: reading.utility, meter: reading.meter)
            let slot: Int
            if let known = slotOfMeter[key] {
                slot = known
            } else {
                slot = slots.count
                slots.append(Slot(key: key, stored: cache.meters[key]))
                slotOfMeter[key] = slot
            }
            slotOfReading[i] = slot
            if let stored = slots[slot].stored, reading.start < stored.lastEnd {
                switch try compareWithStored(reading, consumerRow: consumer.rowID, meter: stored) {
                case .none: break
                case .duplicate:
                    status[i] = .duplicate
                    continue
                case .conflict(let field, let message):
                    reject(i, .conflict, field, message)
                    continue
                }
            }
            if reading.start < slots[slot].batchEnd {
                outOfOrder = true
            } else {
                slots[slot].batchEnd = reading.end
            }
        }
        if outOfOrder {
            rejections += checkWithinBatch(readings, slotOfReading: slotOfReading, status: &status)
        }

        let duplicates = status.lazy.filter { $0 == .duplicate }.count
        guard rejections.isEmpty || batch.partial else { return (nil, rejections) }

        let accepted = readings.indices.filter { status[$0] == .accepted }
        guard !accepted.isEmpty, let utility = batchUtility else {
            return (IngestResult(accepted: 0, duplicates: duplicates, entry: nil, entries: [], checkpoint: nil,
                                 errors: rejections.summarized()?.errors ?? []), rejections)
        }
        let firstRow = try store(
            accepted.map { readings[$0] }, slots: slots, slotOfReading: accepted.map { slotOfReading[$0] }, cache: &cache)
        let root =
            accepted.count == readings.count
            ? batch.hashed.rootOfAll
            : RFC6962.rootHash(ofLeafHashes: accepted.map { batch.hashed.leafHashes[$0] })
        let entry = ReadingsEntry(
            utility: utility, count: accepted.count, root: root,
            firstStart: accepted.lazy.map { readings[$0].start }.min()!,
            lastEnd: accepted.lazy.map { readings[$0].end }.max()!,
            batch: batch.batchID)
        let index = try appender.append(.readings(entry), time: time, db: db)
        try db.cachedStatement(sql: "INSERT INTO reading_batches(entry, first_row, count) VALUES (?, ?, ?)")
            .execute(arguments: [Int64(index), firstRow, accepted.count])
        let result = IngestResult(
            accepted: accepted.count, duplicates: duplicates, entry: index, entries: [index], checkpoint: nil,
            errors: rejections.summarized()?.errors ?? [])
        return (result, rejections)
    }

    private enum StoredMatch {
        case none
        case duplicate
        case conflict(field: String, message: String)
    }

    /// Compares a reading with the stored readings of its meter that could overlap it.
    private func compareWithStored(_ reading: Reading, consumerRow: Int64, meter: MeterState) throws -> StoredMatch {
        let statement = try db.cachedStatement(sql: """
            SELECT start, duration_s, consumer, import_wh, export_wh, quality, ref FROM readings
            WHERE start > ? AND start < ? AND meter = ?
            """)
        let rows = try Row.fetchCursor(
            statement, arguments: [reading.start - meter.maxDuration, reading.end, meter.id])
        while let row = try rows.next() {
            let start: Int64 = row[0]
            let duration: Int64 = row[1]
            guard start + duration > reading.start else { continue }
            guard start == reading.start else {
                return .conflict(
                    field: "start",
                    message: "meter \"\(reading.meter)\" interval [\(reading.start), \(reading.end)) overlaps the stored "
                        + "reading [\(start), \(start + duration))")
            }
            let stored: (Int64, Int64, Int64, Int64, Int64, String?) = (duration, row[2], row[3], row[4], row[5], row[6])
            let sent = (reading.durationS, consumerRow, reading.importWh, reading.exportWh,
                        QualityCode.code(reading.quality), reading.id)
            if stored == sent { return .duplicate }
            return .conflict(
                field: "start",
                message: "meter \"\(reading.meter)\" at start \(reading.start) is already stored with other content")
        }
        return .none
    }

    /// The slow path for a batch that is not in time order per meter: sort, then
    /// find repeated keys (duplicates or conflicts) and overlapping intervals.
    private func checkWithinBatch(
        _ readings: [Reading], slotOfReading: [Int], status: inout [Status]
    ) -> [Rejection] {
        let recordIndex = batch.hashed.recordIndex
        let order = readings.indices.filter { status[$0] == .accepted }.sorted {
            (slotOfReading[$0], readings[$0].start, $0) < (slotOfReading[$1], readings[$1].start, $1)
        }
        var rejections: [Rejection] = []
        var previous: Int? = nil
        for i in order {
            guard let p = previous, slotOfReading[p] == slotOfReading[i] else {
                previous = i
                continue
            }
            let (earlier, later) = (readings[p], readings[i])
            if earlier.start == later.start && earlier == later {
                status[i] = .duplicate
            } else if earlier.start == later.start {
                status[i] = .rejected
                rejections.append(Rejection(
                    .conflict, index: recordIndex[i], field: "start",
                    "meter \"\(later.meter)\" at start \(later.start) appears twice in the batch with other content "
                        + "(record \(recordIndex[p]))"))
            } else if later.start < earlier.end {
                status[i] = .rejected
                rejections.append(Rejection(
                    .conflict, index: recordIndex[i], field: "start",
                    "meter \"\(later.meter)\" interval [\(later.start), \(later.end)) overlaps record "
                        + "\(recordIndex[p]) [\(earlier.start), \(earlier.end))"))
            } else {
                previous = i
            }
        }
        return rejections
    }

    /// Appends the accepted readings (contiguous rowids) and advances their meters' state.
    /// Returns the rowid of the first.
    private func store(
        _ readings: [Reading], slots: [Slot], slotOfReading: [Int], cache: inout RegistryCache
    ) throws -> Int64 {
        var meterIDs = [Int64](repeating: 0, count: slots.count)
        var lastEnd = slots.map { $0.stored?.lastEnd ?? .min }
        var maxDuration = slots.map { $0.stored?.maxDuration ?? 0 }
        for (slot, state) in slots.enumerated() {
            if let stored = state.stored { meterIDs[slot] = stored.id }
        }
        let newMeter = try db.cachedStatement(
            sql: "INSERT INTO meters(utility, meter, last_end, max_duration) VALUES (?, ?, 0, 0)")
        for slot in Set(slotOfReading) where slots[slot].stored == nil {
            try newMeter.execute(arguments: [slots[slot].key.utility, slots[slot].key.meter])
            meterIDs[slot] = db.lastInsertedRowID
        }

        let consumerRows = readings.map { cache.consumers[$0.consumer]!.rowID }
        let insert = try db.cachedStatement(sql: """
            INSERT INTO readings(start, meter, consumer, duration_s, import_wh, export_wh, quality, ref)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?)
            """)
        let handle = insert.sqliteStatement
        var firstRow: Int64 = 0
        for (k, reading) in readings.enumerated() {
            let slot = slotOfReading[k]
            sqlite3_bind_int64(handle, 1, reading.start)
            sqlite3_bind_int64(handle, 2, meterIDs[slot])
            sqlite3_bind_int64(handle, 3, consumerRows[k])
            sqlite3_bind_int64(handle, 4, reading.durationS)
            sqlite3_bind_int64(handle, 5, reading.importWh)
            sqlite3_bind_int64(handle, 6, reading.exportWh)
            sqlite3_bind_int64(handle, 7, QualityCode.code(reading.quality))
            let code: Int32
            if var ref = reading.id {
                code = ref.withUTF8 { text in
                    sqlite3_bind_text(handle, 8, text.baseAddress, Int32(text.count), SQLiteBinding.transient)
                    return sqlite3_step(handle)
                }
            } else {
                sqlite3_bind_null(handle, 8)
                code = sqlite3_step(handle)
            }
            sqlite3_reset(handle)
            guard code == SQLITE_DONE else {
                throw DatabaseError(resultCode: ResultCode(rawValue: code), message: db.lastErrorMessage)
            }
            let row = db.lastInsertedRowID
            if k == 0 {
                firstRow = row
            } else if row != firstRow + Int64(k) {
                throw StoreError.corrupt("reading rows of one batch are not contiguous (\(row) after \(firstRow) + \(k - 1))")
            }
            lastEnd[slot] = max(lastEnd[slot], reading.end)
            maxDuration[slot] = max(maxDuration[slot], reading.durationS)
        }

        let update = try db.cachedStatement(sql: "UPDATE meters SET last_end = ?, max_duration = ? WHERE id = ?")
        for slot in Set(slotOfReading) {
            try update.execute(arguments: [lastEnd[slot], maxDuration[slot], meterIDs[slot]])
            cache.meters[slots[slot].key] = MeterState(id: meterIDs[slot], lastEnd: lastEnd[slot], maxDuration: maxDuration[slot])
        }
        return firstRow
    }
}

/// How `quality` is stored (0 actual, 1 estimated).
enum QualityCode {
    static func code(_ quality: Quality) -> Int64 { quality == .estimated ? 1 : 0 }
    static func quality(_ code: Int64) -> Quality? {
        switch code {
        case 0: .actual
        case 1: .estimated
        default: nil
        }
    }
}

/// SQLite's SQLITE_TRANSIENT, which Swift cannot import as a macro.
enum SQLiteBinding {
    static let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)
}
