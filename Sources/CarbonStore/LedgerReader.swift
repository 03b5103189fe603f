import CarbonAccounting
import CarbonLedger
import CarbonModel
import Foundation
import GRDB
import TransparencyLog

/// A stored ledger entry with its signature and leaf hash.
public struct StoredEntry: Sendable, Equatable {
    public var index: UInt64
    public var body: [UInt8]
    public var signature: [UInt8]
    public var leafHash: Hash256
}

/// A signed checkpoint as stored.
public struct StoredCheckpoint: Sendable, Equatable {
    public var size: UInt64
    public var root: Hash256
    public var note: String
    public var time: Int64
}

/// An RFC 9162 inclusion proof with the root it leads to.
public struct InclusionProof: Sendable, Equatable {
    public var index: UInt64
    public var size: UInt64
    public var root: Hash256
    public var hashes: [Hash256]
}

/// The two-level proof of one reading (ledger.md section 5).
public struct ReadingProof: Sendable, Equatable {
    /// The consumer the reading belongs to (decides who may see the proof).
    public var consumer: String
    /// The leaf of the version in force (canonical JSON): a reading leaf, or a
    /// correction leaf when a correction put this version in force.
    public var reading: String
    /// For a correction: the version it replaced, and why.
    public var replaces: ReadingVersion?
    public var reason: String?
    public var position: Int
    public var batchSize: Int
    public var batchPath: [Hash256]
    public var entryIndex: UInt64
    /// The `readings` entry (canonical JSON).
    public var entry: String
    public var entryPath: [Hash256]
    /// The signed checkpoint `entryPath` leads to.
    public var checkpoint: String
}

/// A query the ledger cannot answer as asked.
public enum QueryError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A parameter is out of range; `parameter` names it.
    case outOfRange(parameter: String, message: String)

    public var description: String {
        switch self {
        case .outOfRange(let parameter, let message): "\(parameter): \(message)"
        }
    }
}

/// Read-only queries over the ledger and registry. Reads run on reader connections
/// in snapshot isolation, never blocking the writer.
///
/// Every read goes through `connections`, on either engine, except a backup: that is
/// SQLite's own online copy, and a store without SQLite's pool refuses it naming the
/// engine (PostgreSQL's backups are the server's tools).
public struct LedgerReader: Sendable {
    let connections: any ReadConnections
    private let sqlitePool: DatabasePool?
    let program: Program
    let clock: @Sendable () -> Int64
    let snapshots: ProvisionalSnapshots
    let factorSets = FactorSetCache()
    let periodEntries = PeriodEntryCache()
    /// The latest durable checkpoint, as the writer in this process keeps it in memory
    /// (nil: no writer here; the store is read for it).
    let durable: DurableCheckpoint?

    init(
        pool: DatabasePool, program: Program, durable: DurableCheckpoint, provisionalRefresh: Int64,
        clock: @escaping @Sendable () -> Int64
    ) {
        self.init(
            connections: SQLiteReads(pool: pool), sqlitePool: pool, program: program, durable: durable,
            provisionalRefresh: provisionalRefresh, clock: clock)
    }

    /// A reader over another engine's connections, beside that engine's writer.
    init(
        connections: any ReadConnections, program: Program, durable: DurableCheckpoint, provisionalRefresh: Int64,
        clock: @escaping @Sendable () -> Int64
    ) {
        self.init(
            connections: connections, sqlitePool: nil, program: program, durable: durable,
            provisionalRefresh: provisionalRefresh, clock: clock)
    }

    /// A reader over another engine's connections (the PostgreSQL store's).
    public init(
        connections: any ReadConnections, program: Program, provisionalRefresh: Int64 = 0,
        clock: @escaping @Sendable () -> Int64 = { Int64(Date().timeIntervalSince1970) }
    ) {
        self.init(
            connections: connections, sqlitePool: nil, program: program, durable: nil,
            provisionalRefresh: provisionalRefresh, clock: clock)
    }

    private init(
        connections: any ReadConnections, sqlitePool: DatabasePool?, program: Program, durable: DurableCheckpoint?,
        provisionalRefresh: Int64, clock: @escaping @Sendable () -> Int64
    ) {
        self.connections = connections
        self.sqlitePool = sqlitePool
        self.program = program
        self.durable = durable
        self.clock = clock
        self.snapshots = ProvisionalSnapshots(refreshAfter: provisionalRefresh)
    }

    /// SQLite's pool, for its online backup.
    var pool: DatabasePool {
        get throws {
            try checkBackups()
            return sqlitePool!
        }
    }

