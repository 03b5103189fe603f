import Foundation
import Logging

#if canImport(Glibc)
import Glibc
#endif

/// The database's files on disk: readable by the daemon's user alone whatever the
/// umask, and no backup copy left behind by a daemon that stopped while taking one.
public enum DatabaseFiles {
    /// The files SQLite keeps beside a database.
    static let companions = ["-wal", "-shm", "-journal"]

    /// Creates `path` empty with mode 0600 when it does not exist, and sets 0600 on it
    /// and its companions when they do. SQLite gives the WAL and shared-memory files
    /// the database file's mode, so a database created here keeps them private too.
    static func makePrivate(_ path: String) throws {
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw StoreError.io("cannot open \(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        guard fchmod(fd, 0o600) == 0 else { throw StoreError.io("cannot chmod \(path): \(String(cString: strerror(errno)))") }
        for suffix in companions where chmod(path + suffix, 0o600) != 0 && errno != ENOENT {
            throw StoreError.io("cannot chmod \(path + suffix): \(String(cString: strerror(errno)))")
        }
    }

    /// Creates `path` (which must not exist) empty with mode 0600, for a copy of the database.
    static func createPrivate(_ path: String) throws {
        let fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw Backup.Problem("cannot create \(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        guard fchmod(fd, 0o600) == 0 else { throw Backup.Problem("cannot chmod \(path): \(String(cString: strerror(errno)))") }
    }

    /// The name of a backup copy taken beside `database`.
    public static func backupCopy(of database: String, id: String) -> String { database + backupInfix + id }

    private static let backupInfix = ".backup-"

    /// Removes the backup copies a stopped daemon left beside `database` (an answer
    /// being streamed holds its copy open, so a copy on disk at start is stale) and
    /// returns their paths.
    @discardableResult
    static func removeStaleBackups(of database: String) -> [String] {
        let directory = (database as NSString).deletingLastPathComponent
        let prefix = (database as NSString).lastPathComponent + backupInfix
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.isEmpty ? "." : directory)) ?? []
        return names.filter { $0.hasPrefix(prefix) }.sorted().map { name in
            let path = directory.isEmpty ? name : directory + "/" + name
            unlink(path)
            return path
        }
    }
}
