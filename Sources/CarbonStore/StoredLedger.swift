import CarbonLedger
import Foundation
import GRDB
import TransparencyLog

/// The ledger as the `entries`, `tree` and `checkpoints` tables hold it, within one
/// database transaction: the append path's storage, and the node source proofs are
/// served from.
struct StoredLedger: LedgerStorage {
    let db: Database

    func node(level: Int, index: UInt64) throws -> Hash256 {
        let statement = try db.cachedStatement(sql: "SELECT hash FROM tree WHERE level = ? AND idx = ?")
        guard let blob = try Data.fetchOne(statement, arguments: [level, Int64(index)]),
            let hash = Hash256(bytes: blob)
        else {
            throw StoreError.corrupt("tree node at level \(level), index \(index) is missing or malformed")
        }
        return hash
    }

    func storeNodes(_ nodes: [MerkleNode]) throws {
        let statement = try db.cachedStatement(sql: "INSERT INTO tree(level, idx, hash) VALUES (?, ?, ?)")
        for node in nodes {
            try statement.execute(arguments: [node.level, Int64(node.index), Data(node.hash.bytes)])
        }
    }

    func storeEntry(index: UInt64, kind: String, body: [UInt8], signature: [UInt8]) throws {
        let statement = try db.cachedStatement(sql: "INSERT INTO entries(idx, kind, body, signature) VALUES (?, ?, ?, ?)")
        try statement.execute(arguments: [Int64(index), kind, Data(body), Data(signature)])
    }

    func storeCheckpoint(size: UInt64, root: Hash256, note: String, time: Int64) throws {
        let statement = try db.cachedStatement(sql: "INSERT INTO checkpoints(size, root, note, time) VALUES (?, ?, ?, ?)")
        try statement.execute(arguments: [Int64(size), Data(root.bytes), note, time])
    }

    func entryCount() throws -> UInt64 {
        try UInt64(Int64.fetchOne(db, sql: "SELECT count(*) FROM entries") ?? 0)
    }

    func latestCheckpointNote() throws -> String? {
        try String.fetchOne(db, sql: "SELECT note FROM checkpoints ORDER BY size DESC LIMIT 1")
    }
}

/// The append path over the database transaction `db`, its refusals as the store's errors.
extension LedgerAppender {
    mutating func append(_ entry: LedgerEntry, time: Int64, db: Database) throws -> UInt64 {
        try StoreError.mapping { try append(entry, time: time, to: StoredLedger(db: db)) }
    }

    mutating func publishCheckpoint(time: Int64, db: Database) throws -> String {
        try StoreError.mapping { try publishCheckpoint(time: time, to: StoredLedger(db: db)) }
    }

    static func load(
        db: Database, signer: NoteSigner, signerPath: String, previous: PreviousKey?, origin: String
    ) throws -> LedgerAppender {
        try StoreError.mapping {
            try load(from: StoredLedger(db: db), signer: signer, signerPath: signerPath, previous: previous, origin: origin)
        }
    }
}

extension StoreError {
    /// Runs `work`, giving the append path's refusals as the store's errors.
    static func mapping<T>(_ work: () throws -> T) throws -> T {
        do {
            return try work()
        } catch let error as LedgerAppendError {
            switch error {
            case .corrupt(let message): throw StoreError.corrupt(message)
            case .keyMismatch(let message): throw StoreError.keyMismatch(message)
            case .entryTooLarge(let kind, let bytes): throw StoreError.entryTooLarge(kind: kind, bytes: bytes)
            }
        }
    }
}
