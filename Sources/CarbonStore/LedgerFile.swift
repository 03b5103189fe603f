import CarbonLedger
import CarbonModel
import Foundation
import GRDB
import TransparencyLog

/// A carbonledger database file checked as a whole, without a daemon: whether it is
/// one of ours, of which ledger key, and whether its stored ledger is what its last
/// checkpoint signs. Used on a backup before it is kept and before it is restored.
public enum LedgerFile {
    /// Why a file is not a database to keep or restore; the message names what to do.
    public struct Problem: Error, Sendable, CustomStringConvertible {
        public var description: String
        init(_ description: String) { self.description = description }
    }

    /// What a checked file holds.
    public struct Summary: Sendable, Equatable {
        /// The latest checkpoint, whose signature, root and entries were checked.
        public var checkpoint: StoredCheckpoint
        public var origin: String
    }

    /// Opens `path` and checks it with `check(_:verifier:)`. The file is opened for
    /// reading only when it is in rollback-journal mode (what a backup is); a WAL
    /// file needs its `-shm`, so it is opened as a database like any other.
    public static func check(path: String, verifier: NoteVerifier) throws -> Summary {
        guard FileManager.default.isReadableFile(atPath: path) else { throw Problem("cannot read \(path)") }
        var configuration = Configuration()
        configuration.readonly = true
        let queue = try open(path, configuration: configuration)
        defer { try? queue.close() }
        return try queue.read { db in try check(db, verifier: verifier, name: path) }
    }

    /// Runs the ledger verifier over the database at `path` from its first key `first`,
    /// as an auditor runs it over a bundle: what `check` runs, with any options.
    public static func verify(path: String, first: NoteVerifier, options: LedgerVerifier.Options) throws -> LedgerVerification {
        guard FileManager.default.isReadableFile(atPath: path) else { throw Problem("cannot read \(path)") }
        var configuration = Configuration()
        configuration.readonly = true
        let queue = try open(path, configuration: configuration)
        defer { try? queue.close() }
        return try queue.read { db in try LedgerVerifier(source: DatabaseLedger(db), first: first, options: options).run() }
    }

    /// Opens `path`, saying plainly when it is no SQLite database at all.
    static func open(_ path: String, name: String? = nil, configuration: Configuration = Configuration()) throws -> DatabaseQueue {
        do {
            return try DatabaseQueue(path: path, configuration: configuration)
        } catch let error as DatabaseError where error.resultCode == .SQLITE_NOTADB {
            throw Problem("\(name ?? path) is not a SQLite database")
        } catch {
            throw Problem("\(name ?? path) cannot be opened as a SQLite database: \(error)")
        }
    }

    /// Checks, in order: a SQLite database (quick_check), carbonledger's schema and no
    /// newer one, the ledger key in `meta` is `verifier`'s, the latest checkpoint's
    /// signature, and the stored ledger against it: entries 0..<size each with a valid
    /// signature and its leaf hash in the tree, and the root recomputed both from the
    /// leaves and from the stored subtree hashes that proofs are served from.
    public static func check(_ db: Database, verifier: NoteVerifier, name: String) throws -> Summary {
        let integrity: [String]
        do {
            integrity = try String.fetchAll(db, sql: "PRAGMA quick_check")
        } catch {
            throw Problem("\(name) is not a SQLite database: \(error)")
        }
        guard integrity == ["ok"] else {
            throw Problem("\(name) is damaged (SQLite quick_check: \(integrity.prefix(3).joined(separator: "; ")))")
        }
        guard try db.tableExists("meta"), try db.tableExists("entries"), try db.tableExists("checkpoints") else {
            throw Problem("\(name) is a SQLite database but not a carbonledger database (no ledger tables)")
        }
        if try Schema.migrator.hasBeenSuperseded(db) {
            throw Problem("\(name) was written by a newer carbonledger (its schema has migrations this version does not know)")
        }
        guard let vkey = try String.fetchOne(db, sql: "SELECT value FROM meta WHERE key = 'vkey'") else {
            throw Problem("\(name) has no ledger key in its meta table: not a carbonledger database")
        }
        guard vkey == verifier.vkey else {
            throw Problem("\(name) belongs to the ledger key \(vkey), not to the configured key \(verifier.vkey)")
        }
        let origin = try String.fetchOne(db, sql: "SELECT value FROM meta WHERE key = 'origin'") ?? ""
        guard let stored = try db.latestCheckpoint() else {
            throw Problem("\(name) has no signed checkpoint")
        }
        let signed: Checkpoint
        do {
            signed = try SignedCheckpoint.open(stored.note, verifiers: [verifier]).checkpoint
        } catch {
            throw Problem("\(name): the latest checkpoint does not verify with \(verifier.vkey): \(error)")
        }
        guard signed.size == stored.size, signed.rootHash == stored.root else {
            throw Problem("\(name): the checkpoint row (size \(stored.size)) differs from its signed note (size \(signed.size))")
        }
        let keys = try KeyRecord.chain(db: db)
        guard let first = keys.first, keys.last == verifier else {
            throw Problem("\(name): its chain of keys does not end with the configured key \(verifier.vkey)")
        }
        try checkEntries(db, against: signed, keys: keys, first: first, name: name)
        return Summary(checkpoint: stored, origin: origin)
    }

