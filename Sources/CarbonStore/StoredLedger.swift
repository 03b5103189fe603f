import CarbonAccounting
import CarbonLedger
import CarbonModel
import Foundation
import GRDB
import GRDBSQLite
import TransparencyLog

/// The ledger as the `entries`, `tree` and `checkpoints` tables hold it, within one
/// database transaction: the append path's storage, and the node source proofs are
/// served from.
struct StoredLedger: LedgerStorage {
    let db: Database

    func node(level: Int, index: UInt64) throws -> Hash256 {
        let statement = try db.cachedStatement(sql: "SELECT hash FROM tree WHERE level = ? AND idx = ?")
        guard let blob = try Data.fetchOne(statement, arguments: [level, Int64(index)]),
            let hash = Hash256(bytes: blob)
        else {
            throw StoreError.corrupt("tree node at level \(level), index \(index) is missing or malformed")
        }
        return hash
    }

    func storeNodes(_ nodes: [MerkleNode]) throws {
        let statement = try db.cachedStatement(sql: "INSERT INTO tree(level, idx, hash) VALUES (?, ?, ?)")
        for node in nodes {
            try statement.execute(arguments: [node.level, Int64(node.index), Data(node.hash.bytes)])
        }
    }

    func storeEntry(index: UInt64, kind: String, body: [UInt8], signature: [UInt8]) throws {
        let statement = try db.cachedStatement(sql: "INSERT INTO entries(idx, kind, body, signature) VALUES (?, ?, ?, ?)")
        try statement.execute(arguments: [Int64(index), kind, Data(body), Data(signature)])
    }

    func storeCheckpoint(size: UInt64, root: Hash256, note: String, time: Int64) throws {
        let statement = try db.cachedStatement(sql: "INSERT INTO checkpoints(size, root, note, time) VALUES (?, ?, ?, ?)")
        try statement.execute(arguments: [Int64(size), Data(root.bytes), note, time])
    }

    func entryCount() throws -> UInt64 {
        try UInt64(Int64.fetchOne(db, sql: "SELECT count(*) FROM entries") ?? 0)
    }

    func latestCheckpointNote() throws -> String? {
        try String.fetchOne(db, sql: "SELECT note FROM checkpoints ORDER BY size DESC LIMIT 1")
    }
}

/// The append path over the database transaction `db`, its refusals as the store's errors.
extension LedgerAppender {
    mutating func append(_ entry: LedgerEntry, time: Int64, db: Database) throws -> UInt64 {
        try StoreError.mapping { try append(entry, time: time, to: StoredLedger(db: db)) }
    }

    mutating func publishCheckpoint(time: Int64, db: Database) throws -> String {
        try StoreError.mapping { try publishCheckpoint(time: time, to: StoredLedger(db: db)) }
    }

    static func load(
        db: Database, signer: NoteSigner, signerPath: String, previous: PreviousKey?, origin: String
    ) throws -> LedgerAppender {
        try StoreError.mapping {
            try load(from: StoredLedger(db: db), signer: signer, signerPath: signerPath, previous: previous, origin: origin)
        }
    }
}

extension StoreError {
    /// Runs `work`, giving the append path's refusals as the store's errors.
    static func mapping<T>(_ work: () throws -> T) throws -> T {
        do {
            return try work()
        } catch let error as LedgerAppendError {
            switch error {
            case .corrupt(let message): throw StoreError.corrupt(message)
            case .keyMismatch(let message): throw StoreError.keyMismatch(message)
            case .entryTooLarge(let kind, let bytes): throw StoreError.entryTooLarge(kind: kind, bytes: bytes)
            }
        }
    }
}

/// The ingest path's tables in SQLite, within the writer's transaction. Readings are
/// inserted through the C API with one prepared statement: this is the hot path, about
/// a microsecond a reading.
extension StoredLedger: IngestTables {
    func insertMeters(utility: String, names: [String]) throws -> [Int64] {
        let insert = try db.cachedStatement(sql: "INSERT INTO meters(utility, meter) VALUES (?, ?)")
        return try names.map { name in
            try insert.execute(arguments: [utility, name])
            return db.lastInsertedRowID
        }
    }

    func storedReadings(meter: Int64, startAfter: Int64, startBefore: Int64) throws -> [StoredReadingRow] {
        let statement = try db.cachedStatement(sql: """
            SELECT start, duration_s, consumer, import_wh, export_wh, quality, ref FROM readings
            WHERE start > ? AND start < ? AND meter = ?
            """)
        return try Row.fetchAll(statement, arguments: [startAfter, startBefore, meter]).map { row in
            StoredReadingRow(
                start: row[0], durationS: row[1], consumer: row[2], importWh: row[3], exportWh: row[4], quality: row[5],
                ref: row[6])
        }
    }

