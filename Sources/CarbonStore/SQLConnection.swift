import CarbonLedger
import Foundation
import GRDB
import TransparencyLog

/// A connection as the store's engine-neutral queries use it: SQL that both SQLite
/// and PostgreSQL take (`?` or `?N` placeholders, standard row values, quoted
/// `"end"`), arguments and rows in GRDB's `DatabaseValue`s.
///
/// The write path's hot steps have interfaces of their own (`IngestTables` and the
/// rest: a batch's step is one call there); this is for the readers, whose queries
/// are the same text on either engine. SQLite's `Database` runs them as cached
/// statements; the PostgreSQL store numbers the placeholders and binds the values.
public protocol SQLConnection {
    /// Runs `sql` with `arguments` bound and hands each row to `body`, in order.
    func forEachRow(_ sql: String, _ arguments: [DatabaseValue], _ body: (SQLRow) throws -> Void) throws

    /// Runs a statement that returns no rows (inside the writer's transaction).
    func execute(_ sql: String, _ arguments: [DatabaseValue]) throws

    /// SQLite's connection under this one, for the scans that step through SQLite's C
    /// API; nil on other engines.
    var sqliteDatabase: Database? { get }

    /// Runs a proof or root computation over the stored tree: SQLite reads each node,
    /// an engine whose every read is a round trip fetches them in one
    /// (`LedgerStorage.readingNodes`).
    func readingTree<T>(_ compute: (any NodeSource) throws -> T) throws -> T

    /// The checkpoint reads are bounded by: the latest stored one, or on a replica's
    /// reader the latest one it has verified (`VerifiedLedger`); nil before the first.
    func latestCheckpoint() throws -> StoredCheckpoint?
}

extension SQLConnection {
    public var sqliteDatabase: Database? { nil }

    public func latestCheckpoint() throws -> StoredCheckpoint? {
        try storedCheckpoint(sql: "SELECT size, root, note, time FROM checkpoints ORDER BY size DESC LIMIT 1")
    }

    /// The checkpoint row `sql` selects (`size, root, note, time`).
    public func storedCheckpoint(sql: String, _ arguments: (any DatabaseValueConvertible)?...) throws -> StoredCheckpoint? {
        var found: SQLRow?
        try forEachRow(sql, arguments.map { $0?.databaseValue ?? .null }) { if found == nil { found = $0.detached() } }
        guard let row = found else { return nil }
        guard let root = Hash256(bytes: row["root"] as Data) else { throw StoreError.corrupt("checkpoint root") }
        return StoredCheckpoint(size: UInt64(row["size"] as Int64), root: root, note: row["note"], time: row["time"])
    }

    /// Runs a statement that returns no rows.
    func execute(_ sql: String, _ arguments: (any DatabaseValueConvertible)?...) throws {
        try execute(sql, arguments.map { $0?.databaseValue ?? .null })
    }

    /// Every row of `sql`.
    func rows(_ sql: String, _ arguments: (any DatabaseValueConvertible)?...) throws -> [SQLRow] {
        var rows: [SQLRow] = []
        try forEachRow(sql, arguments.map { $0?.databaseValue ?? .null }) { rows.append($0.detached()) }
        return rows
    }

    /// The first row of `sql`, nil when it has none.
    func row(_ sql: String, _ arguments: (any DatabaseValueConvertible)?...) throws -> SQLRow? {
        var first: SQLRow?
        try forEachRow(sql, arguments.map { $0?.databaseValue ?? .null }) { row in
            if first == nil { first = row.detached() }
        }
        return first
    }

    /// The first column of the first row of `sql`, nil when it has no row or a NULL there.
    func value<Value: DatabaseValueConvertible>(
        _ sql: String, _ arguments: (any DatabaseValueConvertible)?..., as: Value.Type = Value.self
    ) throws -> Value? {
        var first: DatabaseValue?
        try forEachRow(sql, arguments.map { $0?.databaseValue ?? .null }) { row in
            if first == nil { first = row.value(at: 0) }
        }
        guard let first, !first.isNull else { return nil }
        return decodeColumn(first, as: Value.self, column: "0")
    }

    /// Runs `compute` over the stored tree, SQLite's: a cached point read a node, a few
    /// microseconds each.
    public func readingTree<T>(_ compute: (any NodeSource) throws -> T) throws -> T {
        guard let db = sqliteDatabase else { throw StoreError.notOnThisEngine("reading the tree through SQL") }
        return try compute(StoredLedger(db: db))
    }
}

/// One row of an `SQLConnection`'s answer.
///
/// Read like GRDB's `Row`: `row[0] as Int64`, `row["entry"] as String?`. A value of
/// another type than asked is a store whose tables are not this daemon's, and traps
/// naming the column, as GRDB's `Row` does.
public struct SQLRow {
    /// The column names, shared by every row of one answer.
    let columns: [String]
    let values: [DatabaseValue]
    /// On SQLite, GRDB's row itself, read in place while its statement is on it (no
    /// copy of its values); `detached()` copies it to keep.
    private let sqlite: Row?