    /// The stored ledger against the signed checkpoint, by the same verifier auditors run
    /// (canonical form, the chain of keys from `first`, which must announce exactly
    /// `keys`, every signature, the leaves in the tree's tiles, the root, the readings,
    /// factor rows and zones behind their entries), then the root once more from the
    /// stored subtree hashes that proofs are served from. Scores are not recomputed
    /// here: that is the audit's work.
    private static func checkEntries(
        _ db: Database, against checkpoint: Checkpoint, keys: [NoteVerifier], first: NoteVerifier, name: String
    ) throws {
        let count = try Int64.fetchOne(db, sql: "SELECT COUNT(*) FROM entries WHERE idx < ?", arguments: [Int64(checkpoint.size)]) ?? 0
        guard count == Int64(checkpoint.size) else {
            throw Problem("\(name): the checkpoint covers \(checkpoint.size) entries but \(count) are stored")
        }
        let verification: LedgerVerification
        do {
            verification = try LedgerVerifier(source: DatabaseLedger(db), first: first, options: .init(checksData: true)).run()
        } catch {
            throw Problem("\(name): \(error)")
        }
        let failures = verification.failures
        if !failures.isEmpty {
            let more = failures.count > 5 ? "; and \(failures.count - 5) more failures" : ""
            throw Problem("\(name): " + failures.prefix(5).joined(separator: "; ") + more)
        }
        guard verification.keys.keys == keys else {
            throw Problem("\(name): its key entries announce other keys than its meta table records")
        }
        let storedRoot: Hash256
        do {
            storedRoot = try MerkleProofs.rootHash(size: checkpoint.size, nodes: StoredLedger(db: db))
        } catch {
            throw Problem("\(name): the stored tree is incomplete: \(error)")
        }
        guard storedRoot == checkpoint.rootHash else {
            throw Problem("\(name): the stored subtree hashes lead to another root than the signed checkpoint's")
        }
    }
}

/// The ledger of a database as a verifier's source: its latest checkpoint, and the
/// tiles of that checkpoint's tree as the daemon's tile routes serve them.
struct DatabaseLedger: LedgerSource {
    let db: Database
    private let size: UInt64

    init(_ db: Database) throws {
        self.db = db
        size = try db.latestCheckpoint()?.size ?? 0
    }

    func checkpoint() -> Result<[UInt8], LedgerSourceError> {
        read("checkpoint") { try db.latestCheckpoint().map { Array($0.note.utf8) } }
    }

    func tile(_ tile: Tile) -> Result<[UInt8], LedgerSourceError> {
        read(tile.path) { try LedgerReader.tile(tile, size: size, db: db) }
    }

    func signatures(_ tile: Tile) -> Result<[UInt8], LedgerSourceError> {
        read(LedgerBundle.signaturesPath(tile)) { try LedgerReader.signatures(tile, size: size, db: db) }
    }

    func data(_ tile: Tile) -> Result<[UInt8], LedgerSourceError> {
        read(LedgerBundle.dataPath(tile)) { try LedgerReader.data(tile, size: size, db: db).flatMap { $0.isEmpty ? nil : $0 } }
    }

    private func read(_ path: String, _ query: () throws -> [UInt8]?) -> Result<[UInt8], LedgerSourceError> {
        do {
            guard let bytes = try query() else { return .failure(.missing(path)) }
            return .success(bytes)
        } catch {
            return .failure(.unreadable(path, why: "\(error)"))
        }
    }
}