    func insertReadings(_ rows: [ReadingRow]) throws {
        let insert = try db.cachedStatement(sql: """
            INSERT INTO readings(start, meter, consumer, duration_s, import_wh, export_wh, quality, ref, batch, position)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """)
        let handle = insert.sqliteStatement
        for row in rows {
            sqlite3_bind_int64(handle, 1, row.start)
            sqlite3_bind_int64(handle, 2, row.meter)
            sqlite3_bind_int64(handle, 3, row.consumer)
            sqlite3_bind_int64(handle, 4, row.durationS)
            sqlite3_bind_int64(handle, 5, row.importWh)
            sqlite3_bind_int64(handle, 6, row.exportWh)
            sqlite3_bind_int64(handle, 7, row.quality)
            sqlite3_bind_int64(handle, 9, row.batch)
            sqlite3_bind_int64(handle, 10, row.position)
            let code: Int32
            if var ref = row.ref {
                code = ref.withUTF8 { text in
                    // Static: SQLite reads the text during this step, while the buffer is alive.
                    sqlite3_bind_text(handle, 8, text.baseAddress, Int32(text.count), nil)
                    let code = sqlite3_step(handle)
                    sqlite3_bind_null(handle, 8)
                    return code
                }
            } else {
                sqlite3_bind_null(handle, 8)
                code = sqlite3_step(handle)
            }
            sqlite3_reset(handle)
            guard code == SQLITE_DONE else {
                throw DatabaseError(resultCode: ResultCode(rawValue: code), message: db.lastErrorMessage)
            }
        }
    }

    func insertNewHourSums(_ blocks: [(HourBlock, [UInt8])]) throws -> Set<HourBlock> {
        let insert = try db.cachedStatement(
            sql: "INSERT INTO consumer_hours(hour, block, sums) VALUES (?, ?, ?) ON CONFLICT(hour, block) DO NOTHING")
        var taken: Set<HourBlock> = []
        for (key, sums) in blocks {
            try insert.execute(arguments: [key.hour, key.block, Data(sums)])
            if db.changesCount == 0 { taken.insert(key) }
        }
        return taken
    }

    func hourSums(of blocks: [HourBlock]) throws -> [HourBlock: [UInt8]] {
        let select = try db.cachedStatement(sql: "SELECT sums FROM consumer_hours WHERE hour = ? AND block = ?")
        var stored: [HourBlock: [UInt8]] = [:]
        for key in blocks {
            if let sums = try Data.fetchOne(select, arguments: [key.hour, key.block]) { stored[key] = Array(sums) }
        }
        return stored
    }

    func storeHourSums(_ blocks: [(HourBlock, [UInt8])]) throws {
        let upsert = try db.cachedStatement(sql: "INSERT OR REPLACE INTO consumer_hours(hour, block, sums) VALUES (?, ?, ?)")
        for (key, sums) in blocks {
            try upsert.execute(arguments: [key.hour, key.block, Data(sums)])
        }
    }

    func insertReadingBatch(entry: UInt64, firstStart: Int64, lastStart: Int64, count: Int, chunks: [UInt8]) throws {
        try db.cachedStatement(sql: """
            INSERT INTO reading_batches(entry, first_start, last_start, count, chunks) VALUES (?, ?, ?, ?, ?)
            """)
            .execute(arguments: [Int64(entry), firstStart, lastStart, count, Data(chunks)])
    }
}

/// The registry's tables in SQLite.
extension StoredLedger: RegistryTables {
    func zones() throws -> [Zone] {
        try Row.fetchAll(db, sql: "SELECT zone, parent, name FROM zones").map {
            Zone(zone: $0["zone"], parent: $0["parent"], name: $0["name"])
        }
    }

    func insertZones(_ zones: [Zone]) throws {
        let insert = try db.cachedStatement(sql: "INSERT INTO zones(zone, parent, name) VALUES (?, ?, ?)")
        for zone in zones { try insert.execute(arguments: [zone.zone, zone.parent, zone.name]) }
    }

    func consumers() throws -> [(rowID: Int64, consumer: Consumer)] {
        try Row.fetchAll(db, sql: "SELECT id, consumer, utility, zone, class, normalizer FROM consumers").map {
            (rowID: $0["id"], consumer: try ConsumerRow.consumer(from: $0))
        }
    }

    func upsertConsumer(_ consumer: Consumer, entry: UInt64) throws -> Int64 {
        try db.cachedStatement(sql: """
            INSERT INTO consumers(consumer, utility, zone, class, normalizer, entry) VALUES (?, ?, ?, ?, ?, ?)
            ON CONFLICT(consumer) DO UPDATE SET
                zone = excluded.zone, class = excluded.class, normalizer = excluded.normalizer, entry = excluded.entry
            """)
            .execute(arguments: [
                consumer.id, consumer.utility, consumer.zone, consumer.consumerClass.rawValue, consumer.normalizer, Int64(entry),
            ])
        guard let id = try Int64.fetchOne(db.cachedStatement(sql: "SELECT id FROM consumers WHERE consumer = ?"), arguments: [consumer.id])
        else { throw StoreError.corrupt("consumer \(consumer.id) vanished after its upsert") }
        return id
    }