    public init(columns: [String], values: [DatabaseValue]) {
        self.columns = columns
        self.values = values
        self.sqlite = nil
    }

    init(sqlite row: Row, columns: [String]) {
        self.columns = columns
        self.values = []
        self.sqlite = row
    }

    /// A row that stays valid after its statement has moved on.
    func detached() -> SQLRow {
        guard let sqlite else { return self }
        return SQLRow(sqlite: sqlite.copy(), columns: columns)
    }

    func value(at index: Int) -> DatabaseValue {
        sqlite.map { $0[index] as DatabaseValue } ?? values[index]
    }

    public subscript<Value: DatabaseValueConvertible>(_ index: Int) -> Value {
        decodeColumn(value(at: index), as: Value.self, column: columns.indices.contains(index) ? columns[index] : "\(index)")
    }

    public subscript<Value: DatabaseValueConvertible>(_ name: String) -> Value {
        guard let index = columns.firstIndex(of: name) else { fatalError("the answer has no column \(name)") }
        return decodeColumn(value(at: index), as: Value.self, column: name)
    }

    // The types the store reads most, read from SQLite's row in place (GRDB's
    // column-convertible path: no `DatabaseValue` in between). Only integers, which the
    // tables never hold as NULL where they are read so, and optional text: a
    // non-optional `String` here would also be chosen where an optional is wanted, and
    // trap on a NULL.

    public subscript(_ index: Int) -> Int64 { column(index) }
    public subscript(_ index: Int) -> Int64? { optionalColumn(index) }
    public subscript(_ index: Int) -> Int { column(index) }
    public subscript(_ index: Int) -> String? { optionalColumn(index) }

    /// Column `index` as `Value`: read from SQLite's row in place when there is one.
    @inline(__always)
    private func column<Value: DatabaseValueConvertible & StatementColumnConvertible>(_ index: Int) -> Value {
        if let sqlite { return sqlite[index] as Value }
        return decodeColumn(values[index], as: Value.self, column: name(index))
    }

    @inline(__always)
    private func optionalColumn<Value: DatabaseValueConvertible & StatementColumnConvertible>(_ index: Int) -> Value? {
        if let sqlite { return sqlite[index] as Value? }
        return decodeColumn(values[index], as: Value?.self, column: name(index))
    }

    private func name(_ index: Int) -> String { columns.indices.contains(index) ? columns[index] : "\(index)" }
}

/// A row whose columns are read by name: GRDB's `Row`, or an `SQLRow` of either engine.
protocol NamedColumns {
    subscript<Value: DatabaseValueConvertible>(_ name: String) -> Value { get }
}

extension Row: NamedColumns {}
extension SQLRow: NamedColumns {}

private func decodeColumn<Value: DatabaseValueConvertible>(_ value: DatabaseValue, as: Value.Type, column: String) -> Value {
    guard let decoded = Value.fromDatabaseValue(value) else {
        fatalError("column \(column) holds \(value), not a \(Value.self)")
    }
    return decoded
}

extension Database: SQLConnection {
    public var sqliteDatabase: Database? { self }

    public func execute(_ sql: String, _ arguments: [DatabaseValue]) throws {
        try cachedStatement(sql: sql).execute(arguments: StatementArguments(arguments))
    }

    public func forEachRow(_ sql: String, _ arguments: [DatabaseValue], _ body: (SQLRow) throws -> Void) throws {
        let statement = try cachedStatement(sql: sql)
        let columns = statement.columnNames
        let cursor = try Row.fetchCursor(statement, arguments: StatementArguments(arguments))
        while let row = try cursor.next() {
            try body(SQLRow(sqlite: row, columns: columns))
        }
    }
}

/// Where readers run their queries: each `read` on a connection of its own, seeing
/// one consistent snapshot of the store, never blocking the writer.
public protocol ReadConnections: Sendable {
    func read<T: Sendable>(_ work: @escaping @Sendable (any SQLConnection) throws -> T) async throws -> T

    /// Why reads are held back from what is stored (a replica's newer checkpoint that
    /// did not verify), nil when they are not: for health checks.
    var problem: String? { get }
}

extension ReadConnections {
    public var problem: String? { nil }
}

/// SQLite's readers: the pool's reader connections, each read in a snapshot (WAL).
struct SQLiteReads: ReadConnections {
    let pool: DatabasePool

    func read<T: Sendable>(_ work: @escaping @Sendable (any SQLConnection) throws -> T) async throws -> T {
        try await pool.read { db in try work(db) }
    }
}