    /// Throws, naming the engine's own tools, unless this store is backed up through
    /// the daemon (SQLite's).
    public func checkBackups() throws {
        guard sqlitePool == nil else { return }
        throw StoreError.notOnThisEngine(
            "this store is a PostgreSQL server: back it up with the server's tools (pg_dump, or pg_basebackup "
                + "with WAL archiving), not through the daemon")
    }

    /// The size of the latest durable checkpoint: from the writer's memory when it runs
    /// in this process, else from the store.
    func durableSize() async throws -> UInt64 {
        if let durable { return durable.latest?.size ?? 0 }
        return try await latestCheckpoint()?.size ?? 0
    }

    /// Why reads are held back from what is stored (a replica's newer checkpoint that
    /// did not verify), nil when they are not.
    public var problem: String? { connections.problem }

    /// The latest checkpoint, nil before the first commit.
    public func latestCheckpoint() async throws -> StoredCheckpoint? {
        try await connections.read { db in try db.latestCheckpoint() }
    }

    /// Every key the ledger has been signed with, the one in force first.
    public func keys() async throws -> [NoteVerifier] {
        try await connections.read { db in try KeyRecord.chain(db: db).reversed() }
    }

    /// Entries `[start, end)`, cut to what exists, with the current tree size.
    public func entries(start: UInt64, end: UInt64) async throws -> (entries: [StoredEntry], size: UInt64) {
        try await connections.read { db in
            let size = try db.latestCheckpoint()?.size ?? 0
            let rows = try db.rows(
                """
                SELECT e.idx, e.body, e.signature, t.hash FROM entries e
                JOIN tree t ON t.level = 0 AND t.idx = e.idx
                WHERE e.idx >= ? AND e.idx < ? ORDER BY e.idx
                """,
                Int64(clamping: start), Int64(clamping: min(end, size)))
            let entries = try rows.map { row in
                guard let leaf = Hash256(bytes: row[3] as Data) else { throw StoreError.corrupt("leaf hash of entry \(row[0] as Int64)") }
                return StoredEntry(
                    index: UInt64(row[0] as Int64), body: Array(row[1] as Data), signature: Array(row[2] as Data), leafHash: leaf)
            }
            return (entries, size)
        }
    }

    /// Inclusion proof of entry `index` in the tree of `size` (the latest when nil).
    public func inclusionProof(index: UInt64, size: UInt64?) async throws -> InclusionProof {
        try await connections.read { db in
            let size = try Self.treeSize(size, db: db)
            guard index < size else {
                throw QueryError.outOfRange(parameter: "index", message: "must be below the tree size \(size)")
            }
            return try db.readingTree { nodes in
                InclusionProof(
                    index: index, size: size, root: try MerkleProofs.rootHash(size: size, nodes: nodes),
                    hashes: try MerkleProofs.inclusionProof(index: index, size: size, nodes: nodes))
            }
        }
    }

    /// Consistency proof from tree `from` to tree `to` (the latest when nil).
    public func consistencyProof(from: UInt64, to: UInt64?) async throws -> (from: UInt64, to: UInt64, hashes: [Hash256]) {
        try await connections.read { db in
            let to = try Self.treeSize(to, db: db)
            guard from <= to else { throw QueryError.outOfRange(parameter: "from", message: "must not exceed to (\(to))") }
            guard from > 0 else {
                throw QueryError.outOfRange(parameter: "from", message: "must be at least 1: every tree extends the empty one")
            }
            return (from, to, try db.readingTree { try MerkleProofs.consistencyProof(from: from, to: to, nodes: $0) })
        }
    }

    /// The consumer a stored reading belongs to, nil when no such reading is stored:
    /// indexed reads only, so access is decided before any proof is built.
    public func readingOwner(utility: String, meter: String, start: Int64) async throws -> String? {
        try await connections.read { db in
            try db.value(
                """
                SELECT c.consumer FROM meters m
                JOIN readings r ON r.start = ?3 AND r.meter = m.id
                JOIN consumers c ON c.id = r.consumer
                WHERE m.utility = ?1 AND m.meter = ?2
                """,
                utility, meter, start, as: String.self)
        }
    }

