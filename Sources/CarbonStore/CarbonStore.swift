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
    /// The single writer every change goes through.
    public let writer: LedgerWriter
    /// Read-only queries.
    public let reader: LedgerReader
    /// The program the store accounts for.
    public let program: Program
    /// WAL traffic of the writer connection.
    public let walMonitor: WALMonitor
    private let pool: DatabasePool
    private let lock: DatabaseLock

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
        let origin = signer.name
        let walMonitor = WALMonitor()
        let (cache, appender) = try pool.writeWithoutTransaction { db in
            // GRDB sets NORMAL when it enables WAL; the writer connection is the only one that commits.
            try db.execute(sql: "PRAGMA synchronous = \(synchronous.rawValue)")
            if let connection = db.sqliteConnection { walMonitor.install(on: connection) }
            return try Self.prepare(
                db: db, signer: signer, keyPath: keyPath, origin: origin, zones: zones, factorDatasets: factorDatasets,
                time: clock(), logger: logger)
        }
        if let highestCheckpoint {
            try pool.read { db in
                try Self.check(appender, against: highestCheckpoint, acceptRollback: acceptRollback, db: db, logger: logger)
            }
            if let note = appender.lastNote { try highestCheckpoint.save(note) }
        }
        self.pool = pool
        self.lock = lock
        self.walMonitor = walMonitor
        self.program = program
        let durable = DurableCheckpoint(try pool.read { db in try LedgerReader.latestCheckpoint(db) })
        self.reader = LedgerReader(
            pool: pool, program: program, durable: durable, provisionalRefresh: provisionalRefresh, clock: clock)
        self.writer = LedgerWriter(
            engine: SQLiteWriterEngine(pool: pool), program: program, cache: cache, appender: appender, highestCheckpoint: highestCheckpoint,
            durable: durable, clock: clock, logger: logger)
    }

    /// Checks the stored key and ledger, writes the genesis entry on first use,
    /// and loads what the writer keeps in memory.
    private static func prepare(
        db: Database, signer: NoteSigner, keyPath: String, origin: String, zones: ZoneTree?,
        factorDatasets: [FactorDataset], time: Int64, logger: Logger
    ) throws -> (RegistryCache, LedgerAppender) {
        var appender: LedgerAppender! = nil
        try db.inTransaction(.immediate) {
            try KeyRecord.claim(for: signer, origin: origin, tables: StoredLedger(db: db))
            let (previous, problem) = try KeyRecord.previous(tables: StoredLedger(db: db), current: signer.verifier, time: time)
            if let problem { logger.warning("\(problem)") }
            appender = try LedgerAppender.load(
                db: db, signer: signer, signerPath: keyPath, previous: previous, origin: origin)
            if appender.lastNote == nil {
                // First start: the zone tree is the first entry, then the configured
                // factor datasets; even an empty ledger has a signed checkpoint to fetch.
                if let zones {
                    for zone in zones.zones {
                        try db.execute(
                            sql: "INSERT INTO zones(zone, parent, name) VALUES (?, ?, ?)",
                            arguments: [zone.zone, zone.parent, zone.name])
                    }
                    _ = try appender.append(.zones(ZonesEntry(tree: zones)), time: time, db: db)
                }
                for dataset in factorDatasets {
                    try FactorDatasets.record(dataset, appender: &appender, time: time, tables: StoredLedger(db: db))
                }
                _ = try appender.publishCheckpoint(time: time, db: db)
            }
            return .commit
        }
        return (try RegistryCache.load(db: db), appender)
    }

    /// Refuses a database whose ledger does not extend the highest checkpoint this
    /// daemon has signed (an older copy restored, or another ledger's file): signing on
    /// from it would sign a second tree of a size already signed. With
    /// `acceptRollback` the operator takes that on, and it is logged as critical.
    private static func check(
        _ appender: LedgerAppender, against file: HighestCheckpoint, acceptRollback: Bool, db: Database, logger: Logger
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
        } else if try MerkleProofs.rootHash(size: highest.size, nodes: StoredLedger(db: db)) != highest.rootHash {
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

    /// Commits what is queued and stops the writer; later submissions fail.
    public func close() {
        writer.stop()
        lock.release()
    }
}
