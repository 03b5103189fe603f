import CarbonStore
import Foundation
import GRDB
import Logging
import NIOCore
import PostgresNIO
import Synchronization
import TransparencyLog

/// The store's engine-neutral queries (`SQLConnection`) on PostgreSQL: placeholders
/// numbered, values bound in PostgreSQL's types, cells read back as the `DatabaseValue`s
/// SQLite would give (every integer an int64, text a string, bytea a blob).
extension PostgresLedgerStorage: SQLConnection {
    public func forEachRow(_ sql: String, _ arguments: [DatabaseValue], _ body: (SQLRow) throws -> Void) throws {
        let answer = try rows(try PostgresSQL.query(sql, arguments))
        var columns: [String]?
        for row in answer {
            let cells = Array(row)
            if columns == nil { columns = cells.map(\.columnName) }
            try body(SQLRow(columns: columns!, values: try cells.map(PostgresSQL.value)))
        }
    }

    public func readingTree<T>(_ compute: (any NodeSource) throws -> T) throws -> T {
        try readingNodes(compute)
    }

    public func execute(_ sql: String, _ arguments: [DatabaseValue]) throws {
        try execute(try PostgresSQL.query(sql, arguments))
    }

    public func latestCheckpoint() throws -> StoredCheckpoint? {
        let columns = "SELECT size, root, note, time FROM checkpoints"
        switch bound {
        case .latestStored:
            return try storedCheckpoint(sql: "\(columns) ORDER BY size DESC LIMIT 1")
        case .verified(nil):
            return nil
        case .verified(let verified?):
            let size = Int64(verified.checkpoint.size)
            guard let stored = try storedCheckpoint(sql: "\(columns) WHERE size = ?", size), stored.note == verified.note
            else { throw PostgresStoreError.corrupt("the verified checkpoint of size \(size) is no longer the one stored") }
            return stored
        }
    }
}

/// Translating the store's SQL and values to PostgreSQL's.
enum PostgresSQL {
    /// `sql` with SQLite's placeholders as PostgreSQL's: `?` numbered in order, `?N` as
    /// `$N`. Quoted strings and identifiers are left as they are.
    static func numbered(_ sql: String) -> String {
        var out = ""
        out.reserveCapacity(sql.utf8.count + 16)
        var next = 0
        var quote: Character?
        var characters = sql.makeIterator()
        var pending: Character? = nil
        while let c = pending ?? characters.next() {
            pending = nil
            if let open = quote {
                out.append(c)
                if c == open { quote = nil }
                continue
            }
            switch c {
            case "'", "\"":
                quote = c
                out.append(c)
            case "?":
                var digits = ""
                while let d = characters.next() {
                    guard d.isASCII, d.isNumber else {
                        pending = d
                        break
                    }
                    digits.append(d)
                }
                if digits.isEmpty {
                    next += 1
                    out += "$\(next)"
                } else {
                    out += "$" + digits
                }
            default:
                out.append(c)
            }
        }
        return out
    }

    static func query(_ sql: String, _ arguments: [DatabaseValue]) throws -> PostgresQuery {
        var bindings = PostgresBindings(capacity: arguments.count)
        for argument in arguments {
            switch argument.storage {
            case .null: bindings.appendNull()
            case .int64(let value): try bindings.append(value)
            case .double(let value): try bindings.append(value)
            case .string(let value): try bindings.append(value)
            case .blob(let value): try bindings.append(ByteBuffer(bytes: value))
            }
        }
        return PostgresQuery(unsafeSQL: numbered(sql), binds: bindings)
    }

    /// A cell as SQLite would give it.
    static func value(_ cell: PostgresCell) throws -> DatabaseValue {
        guard cell.bytes != nil else { return .null }
        switch cell.dataType {
        case .int2: return Int64(try cell.decode(Int16.self)).databaseValue
        case .int4: return Int64(try cell.decode(Int32.self)).databaseValue
        case .int8: return try cell.decode(Int64.self).databaseValue
        case .bool: return (try cell.decode(Bool.self) ? 1 : 0 as Int64).databaseValue
        case .float4, .float8: return try cell.decode(Double.self).databaseValue
        case .bytea: return Data(try cell.decode(ByteBuffer.self).readableBytesView).databaseValue
        case .numeric:
            // A sum of BIGINTs is NUMERIC in PostgreSQL; the store's sums are whole numbers.
            let text = try cell.decode(String.self)
            guard let whole = Int64(text) else {
                throw PostgresStoreError.corrupt("column \(cell.columnName) holds \(text), not a whole number in 64 bits")
            }
            return whole.databaseValue
        default: return try cell.decode(String.self).databaseValue
        }
    }
}

