import GRDB

/// The writer's connection to its engine: the transaction a group of jobs commits in,
/// the savepoint each job runs in, and the tables both go through.
///
/// `LedgerWriter` runs the same group commit over any engine: SQLite here
/// (`SQLiteWriterEngine`), PostgreSQL in CarbonPostgres. Jobs whose code still speaks
/// GRDB's `Database` (corrections, restatements, closing periods) run where
/// `database(of:)` gives one, and are refused naming the engine elsewhere.
public protocol WriterEngine {
    associatedtype Tables: StoreTables & SQLConnection

    /// Runs `body` in one transaction, committed durably when it returns and rolled
    /// back when it throws.
    func transaction(_ body: (Tables) throws -> Void) throws

    /// Runs `body` in a savepoint of the open transaction: its work is undone alone
    /// when it throws.
    func savepoint<T>(_ tables: Tables, _ body: () throws -> T) throws -> T

    /// SQLite's connection under `tables`, for the jobs not yet behind the interfaces.
    func database(of tables: Tables) -> Database?
}

/// SQLite's writer connection (the pool's writer), `BEGIN IMMEDIATE` a group.
struct SQLiteWriterEngine: WriterEngine {
    let pool: DatabasePool

    func transaction(_ body: (StoredLedger) throws -> Void) throws {
        try pool.writeWithoutTransaction { db in
            try db.inTransaction(.immediate) {
                try body(StoredLedger(db: db))
                return .commit
            }
        }
    }

    func savepoint<T>(_ tables: StoredLedger, _ body: () throws -> T) throws -> T {
        var value: T?
        try tables.db.inSavepoint {
            value = try body()
            return .commit
        }
        // The savepoint committed, so `body` returned.
        return value!
    }

    func database(of tables: StoredLedger) -> Database? { tables.db }
}

extension StoredLedger: SQLConnection {
    func forEachRow(_ sql: String, _ arguments: [DatabaseValue], _ body: (SQLRow) throws -> Void) throws {
        try db.forEachRow(sql, arguments, body)
    }
}
