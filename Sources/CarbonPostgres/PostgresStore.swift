import CarbonAccounting
import CarbonLedger
import CarbonModel
import CarbonStore
import Foundation
import GRDB
import Logging
import PostgresNIO
import TransparencyLog

/// The writer's connection as `LedgerWriter` drives it: a group of jobs in one
/// transaction, each job in a savepoint. The connection holds the writer lock
/// (`WriterLock`) for its whole life.
public struct PostgresWriterEngine: WriterEngine {
    public let tables: PostgresLedgerStorage

    public init(session: PostgresSession) {
        tables = PostgresLedgerStorage(session: session)
    }

    public func transaction(_ body: (PostgresLedgerStorage) throws -> Void) throws {
        try tables.execute("BEGIN")
        do {
            try body(tables)
        } catch {
            try? tables.execute("ROLLBACK")
            throw error
        }
        try tables.execute("COMMIT")
    }

    public func savepoint<T>(_ tables: PostgresLedgerStorage, _ body: () throws -> T) throws -> T {
        try tables.execute("SAVEPOINT job")
        do {
            let value = try body()
            try tables.execute("RELEASE SAVEPOINT job")
            return value
        } catch {
            try? tables.execute("ROLLBACK TO SAVEPOINT job")
            try? tables.execute("RELEASE SAVEPOINT job")
            throw error
        }
    }
}

/// Opening the store on a PostgreSQL server: as its one writer, or as a reader of a
/// streaming replica that serves only what it has verified.
public enum PostgresStore {
    /// How long a starting writer waits for the writer lock before it gives up naming
    /// the holder (a writer killed a moment ago still holds it until its backend ends).
    public static let lockPatience: Duration = .seconds(10)

    /// Opens the store at `location` as its writer: connects, takes the writer lock
    /// (refused naming the holder if another daemon writes), applies migrations, and
    /// prepares the ledger as the SQLite store does. Readers get `readers` connections
    /// of their own. Call from a thread of its own (`onOwnThread`): it waits for the
    /// server synchronously.
    public static func openWriter(
        at location: PostgresLocation, readers: Int = 8, signer: NoteSigner, keyPath: String = "", zones: ZoneTree?,
        factorDatasets: [FactorDataset] = [], program: Program = Program(), highestCheckpoint: HighestCheckpoint? = nil,
        acceptRollback: Bool = false, provisionalRefresh: Int64 = 0,
        clock: @escaping @Sendable () -> Int64 = { Int64(Date().timeIntervalSince1970) },
        logger: Logger = Logger(label: "carbonledger.store")
    ) throws -> CarbonStore {
        let session = try blocking { try await PostgresSession.connect(to: location, logger: logger) }
        do {
            try blocking {
                try await WriterLock.acquire(on: session, patience: lockPatience)
                try await PostgresSchema.migrate(session)
            }
        } catch {
            try? blocking { await session.close() }
            throw error
        }
        let reads = PostgresReads(location: location, limit: readers, logger: logger)
        do {
            return try CarbonStore(
                engine: PostgresWriterEngine(session: session), reads: reads, signer: signer, keyPath: keyPath,
                zones: zones, factorDatasets: factorDatasets, program: program, highestCheckpoint: highestCheckpoint,
                acceptRollback: acceptRollback, provisionalRefresh: provisionalRefresh, clock: clock, logger: logger,
                release: { Self.close(session, reads) })
        } catch {
            Self.close(session, reads)
            throw error
        }
    }

    /// Opens the store at `location` (a streaming replica, or any server) for reads
    /// only: writes are refused naming `writer`, and every read is bounded by the
    /// latest checkpoint verified against `publishedKey` and the ledger's key chain.
    public static func openReader(
        at location: PostgresLocation, readers: Int = 8, publishedKey: NoteVerifier, writer: String,
        program: Program = Program(), provisionalRefresh: Int64 = 0,
        clock: @escaping @Sendable () -> Int64 = { Int64(Date().timeIntervalSince1970) },
        logger: Logger = Logger(label: "carbonledger.store")
    ) async throws -> CarbonStore {
        let session = try await PostgresSession.connect(to: location, logger: logger)
        let verified = VerifiedLedger(session: session, publishedKey: publishedKey)
        let reads = PostgresReads(location: location, limit: readers, verifiedBy: verified, logger: logger)
        return CarbonStore(
            readOnly: reads, writer: writer, program: program, provisionalRefresh: provisionalRefresh, clock: clock,
            release: { Self.close(session, reads) })
    }

    /// Closes the readers' sessions and the writer's (which frees the writer lock at
    /// once), waiting on the calling thread.
    private static func close(_ session: PostgresSession, _ reads: PostgresReads) {
        reads.close()
        session.closeWaiting()
    }
}
