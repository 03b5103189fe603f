import Dispatch
import Foundation
import Logging
import NIOCore
import PostgresNIO
import Synchronization

/// One connection to the PostgreSQL server, the unit the store works in: the writer
/// holds one for its whole life (its advisory lock lives and dies with it), and each
/// reader its own.
public final class PostgresSession: Sendable {
    public let connection: PostgresConnection
    public let location: PostgresLocation
    let logger: Logger

    /// The operations waiting for the server, failed together when the connection closes.
    private let waiting = Mutex(Waiting())

    private static let ids = Atomic<Int>(0)

    private init(connection: PostgresConnection, location: PostgresLocation, logger: Logger) {
        self.connection = connection
        self.location = location
        self.logger = logger
        connection.closeFuture.whenComplete { _ in self.connectionClosed() }
    }

    /// Connects as `location` says. The error names the server and why, never the password.
    public static func connect(to location: PostgresLocation, logger: Logger) async throws -> PostgresSession {
        var configuration: PostgresConnection.Configuration
        switch location.endpoint {
        case .unixSocket(let path):
            configuration = .init(
                unixSocketPath: path, username: location.user, password: location.password, database: location.database)
        case .tcp(let host, let port):
            configuration = .init(
                host: host, port: port, username: location.user, password: location.password,
                database: location.database, tls: .disable)
        }
        configuration.options.connectTimeout = .seconds(10)
        do {
            let connection = try await PostgresConnection.connect(
                configuration: configuration, id: ids.wrappingAdd(1, ordering: .relaxed).newValue, logger: logger)
            return PostgresSession(connection: connection, location: location, logger: logger)
        } catch {
            throw PostgresStoreError.unreachable("cannot connect to \(location.redacted): \(PostgresStoreError.describe(error))")
        }
    }

    /// Runs one statement and discards its rows.
    public func execute(_ query: PostgresQuery) async throws {
        let (connection, logger) = (self.connection, self.logger)
        try await PostgresStoreError.naming(query) {
            _ = try await watching { try await connection.query(query, logger: logger).collect() }
        }
    }

    /// Runs one statement and gives its rows.
    public func rows(_ query: PostgresQuery) async throws -> [PostgresRow] {
        let (connection, logger) = (self.connection, self.logger)
        return try await PostgresStoreError.naming(query) {
            try await watching { try await connection.query(query, logger: logger).collect() }
        }
    }

    /// Runs `operation` on this connection, and fails it as soon as the connection
    /// closes, whether or not the operation has noticed.
    ///
    /// postgres-nio 1.33.2 can leave a `COPY` waiting forever for a server that died
    /// under it (docs/storage.md); the writer would wait with it, holding every
    /// submitter. The abandoned operation is left to its driver; the session is closed
    /// for good, so nothing else waits on it.
    func watching<T: Sendable>(_ operation: @escaping @Sendable () async throws -> T) async throws -> T {
        let waiter = Waiter<T>()
        return try await withCheckedThrowingContinuation { continuation in
            waiter.continuation.withLock { $0 = continuation }
            let admitted = waiting.withLock { waiting -> Int? in
                guard !waiting.closed else { return nil }
                waiting.next += 1
                waiting.pending[waiting.next] = { waiter.resume(with: .failure($0)) }
                return waiting.next
            }
            guard let id = admitted else {
                waiter.resume(with: .failure(lost))
                return
            }
            Task {
                let result: Result<T, any Error>
                do { result = .success(try await operation()) } catch { result = .failure(error) }
                _ = self.waiting.withLock { $0.pending.removeValue(forKey: id) }
                waiter.resume(with: result)
            }
        }
    }

    private var lost: PostgresStoreError {
        .unreachable("the connection to \(location.redacted) closed (the server stopped or dropped it)")
    }

    private func connectionClosed() {
        let pending = waiting.withLock { waiting in
            waiting.closed = true
            defer { waiting.pending = [:] }
            return waiting.pending.values
        }
        for fail in pending { fail(lost) }
    }

