import CarbonLedger
import NIOCore
import PostgresNIO
import TransparencyLog

/// The ledger as PostgreSQL's `entries`, `tree` and `checkpoints` tables hold it: the
/// append path's storage (`LedgerAppender` signs into it exactly as into SQLite) and
/// the node source proofs are served from.
///
/// Its calls run on `session` in whatever transaction the caller opened, and wait for
/// the server on the calling thread (`blocking`): the writer is a thread of its own.
public struct PostgresLedgerStorage: LedgerStorage, Sendable {
    public let session: PostgresSession
    /// The checkpoint reads are bounded by (`SQLConnection.latestCheckpoint`).
    let bound: CheckpointBound

    /// Which checkpoint bounds reads through this storage.
    enum CheckpointBound: Sendable {
        /// The latest stored: the writer's, and readers of the writer's own database.
        case latestStored
        /// The one a replica's reader verified (`VerifiedLedger`); nil: none yet.
        case verified(VerifiedLedger.Verified?)
    }

    public init(session: PostgresSession) {
        self.init(session: session, bound: .latestStored)
    }

    init(session: PostgresSession, bound: CheckpointBound) {
        self.session = session
        self.bound = bound
    }

    /// Runs a statement and waits for its rows (the writer's own thread).
    func rows(_ query: PostgresQuery) throws -> [PostgresRow] {
        let session = self.session
        return try blocking { try await session.rows(query) }
    }

    /// Runs a statement and waits for it (the writer's own thread).
    func execute(_ query: PostgresQuery) throws {
        let session = self.session
        try blocking { try await session.execute(query) }
    }

    public func node(level: Int, index: UInt64) throws -> Hash256 {
        let rows = try rows("SELECT hash FROM tree WHERE level = \(level) AND idx = \(Int64(index))")
        guard let row = rows.first, let buffer = try? row.decode(ByteBuffer.self),
            let hash = Hash256(bytes: Array(buffer.readableBytesView))
        else {
            throw LedgerAppendError.corrupt("tree node at level \(level), index \(index) is missing or malformed")
        }
        return hash
    }

    /// The nodes `compute` reads, fetched in one query (`NodePrefetch`): a checkpoint's
    /// root and consistency checks read up to about 130 nodes, one round trip each
    /// otherwise.
    public func readingNodes<T>(_ compute: (any NodeSource) throws -> T) throws -> T {
        let positions = NodePrefetch.positions { _ = try compute($0) }
        let session = self.session
        let nodes = try blocking { try await PostgresTree.nodes(at: positions, session: session) }
        do {
            return try NodePrefetch.run(compute, over: nodes)
        } catch let missing as NodePrefetch.Missing {
            throw LedgerAppendError.corrupt("\(missing)")
        }
    }

    /// All of an append's nodes in one statement.
    public func storeNodes(_ nodes: [MerkleNode]) throws {
        guard !nodes.isEmpty else { return }
        let levels = nodes.map { Int32($0.level) }
        let indices = nodes.map { Int64($0.index) }
        let hashes = nodes.map { ByteBuffer(bytes: $0.hash.bytes) }
        try execute("""
            INSERT INTO tree(level, idx, hash)
            SELECT * FROM unnest(\(levels)::integer[], \(indices)::bigint[], \(hashes)::bytea[])
            """)
    }

    public func storeEntry(index: UInt64, kind: String, body: [UInt8], signature: [UInt8]) throws {
        let (body, signature) = (ByteBuffer(bytes: body), ByteBuffer(bytes: signature))
        try execute("INSERT INTO entries(idx, kind, body, signature) VALUES (\(Int64(index)), \(kind), \(body), \(signature))")
    }

    public func storeCheckpoint(size: UInt64, root: Hash256, note: String, time: Int64) throws {
        let root = ByteBuffer(bytes: root.bytes)
        try execute("INSERT INTO checkpoints(size, root, note, time) VALUES (\(Int64(size)), \(root), \(note), \(time))")
    }

    /// One index probe, not a count of every row: entries are numbered from 0 without
    /// gaps (each insert is the appender's next index, under the primary key).
    public func entryCount() throws -> UInt64 {
        UInt64(try rows("SELECT COALESCE(max(idx) + 1, 0) FROM entries").first?.decode(Int64.self) ?? 0)
    }

    public func latestCheckpointNote() throws -> String? {
        try rows("SELECT note FROM checkpoints ORDER BY size DESC LIMIT 1").first?.decode(String.self)
    }
}

/// Reads of the stored tree (`tree` table).
enum PostgresTree {
    /// The hashes at `positions`, in one query; a position not stored is left out.
    static func nodes(at positions: [NodePosition], session: PostgresSession) async throws -> [NodePosition: Hash256] {
        guard !positions.isEmpty else { return [:] }
        let levels = positions.map { Int32($0.level) }
        let indices = positions.map { Int64(bitPattern: $0.index) }
        var nodes: [NodePosition: Hash256] = [:]
        for row in try await session.rows("""
            SELECT t.level, t.idx, t.hash FROM tree t
            JOIN unnest(\(levels)::integer[], \(indices)::bigint[]) AS w(level, idx) ON t.level = w.level AND t.idx = w.idx
            """)
        {
            let (level, index, buffer) = try row.decode((Int32, Int64, ByteBuffer).self)
            guard let hash = Hash256(bytes: Array(buffer.readableBytesView)) else {
                throw PostgresStoreError.corrupt("tree node at level \(level), index \(index) is malformed")
            }
            nodes[NodePosition(level: Int(level), index: UInt64(index))] = hash
        }
        return nodes
    }
}