/// Readers' connections to a PostgreSQL server (a primary or a streaming replica): up
/// to `limit` sessions, opened as needed and kept; each read runs in one read-only,
/// repeatable-read transaction (one snapshot, as SQLite's readers see) on a thread of
/// its own, since the store's queries wait for the server synchronously.
///
/// With `verifiedBy` (a replica's reader), each read is bounded by the latest
/// checkpoint that ledger has verified, looked for anew before the read.
public final class PostgresReads: ReadConnections {
    public let location: PostgresLocation
    let limit: Int
    let verified: VerifiedLedger?
    let logger: Logger
    /// Why the latest refresh refused a newer checkpoint (`VerifiedLedger.problem`).
    private let refusal = Mutex<String?>(nil)
    private let state = Mutex(State())

    private struct State {
        var idle: [PostgresSession] = []
        var open = 0
        var waiting: [CheckedContinuation<Void, Never>] = []
    }

    public init(
        location: PostgresLocation, limit: Int = 8, verifiedBy verified: VerifiedLedger? = nil,
        logger: Logger = Logger(label: "carbonledger.postgres")
    ) {
        self.location = location
        self.limit = max(1, limit)
        self.verified = verified
        self.logger = logger
    }

    public func read<T: Sendable>(_ work: @escaping @Sendable (any SQLConnection) throws -> T) async throws -> T {
        let bound: PostgresLedgerStorage.CheckpointBound
        if let verified {
            bound = .verified(try await verified.refresh())
            let problem = await verified.problem
            refusal.withLock { $0 = problem }
        } else {
            bound = .latestStored
        }
        let session = try await acquire()
        var healthy = false
        defer { release(session, healthy: healthy) }
        let value = try await onOwnThread {
            let tables = PostgresLedgerStorage(session: session, bound: bound)
            try blocking { try await session.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY") }
            do {
                let value = try work(tables)
                try blocking { try await session.execute("COMMIT") }
                return value
            } catch {
                try? blocking { try await session.execute("ROLLBACK") }
                throw error
            }
        }
        healthy = true
        return value
    }

    public var problem: String? { refusal.withLock { $0 } }

    /// Closes every idle session, waiting on the calling thread; reads under way close
    /// theirs as they finish.
    public func close() {
        let idle = state.withLock { state in
            defer { state.idle = [] }
            state.open -= state.idle.count
            return state.idle
        }
        for session in idle { session.closeWaiting() }
    }

    private func acquire() async throws -> PostgresSession {
        while true {
            enum Next { case use(PostgresSession), connect, wait }
            let next = state.withLock { state -> Next in
                if let session = state.idle.popLast() { return .use(session) }
                if state.open < limit {
                    state.open += 1
                    return .connect
                }
                return .wait
            }
            switch next {
            case .use(let session):
                if !session.connection.isClosed { return session }
                dropped()
            case .connect:
                do {
                    return try await PostgresSession.connect(to: location, logger: logger)
                } catch {
                    dropped()
                    throw error
                }
            case .wait:
                await withCheckedContinuation { continuation in
                    let admitted = state.withLock { state -> Bool in
                        guard state.idle.isEmpty, state.open >= limit else { return true }
                        state.waiting.append(continuation)
                        return false
                    }
                    if admitted { continuation.resume() }
                }
            }
        }
    }

    /// A session goes back to the idle ones; one whose read failed is closed instead
    /// (its transaction may be left open, or the server gone).
    private func release(_ session: PostgresSession, healthy: Bool) {
        if healthy && !session.connection.isClosed {
            let waiter = state.withLock { state in
                state.idle.append(session)
                return state.waiting.isEmpty ? nil : state.waiting.removeFirst()
            }
            waiter?.resume()
        } else {
            Task { await session.close() }
            dropped()
        }
    }

    private func dropped() {
        let waiter = state.withLock { state in
            state.open -= 1
            return state.waiting.isEmpty ? nil : state.waiting.removeFirst()
        }
        waiter?.resume()
    }
}