    /// Runs `work` in one transaction: committed if it returns, rolled back if it throws.
    public func transaction<T: Sendable>(_ work: (PostgresSession) async throws -> T) async throws -> T {
        try await execute("BEGIN")
        let value: T
        do {
            value = try await work(self)
        } catch {
            try? await execute("ROLLBACK")
            throw error
        }
        try await execute("COMMIT")
        return value
    }

    public func close() async {
        try? await connection.close()
    }

    /// Closes the connection and waits for that on the calling thread (never an event
    /// loop's): for closing a store from synchronous code.
    public func closeWaiting() {
        try? connection.close().wait()
    }
}

/// What `PostgresSession.watching` keeps: the operations in flight, and whether the
/// connection has closed.
private struct Waiting {
    var next = 0
    var pending: [Int: @Sendable (any Error) -> Void] = [:]
    var closed = false
}

/// One operation's continuation, resumed once: by the operation or by the connection closing.
private final class Waiter<T: Sendable>: Sendable {
    let continuation = Mutex<CheckedContinuation<T, any Error>?>(nil)

    func resume(with result: Result<T, any Error>) {
        continuation.withLock { $0.take() }?.resume(with: result)
    }
}

/// Why the PostgreSQL store refused or failed; each names what it was doing.
public enum PostgresStoreError: Error, CustomStringConvertible, Equatable {
    /// The server cannot be reached or refused the login.
    case unreachable(String)
    /// A statement failed; the message names it and the server's words.
    case statement(String)
    /// The database holds a schema this daemon does not know (a newer one).
    case schema(String)
    /// Another writer holds the database.
    case locked(String)
    /// What is stored contradicts itself.
    case corrupt(String)

    public var description: String {
        switch self {
        case .unreachable(let message), .statement(let message), .schema(let message), .locked(let message),
            .corrupt(let message):
            return message
        }
    }

    /// The server's own words for an error (PSQLError hides them from `description`).
    static func describe(_ error: any Error) -> String {
        guard let psql = error as? PSQLError else { return "\(error)" }
        if let server = psql.serverInfo {
            let fields = [server[.sqlState].map { "SQLSTATE \($0)" }, server[.message], server[.detail]]
            return fields.compactMap { $0 }.joined(separator: ": ")
        }
        if let underlying = psql.underlying { return "\(psql.code): \(underlying)" }
        return "\(psql.code)"
    }

    /// The server's SQLSTATE for `error`, if it is the server's refusal.
    static func sqlState(_ error: any Error) -> String? {
        (error as? PSQLError)?.serverInfo?[.sqlState]
    }

    static func naming<T>(_ query: PostgresQuery, _ work: () async throws -> T) async throws -> T {
        do {
            return try await work()
        } catch let error as PostgresStoreError {
            throw error
        } catch {
            let statement = query.sql.split(separator: "\n").first.map(String.init) ?? query.sql
            throw PostgresStoreError.statement("\(statement.prefix(120)): \(describe(error))")
        }
    }
}

/// Runs `work` to completion and waits for it on the calling thread.
///
/// The store's writer is a thread of its own that works synchronously (the append path
/// and the SQLite store are synchronous), so its PostgreSQL calls wait here for the
/// connection's event loop. Never call this from a task of Swift's cooperative pool:
/// blocking one of its threads can starve the very task being waited for.
public func blocking<T: Sendable>(_ work: @escaping @Sendable () async throws -> T) throws -> T {
    let outcome = Mutex<Result<T, any Error>?>(nil)
    let done = DispatchSemaphore(value: 0)
    Task.detached {
        let result: Result<T, any Error>
        do { result = .success(try await work()) } catch { result = .failure(error) }
        outcome.withLock { $0 = result }
        done.signal()
    }
    done.wait()
    return try outcome.withLock { $0! }.get()
}

/// Runs synchronous work that waits for the server (`blocking`) on a thread of its
/// own, as the store's writer does, and awaits its result: never on a thread of Swift's
/// cooperative pool.
public func onOwnThread<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread { continuation.resume(with: Result { try work() }) }.start()
    }
}
