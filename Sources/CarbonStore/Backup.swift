import Foundation
import GRDB
import TransparencyLog

#if canImport(Glibc)
import Glibc
#endif

extension LedgerReader {
    /// Writes a copy of the whole database to `path` (which must not exist) as of one
    /// moment, while commits go on, and returns the latest checkpoint it holds.
    ///
    /// SQLite's online backup API copies every page in one step inside one read
    /// transaction of a reader connection: the copy is that transaction's snapshot,
    /// and in WAL mode the writer is never blocked (a backup in several steps would
    /// start over after every commit, and never end under steady ingest). The copy
    /// is switched to rollback-journal mode, so it is one self-contained file.
    public func backup(to path: String) async throws -> StoredCheckpoint? {
        try DatabaseFiles.createPrivate(path)
        do {
            return try await pool.read { source in
                let checkpoint = try source.latestCheckpoint()
                let copy = try DatabaseQueue(path: path)
                try copy.writeWithoutTransaction { destination in
                    try source.backup(to: destination)
                    try destination.execute(sql: "PRAGMA journal_mode = DELETE")
                }
                try copy.close()
                return checkpoint
            }
        } catch {
            Backup.remove(path)
            throw error
        }
    }
}

/// Backups and restores of the database file.
public enum Backup {
    /// A backup or restore refused, phrased for the operator.
    public struct Problem: Error, Sendable, CustomStringConvertible {
        public var description: String
        public init(_ description: String) { self.description = description }
    }

    /// Removes a database file and the `-wal`, `-shm` and `-journal` files SQLite may have left beside it.
    static func remove(_ path: String) {
        for suffix in ["", "-wal", "-shm", "-journal"] { unlink(path + suffix) }
    }

    /// fsyncs a file or directory (a rename is durable once its directory is synced).
    static func sync(_ path: String, directory: Bool = false) throws {
        let fd = open(path, (directory ? O_RDONLY | O_DIRECTORY : O_RDWR) | O_CLOEXEC)
        guard fd >= 0 else { throw Problem("cannot open \(path) to sync it: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        guard fsync(fd) == 0 else { throw Problem("cannot sync \(path): \(String(cString: strerror(errno)))") }
    }
}

extension Backup {
    /// What a restore did.
    public struct Restored: Sendable {
        /// The restored ledger (checked before it replaced anything).
        public var summary: LedgerFile.Summary
        /// The size of the ledger it replaced, if there was a readable one.
        public var previousSize: UInt64?
        /// Where the replaced database was kept (nil if there was none).
        public var previousKeptAt: String?
    }

    /// Replaces the database at `database` with the backup at `file`.
    ///
    /// Refuses while a daemon holds the database (its lock), and refuses a file that is
    /// not a carbonledger database of `verifier`'s ledger or whose ledger does not
    /// match its last signed checkpoint (`LedgerFile.check`). The check runs on a copy
    /// beside the database, which then takes the database's name in one rename: at
    /// every moment the name holds a whole database, the old or the new. The old one
    /// is kept under `<database>.before-restore-<time>`, its WAL merged into it first
    /// (or, if it cannot be opened, kept beside it), so no stale `-wal` or `-shm` is
    /// ever read with the restored file.
    public static func restore(
        from file: String, to database: String, verifier: NoteVerifier, owner: (uid: uid_t, gid: gid_t)? = nil,
        now: Int64 = Int64(Date().timeIntervalSince1970)
    ) throws -> Restored {
        guard FileManager.default.isReadableFile(atPath: file) else { throw Problem("cannot read the backup \(file)") }
        let directory = (database as NSString).deletingLastPathComponent
        if !directory.isEmpty { try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true) }
        let lock = try DatabaseLock(databasePath: database)
        defer { lock.release() }

        // Checked on the very bytes that will become the database.
        let incoming = database + ".restore-\(getpid())"
        remove(incoming)
        do {
            try FileManager.default.copyItem(atPath: file, toPath: incoming)
        } catch {
            throw Problem("cannot copy \(file) beside the database: \(error)")
        }
        let summary: LedgerFile.Summary
        do {
            chmod(incoming, 0o600)
            if let owner, chown(incoming, owner.uid, owner.gid) != 0 {
                throw Problem("cannot give \(incoming) to uid \(owner.uid): \(String(cString: strerror(errno)))")
            }
            let queue = try LedgerFile.open(incoming, name: file)
            summary = try queue.writeWithoutTransaction { db in
                let summary = try LedgerFile.check(db, verifier: verifier, name: file)
                // The daemon opens it in WAL mode; the header says so from the start.
                try db.execute(sql: "PRAGMA journal_mode = WAL")
                return summary
            }
            try queue.close()
            for suffix in ["-wal", "-shm"] { unlink(incoming + suffix) }
            try sync(incoming)
        } catch {
            remove(incoming)
            throw error
        }

        var previousSize: UInt64?
        var keptAt: String?
        if FileManager.default.fileExists(atPath: database) {
            // Closing the last connection merges the WAL into the file and deletes it.
            if let queue = try? DatabaseQueue(path: database) {
                previousSize = try? queue.read { try $0.latestCheckpoint()?.size }
                try? queue.close()
            }
            let kept = database + ".before-restore-\(now)"
            remove(kept)
            guard link(database, kept) == 0 || (try? FileManager.default.copyItem(atPath: database, toPath: kept)) != nil else {
                remove(incoming)
                throw Problem("cannot keep the current database as \(kept): \(String(cString: strerror(errno)))")
            }
            // A WAL that could not be merged stays with the old file, never with the new one.
            if FileManager.default.fileExists(atPath: database + "-wal") {
                guard rename(database + "-wal", kept + "-wal") == 0 else {
                    remove(incoming)
                    throw Problem("cannot move \(database)-wal aside: \(String(cString: strerror(errno)))")
                }
            }
            unlink(database + "-shm")
            keptAt = kept
        }
        guard rename(incoming, database) == 0 else {
            let reason = String(cString: strerror(errno))
            remove(incoming)
            throw Problem("cannot move the restored database into place: \(reason)")
        }
        try sync(directory.isEmpty ? "." : directory, directory: true)
        return Restored(summary: summary, previousSize: previousSize, previousKeptAt: keptAt)
    }
}
