import CarbonAccounting
import GRDB

/// What the daemon asks of a store's writer: `LedgerWriter`, or `ReadOnlyWriter` on a
/// store that only reads.
public protocol StoreWriter: Sendable {
    /// Queues `job` and returns once it is committed (or refused).
    func submit(_ job: LedgerWriter.Job) async throws -> BatchOutcome
    /// Closes `period` (or finds it closed) and returns once that is committed (or refused).
    func close(_ period: Period) async throws -> CloseOutcome
    /// The latest checkpoint whose commit is durable (nil before the first), from memory.
    var latestCheckpoint: StoredCheckpoint? { get }
    /// Why writes are failing, nil while they succeed: for health checks.
    var problem: String? { get }
    /// Whether the writer still takes work.
    var isAlive: Bool { get }
    /// Commits what is queued, refuses anything later, and returns when done.
    func stop()
}

/// The writer of a store that only reads (a replica's): every job is refused with
/// `StoreError.readOnly`, naming where writes go.
public struct ReadOnlyWriter: StoreWriter {
    /// Where writes go, as the operator configured it (for the refusal).
    public let writer: String

    public init(writer: String) { self.writer = writer }

    public func submit(_ job: LedgerWriter.Job) async throws -> BatchOutcome { throw StoreError.readOnly(writer) }
    public func close(_ period: Period) async throws -> CloseOutcome { throw StoreError.readOnly(writer) }
    public var latestCheckpoint: StoredCheckpoint? { nil }
    public var problem: String? { nil }
    public var isAlive: Bool { true }
    public func stop() {}
}

/// The writer's connection to its engine: the transaction a group of jobs commits in,
/// the savepoint each job runs in, and the tables both go through.
///
/// `LedgerWriter` runs the same group commit over any engine: SQLite here
/// (`SQLiteWriterEngine`), PostgreSQL in CarbonPostgres.
public protocol WriterEngine {
    associatedtype Tables: StoreTables & SQLConnection

    /// Runs `body` in one transaction, committed durably when it returns and rolled
    /// back when it throws.
    func transaction(_ body: (Tables) throws -> Void) throws

    /// Runs `body` in a savepoint of the open transaction: its work is undone alone
    /// when it throws.
    func savepoint<T>(_ tables: Tables, _ body: () throws -> T) throws -> T
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
}

extension StoredLedger: SQLConnection {
    func forEachRow(_ sql: String, _ arguments: [DatabaseValue], _ body: (SQLRow) throws -> Void) throws {
        try db.forEachRow(sql, arguments, body)
    }

    func execute(_ sql: String, _ arguments: [DatabaseValue]) throws {
        try db.execute(sql, arguments)
    }

    var sqliteDatabase: Database? { db }
}