    /// The reading proof of the reading `(utility, meter, start)`, nil if no such reading.
    public func readingProof(utility: String, meter: String, start: Int64) async throws -> ReadingProof? {
        try await connections.read { db -> ReadingProof? in
            guard
                let meterID = try db.value("SELECT id FROM meters WHERE utility = ? AND meter = ?", utility, meter, as: Int64.self),
                let placed = try db.row("SELECT batch, position FROM readings WHERE start = ? AND meter = ?", start, meterID),
                let checkpoint = try db.latestCheckpoint(), (placed["batch"] as Int64) < checkpoint.size
            else { return nil }
            let entryIndex: Int64 = placed["batch"]
            let position: Int = placed["position"]
            let (batchSize, version, batchPath) = try Self.batchProof(entry: entryIndex, position: position, db: db)
            guard let body = try db.value("SELECT body FROM entries WHERE idx = ?", entryIndex, as: Data.self)
            else { throw StoreError.corrupt("readings entry \(entryIndex) is missing") }
            return ReadingProof(
                consumer: version.reading.consumer, reading: String(decoding: version.leafBytes, as: UTF8.self),
                replaces: version.correction?.replaces, reason: version.correction?.reason,
                position: position, batchSize: batchSize, batchPath: batchPath,
                entryIndex: UInt64(entryIndex), entry: String(decoding: body, as: UTF8.self),
                entryPath: try db.readingTree {
                    try MerkleProofs.inclusionProof(index: UInt64(entryIndex), size: checkpoint.size, nodes: $0)
                },
                checkpoint: checkpoint.note)
        }
    }

    /// The size of a `readings` or `corrections` entry's batch, the version at
    /// `position` and its path in the batch tree: from the batch's stored chunks, the
    /// 256 leaves of its chunk rebuilt; for a batch stored without chunks, from all of
    /// its leaves.
    private static func batchProof(
        entry: Int64, position: Int, db: some SQLConnection
    ) throws -> (size: Int, version: StoredVersions.Version, path: [Hash256]) {
        guard let batch = try db.row("SELECT count, chunks FROM reading_batches WHERE entry = ?", entry)
        else { throw StoreError.corrupt("entry \(entry) has no batch record") }
        let count: Int = batch["count"]
        guard position >= 0, position < count else {
            throw StoreError.corrupt("a reading of entry \(entry) is at position \(position) of \(count)")
        }
        guard let bytes = batch["chunks"] as Data? else {
            let all = try StoredVersions.versions(ofBatch: entry, db: db)
            let hashes = all.map { RFC6962.leafHash($0.leafBytes) }
            return (count, all[position], RFC6962.inclusionProof(index: position, leafHashes: hashes))
        }
        let chunks = try StoredChunk.decode(Array(bytes), entry: entry)
        let c = position / BatchChunks.size
        guard chunks.count == (count + BatchChunks.size - 1) / BatchChunks.size else {
            throw StoreError.corrupt("entry \(entry) has \(chunks.count) chunks for \(count) readings")
        }
        let first = c * BatchChunks.size
        let members = try StoredVersions.versions(
            ofBatch: entry, positions: first..<min(first + BatchChunks.size, count),
            keys: (chunks[c].first, chunks[c].last), db: db)
        let hashes = members.map { RFC6962.leafHash($0.leafBytes) }
        guard RFC6962.rootHash(ofLeafHashes: hashes) == chunks[c].root else {
            throw StoreError.corrupt("chunk \(c) of entry \(entry) does not hash to its stored root")
        }
        let path = BatchChunks.inclusionProof(position: position, chunkLeaves: hashes, chunkRoots: chunks.map(\.root))
        return (count, members[position - first], path)
    }

    /// Every stored factor row, datasets in the order they were loaded.
    public func factorRows() async throws -> [FactorRow] {
        try await connections.read { db in try FactorDatasets.all(db: db) }
    }

    /// The zone tree as stored.
    public func zoneTree() async throws -> ZoneTree {
        try await connections.read { db in try Self.zoneTree(db) }
    }

    static func zoneTree(_ db: some SQLConnection) throws -> ZoneTree {
        try ZoneTree(db.rows("SELECT zone, parent, name FROM zones").map {
            Zone(zone: $0["zone"], parent: $0["parent"], name: $0["name"])
        })
    }

    /// The registry record of a consumer and the index of its latest `consumer` entry.
    public func consumer(_ id: String) async throws -> (consumer: Consumer, entry: UInt64)? {
        try await connections.read { db in
            guard let row = try db.row(
                "SELECT consumer, utility, zone, class, normalizer, entry FROM consumers WHERE consumer = ?", id)
            else { return nil }
            return (try ConsumerRow.consumer(from: row), UInt64(row["entry"] as Int64))
        }
    }

    private static func treeSize(_ asked: UInt64?, db: some SQLConnection) throws -> UInt64 {
        let current = try db.latestCheckpoint()?.size ?? 0
        guard let asked else { return current }
        guard asked <= current else {
            throw QueryError.outOfRange(parameter: "size", message: "the ledger has only \(current) entries")
        }
        return asked
    }
}
