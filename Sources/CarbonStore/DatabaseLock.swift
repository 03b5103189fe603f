import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// An exclusive lock on `<database>.lock`, held while a store is open, so that a
/// second daemon on the same database refuses to start instead of writing beside
/// the first with its own idea of the ledger's state.
final class DatabaseLock: Sendable {
    private let descriptor: Mutex<Int32?>

    init(databasePath: String) throws {
        let path = databasePath + ".lock"
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            throw StoreError.locked("cannot open the lock file \(path): \(String(cString: strerror(errno)))")
        }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            let holder = (try? String(contentsOfFile: path, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
            close(fd)
            throw StoreError.locked(
                "the database \(databasePath) is in use by another carbonledgerd"
                    + (holder.map { $0.isEmpty ? "" : " (pid \($0))" } ?? "") + "; stop it first")
        }
        let pid = Array("\(getpid())\n".utf8)
        _ = ftruncate(fd, 0)
        _ = pid.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) }
        descriptor = Mutex(fd)
    }

    /// Releases the lock (also on deinit); idempotent.
    func release() {
        descriptor.withLock { fd in
            if let open = fd { close(open) }
            fd = nil
        }
    }

    deinit { release() }
}
