import PostgresNIO

/// The one writer's claim on a PostgreSQL database: a session-level advisory lock,
/// held by the writer's connection for as long as it lives. A second writer (on this
/// machine or another) is refused naming the holder; when the holder's connection
/// ends, even by a crash or a kill, the server releases the lock and the next writer
/// may take over. Read-only daemons never take it.
public enum WriterLock {
    /// "carbonledger writer" as an advisory lock key.
    static let key: Int64 = 0x636c_7772_6974_6572

    /// Takes the lock on `session`, or throws `.locked` naming the server process that
    /// holds it and where it connects from.
    public static func acquire(on session: PostgresSession) async throws {
        let rows = try await session.rows("SELECT pg_try_advisory_lock(\(key))")
        guard try rows.first?.decode(Bool.self) == true else {
            throw PostgresStoreError.locked(
                "the database \(session.location.redacted) is written by another carbonledgerd"
                    + (try await holder(on: session)) + "; one writer signs a ledger: stop it first, or start this "
                    + "daemon with --read-only")
        }
    }

    /// Takes the lock, trying again for up to `patience` while another session holds
    /// it: the server frees a killed writer's lock only once its backend has seen the
    /// connection end, a moment after a restart may already ask.
    public static func acquire(on session: PostgresSession, patience: Duration) async throws {
        let deadline = ContinuousClock.now + patience
        while true {
            do {
                return try await acquire(on: session)
            } catch PostgresStoreError.locked(let message) {
                guard ContinuousClock.now < deadline else { throw PostgresStoreError.locked(message) }
                try await Task.sleep(for: .milliseconds(50))
            }
        }
    }

    /// Gives the lock back (closing the session does too).
    public static func release(on session: PostgresSession) async throws {
        try await session.execute("SELECT pg_advisory_unlock(\(key))")
    }

    /// " (server process P, from ADDRESS)" for the lock's holder, if the server says.
    static func holder(on session: PostgresSession) async throws -> String {
        let high = Int64(UInt64(bitPattern: key) >> 32)
        let low = Int64(UInt64(bitPattern: key) & 0xFFFF_FFFF)
        let rows = try await session.rows("""
            SELECT l.pid, COALESCE(host(a.client_addr), 'a local socket')
            FROM pg_locks l LEFT JOIN pg_stat_activity a ON a.pid = l.pid
            WHERE l.locktype = 'advisory' AND l.granted AND l.classid::bigint = \(high)
              AND l.objid::bigint = \(low) AND l.objsubid = 1
            """)
        guard let row = rows.first, let (pid, from) = try? row.decode((Int32, String).self) else { return "" }
        return " (server process \(pid), connected from \(from))"
    }
}