    func meters() throws -> [StoredMeter] {
        try Row.fetchAll(db, sql: """
            SELECT m.id, m.utility, m.meter, s.last_end, s.max_duration
            FROM meters m LEFT JOIN meter_state s ON s.meter = m.id ORDER BY m.id
            """).map { row in
            let lastEnd: Int64? = row[3]
            let maxDuration: Int64? = row[4]
            return StoredMeter(
                id: row[0], utility: row[1], meter: row[2],
                state: lastEnd.map { StoredMeterState(meter: row[0], lastEnd: $0, maxDuration: maxDuration ?? 0) })
        }
    }

    func readingSpans(ofEntriesFrom entry: UInt64) throws -> [(meter: Int64, start: Int64, duration: Int64)] {
        guard let from = try Int64.fetchOne(
            db, sql: "SELECT min(first_start) FROM reading_batches WHERE entry >= ?", arguments: [Int64(entry)])
        else { return [] }
        return try Row.fetchAll(
            db, sql: "SELECT meter, start, duration_s FROM readings WHERE start >= ? AND batch >= ?",
            arguments: [from, Int64(entry)]
        ).map { (meter: $0[0], start: $0[1], duration: $0[2]) }
    }

    func meterStateAsOf() throws -> UInt64 {
        try String.fetchOne(db, sql: "SELECT value FROM meta WHERE key = 'meter_state_as_of'").flatMap { UInt64($0) } ?? 0
    }

    func saveMeterStates(_ states: [StoredMeterState], asOf: UInt64) throws {
        let upsert = try db.cachedStatement(sql: """
            INSERT INTO meter_state(meter, last_end, max_duration) VALUES (?, ?, ?)
            ON CONFLICT(meter) DO UPDATE SET
                last_end = max(last_end, excluded.last_end), max_duration = max(max_duration, excluded.max_duration)
            """)
        for state in states { try upsert.execute(arguments: [state.meter, state.lastEnd, state.maxDuration]) }
        try db.execute(
            sql: """
                INSERT INTO meta(key, value) VALUES ('meter_state_as_of', ?) ON CONFLICT(key) DO UPDATE SET
                    value = CASE WHEN CAST(excluded.value AS INTEGER) > CAST(value AS INTEGER) THEN excluded.value ELSE value END
                """,
            arguments: [String(asOf)])
    }

    func closedThrough() throws -> Int64? {
        try Int64.fetchOne(db, sql: "SELECT max(end) FROM periods")
    }

    func reopenedPeriods() throws -> [(period: String, start: Int64, end: Int64)] {
        try Row.fetchAll(db, sql: """
            SELECT p.period, p.start, p.end FROM restatements r JOIN periods p ON p.period = r.period
            WHERE r.closed_by IS NULL
            """).map { (period: $0[0], start: $0[1], end: $0[2]) }
    }
}

/// Factor datasets, certificates and `meta` in SQLite.
extension StoredLedger: RecordTables {
    func factorDatasetExists(_ name: String) throws -> Bool {
        try Bool.fetchOne(db, sql: "SELECT 1 FROM factor_datasets WHERE dataset = ?", arguments: [name]) ?? false
    }

    func insertFactorDataset(_ name: String, entry: UInt64, rows: [FactorRow]) throws {
        try db.execute(
            sql: "INSERT INTO factor_datasets(dataset, entry, count) VALUES (?, ?, ?)",
            arguments: [name, Int64(entry), rows.count])
        let insert = try db.cachedStatement(sql: """
            INSERT INTO factor_rows(dataset, position, zone, kind, start, end, mg_per_kwh, source)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?)
            """)
        for (position, row) in rows.enumerated() {
            try insert.execute(arguments: [
                name, position, row.zone, row.kind.rawValue, row.start, row.end, row.mgPerKWh, row.source,
            ])
        }
    }

    func certificateExists(_ id: String) throws -> Bool {
        try Bool.fetchOne(db.cachedStatement(sql: "SELECT 1 FROM certificates WHERE id = ?"), arguments: [id]) ?? false
    }

    func insertCertificate(_ certificate: Certificate, consumerRow: Int64, entry: UInt64) throws {
        try db.cachedStatement(sql: """
            INSERT INTO certificates(id, consumer, start, end, wh, technology, issuer, entry) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
            """)
            .execute(arguments: [
                certificate.id, consumerRow, certificate.start, certificate.end, certificate.wh, certificate.technology,
                certificate.issuer, Int64(entry),
            ])
    }

    func metaValue(_ key: String) throws -> String? {
        try String.fetchOne(db, sql: "SELECT value FROM meta WHERE key = ?", arguments: [key])
    }

    func setMeta(_ values: [(key: String, value: String)]) throws {
        for (key, value) in values {
            try db.execute(sql: "INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)", arguments: [key, value])
        }
    }

    func batchAnswer(scope: String, batch: String) throws -> [UInt8]? {
        let statement = try db.cachedStatement(sql: "SELECT response FROM batch_ids WHERE scope = ? AND batch = ?")
        return try Data.fetchOne(statement, arguments: [scope, batch]).map { Array($0) }
    }

    func storeBatchAnswer(scope: String, batch: String, answer: [UInt8]) throws {
        try db.cachedStatement(sql: "INSERT INTO batch_ids(scope, batch, response) VALUES (?, ?, ?)")
            .execute(arguments: [scope, batch, Data(answer)])
    }
}
