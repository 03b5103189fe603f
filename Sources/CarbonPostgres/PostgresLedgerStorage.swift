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

    public init(session: PostgresSession) {
        self.session = session
    }

    public func node(level: Int, index: UInt64) throws -> Hash256 {
        let session = self.session
        let rows = try blocking {
            try await session.rows("SELECT hash FROM tree WHERE level = \(level) AND idx = \(Int64(index))")
        }
        guard let row = rows.first, let buffer = try? row.decode(ByteBuffer.self),
            let hash = Hash256(bytes: Array(buffer.readableBytesView))
        else {
            throw LedgerAppendError.corrupt("tree node at level \(level), index \(index) is missing or malformed")
        }
        return hash
    }

    /// All of an append's nodes in one statement.
    public func storeNodes(_ nodes: [MerkleNode]) throws {
        guard !nodes.isEmpty else { return }
        let levels = nodes.map { Int32($0.level) }
        let indices = nodes.map { Int64($0.index) }
        let hashes = nodes.map { ByteBuffer(bytes: $0.hash.bytes) }
        let session = self.session
        try blocking {
            try await session.execute("""
                INSERT INTO tree(level, idx, hash)
                SELECT * FROM unnest(\(levels)::integer[], \(indices)::bigint[], \(hashes)::bytea[])
                """)
        }
    }

    public func storeEntry(index: UInt64, kind: String, body: [UInt8], signature: [UInt8]) throws {
        let session = self.session
        let body = ByteBuffer(bytes: body)
        let signature = ByteBuffer(bytes: signature)
        try blocking {
            try await session.execute(
                "INSERT INTO entries(idx, kind, body, signature) VALUES (\(Int64(index)), \(kind), \(body), \(signature))")
        }
    }

    public func storeCheckpoint(size: UInt64, root: Hash256, note: String, time: Int64) throws {
        let session = self.session
        let root = ByteBuffer(bytes: root.bytes)
        try blocking {
            try await session.execute(
                "INSERT INTO checkpoints(size, root, note, time) VALUES (\(Int64(size)), \(root), \(note), \(time))")
        }
    }

    /// One index probe, not a count of every row: entries are numbered from 0 without
    /// gaps (each insert is the appender's next index, under the primary key).
    public func entryCount() throws -> UInt64 {
        let session = self.session
        let rows = try blocking { try await session.rows("SELECT COALESCE(max(idx) + 1, 0) FROM entries") }
        return UInt64(try rows.first?.decode(Int64.self) ?? 0)
    }

    public func latestCheckpointNote() throws -> String? {
        let session = self.session
        let rows = try blocking { try await session.rows("SELECT note FROM checkpoints ORDER BY size DESC LIMIT 1") }
        return try rows.first?.decode(String.self)
    }
}
