import CarbonLedger
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
