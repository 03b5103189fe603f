import CarbonLedger
import CarbonModel
import Foundation
import GRDB
import Logging
import TransparencyLog

/// How hard SQLite syncs a commit to disk (`PRAGMA synchronous`).
public enum SynchronousMode: String, Sendable {
    /// fsync the WAL at every commit: an acknowledged batch survives power loss.
    case full = "FULL"
    /// fsync only at WAL checkpoints: survives a crash of the process, not of the machine.
    case normal = "NORMAL"
}

/// The embedded database: the registry, the readings and the signed ledger.
public final class CarbonStore: Sendable {
    /// The single writer every change goes through (`ReadOnlyWriter` on a store that only reads).
    public let writer: any StoreWriter
    /// Read-only queries.
    public let reader: LedgerReader
    /// The program the store accounts for.
    public let program: Program
    /// WAL traffic of the writer connection (SQLite's; idle on other engines).
    public let walMonitor: WALMonitor
    /// Whether this store takes no writes (a reader of another engine's replica).
    public let isReadOnly: Bool
    /// Releases what the store holds once the writer has stopped (SQLite's file lock,
    /// another engine's connections).
    private let release: @Sendable () -> Void

    /// Opens (creating on first use) the database at `path`, checks it belongs to
    /// `signer`'s ledger, and on first use records the zone tree as the first entry.
    /// `keyPath` is the file `signer` was read from (empty if none: after a rotation
    /// that key then cannot co-sign checkpoints across a restart). Open periods' peer
    /// groups are recomputed at most every `provisionalRefresh` seconds (0: whenever
    /// the ledger has grown; see `ProvisionalSnapshots`).
    public init(
        path: String, signer: NoteSigner, keyPath: String = "", synchronous: SynchronousMode = .full, zones: ZoneTree?,
        factorDatasets: [FactorDataset] = [], program: Program = Program(),
        highestCheckpoint: HighestCheckpoint? = nil, acceptRollback: Bool = false, provisionalRefresh: Int64 = 0,
        clock: @escaping @Sendable () -> Int64 = { Int64(Date().timeIntervalSince1970) },
        logger: Logger = Logger(label: "carbonledger.store")
    ) throws {
        let lock = try DatabaseLock(databasePath: path)
        try DatabaseFiles.makePrivate(path)
        for stale in DatabaseFiles.removeStaleBackups(of: path) {
            logger.notice("removed a backup copy left by a daemon that stopped while taking it", metadata: ["path": "\(stale)"])
        }
        var configuration = Configuration()
        configuration.busyMode = .timeout(5)
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA cache_size = -65536")
        }
        let pool = try DatabasePool(path: path, configuration: configuration)
        try Schema.migrator.migrate(pool)
        let walMonitor = WALMonitor()
        try pool.writeWithoutTransaction { db in
            // GRDB sets NORMAL when it enables WAL; the writer connection is the only one that commits.
            try db.execute(sql: "PRAGMA synchronous = \(synchronous.rawValue)")
            if let connection = db.sqliteConnection { walMonitor.install(on: connection) }
        }
        let opened = try Self.openWriter(
            engine: SQLiteWriterEngine(pool: pool), signer: signer, keyPath: keyPath,
            zones: zones, factorDatasets: factorDatasets, program: program, highestCheckpoint: highestCheckpoint,
            acceptRollback: acceptRollback, clock: clock, logger: logger)
        self.walMonitor = walMonitor
        self.program = program
        self.isReadOnly = false
        self.release = { lock.release() }
        self.reader = LedgerReader(
            pool: pool, program: program, durable: opened.durable, provisionalRefresh: provisionalRefresh, clock: clock)
        self.writer = opened.writer
    }

    /// Opens a store on another engine (PostgreSQL): `engine` is the writer's
    /// connection, `reads` the readers' connections to the same database. Checks and
    /// prepares the ledger as the SQLite store does; `release` runs after the writer
    /// has stopped.
    public init<Engine: WriterEngine>(
        engine: Engine, reads: any ReadConnections, signer: NoteSigner, keyPath: String = "", zones: ZoneTree?,
        factorDatasets: [FactorDataset] = [], program: Program = Program(), highestCheckpoint: HighestCheckpoint? = nil,
        acceptRollback: Bool = false, provisionalRefresh: Int64 = 0,
        clock: @escaping @Sendable () -> Int64 = { Int64(Date().timeIntervalSince1970) },
        logger: Logger = Logger(label: "carbonledger.store"), release: @escaping @Sendable () -> Void
    ) throws {
        let opened = try Self.openWriter(
            engine: engine, signer: signer, keyPath: keyPath, zones: zones, factorDatasets: factorDatasets,
            program: program, highestCheckpoint: highestCheckpoint, acceptRollback: acceptRollback, clock: clock,
            logger: logger)
        self.walMonitor = WALMonitor()
        self.program = program
        self.isReadOnly = false
        self.release = release
        self.reader = LedgerReader(
            connections: reads, program: program, durable: opened.durable, provisionalRefresh: provisionalRefresh, clock: clock)
        self.writer = opened.writer
    }

    /// A store that only reads (`reads`, a replica's connections): every write is
    /// refused naming `writer`, where writes go.
    public init(
        readOnly reads: any ReadConnections, writer: String, program: Program = Program(), provisionalRefresh: Int64 = 0,
        clock: @escaping @Sendable () -> Int64 = { Int64(Date().timeIntervalSince1970) },
        release: @escaping @Sendable () -> Void
    ) {
        self.walMonitor = WALMonitor()
        self.program = program
        self.isReadOnly = true
        self.release = release
        self.reader = LedgerReader(connections: reads, program: program, provisionalRefresh: provisionalRefresh, clock: clock)
        self.writer = ReadOnlyWriter(writer: writer)
    }

    /// Prepares the ledger on `engine` (the key, the genesis on first use, the check
    /// against the highest signed checkpoint) and starts its writer.
    private static func openWriter<Engine: WriterEngine>(
        engine: Engine, signer: NoteSigner, keyPath: String, zones: ZoneTree?,
        factorDatasets: [FactorDataset], program: Program, highestCheckpoint: HighestCheckpoint?, acceptRollback: Bool,
        clock: @escaping @Sendable () -> Int64, logger: Logger
    ) throws -> (writer: LedgerWriter, durable: DurableCheckpoint) {
        var prepared: (cache: RegistryCache, appender: LedgerAppender, latest: StoredCheckpoint?)?
        try engine.transaction { tables in
            let (cache, appender) = try Self.prepare(
                tables: tables, signer: signer, keyPath: keyPath, zones: zones, factorDatasets: factorDatasets,
                time: clock(), logger: logger)
            if let highestCheckpoint {
                try Self.check(appender, against: highestCheckpoint, acceptRollback: acceptRollback, db: tables, logger: logger)
            }
            prepared = (cache, appender, try tables.latestCheckpoint())
        }
        let (cache, appender, latest) = prepared!
        if let highestCheckpoint, let note = appender.lastNote { try highestCheckpoint.save(note) }
        let durable = DurableCheckpoint(latest)
        let writer = LedgerWriter(
            engine: engine, program: program, cache: cache, appender: appender, highestCheckpoint: highestCheckpoint,
            durable: durable, clock: clock, logger: logger)
        return (writer, durable)
    }

    /// Checks the stored key and ledger, writes the genesis entry on first use,
    /// and loads what the writer keeps in memory.
    private static func prepare(
        tables: some StoreTables, signer: NoteSigner, keyPath: String, zones: ZoneTree?,
        factorDatasets: [FactorDataset], time: Int64, logger: Logger
    ) throws -> (RegistryCache, LedgerAppender) {
        let origin = signer.name
        try KeyRecord.claim(for: signer, origin: origin, tables: tables)
        let (previous, problem) = try KeyRecord.previous(tables: tables, current: signer.verifier, time: time)
        if let problem { logger.warning("\(problem)") }
        var appender = try StoreError.mapping {
            try LedgerAppender.load(from: tables, signer: signer, signerPath: keyPath, previous: previous, origin: origin)
        }
        if appender.lastNote == nil {
            // First start: the zone tree is the first entry, then the configured
            // factor datasets; even an empty ledger has a signed checkpoint to fetch.
            if let zones {
                try tables.insertZones(zones.zones)
                _ = try StoreError.mapping { try appender.append(.zones(ZonesEntry(tree: zones)), time: time, to: tables) }
            }
            for dataset in factorDatasets {
                try FactorDatasets.record(dataset, appender: &appender, time: time, tables: tables)
            }
            _ = try StoreError.mapping { try appender.publishCheckpoint(time: time, to: tables) }
        }
        return (try RegistryCache.load(from: tables), appender)
    }

    /// Refuses a database whose ledger does not extend the highest checkpoint this
    /// daemon has signed (an older copy restored, or another ledger's file): signing on
    /// from it would sign a second tree of a size already signed. With
    /// `acceptRollback` the operator takes that on, and it is logged as critical.
    private static func check(
        _ appender: LedgerAppender, against file: HighestCheckpoint, acceptRollback: Bool, db: some SQLConnection,
        logger: Logger
    ) throws {
        let highest: Checkpoint
        do {
            guard let signed = try file.highest(verifiers: KeyRecord.chain(db: db)) else { return }
            highest = signed.checkpoint
        } catch {
            guard acceptRollback else { throw error }
            logger.critical("\(error); --accept-rollback given: starting over from this database's checkpoint")
            return
        }
        let size = appender.lastCheckpoint.size
        let problem: String
        if size < highest.size {
            problem = "this database's ledger has \(size) entries, but this daemon has signed a checkpoint of "
                + "\(highest.size) (\(file.path)): the database is older than what the ledger has published"
        } else if try db.readingTree({ try MerkleProofs.rootHash(size: highest.size, nodes: $0) }) != highest.rootHash {
            problem = "this database's tree of \(highest.size) entries has another root than the checkpoint this daemon "
                + "signed at that size (\(file.path)): it is not the ledger this daemon has published"
        } else {
            return
        }
        guard acceptRollback else {
            throw StoreError.rollback(
                problem + "; signing on would fork the ledger. Restore a copy holding at least \(highest.size) entries, "
                    + "or start once with --accept-rollback to sign on from this database (clients holding the "
                    + "checkpoint of \(highest.size) will report a fork)")
        }
        logger.critical(
            "\(problem); --accept-rollback given: signing on from \(size) entries, a fork for any client that holds the checkpoint of \(highest.size)")
    }

    /// The latest durable checkpoint: from the writer's memory, or on a store that only
    /// reads, the latest its reads are bounded by.
    public func durableCheckpoint() async throws -> StoredCheckpoint? {
        isReadOnly ? try await reader.latestCheckpoint() : writer.latestCheckpoint
    }

    /// Commits what is queued and stops the writer; later submissions fail.
    public func close() {
        writer.stop()
        release()
    }
}
