import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// An exclusive lock on `<database>.lock`, held while a store is open, so that a
/// second daemon on the same database refuses to start instead of writing beside
/// the first with its own idea of the ledger's state.
final class DatabaseLock: Sendable {
    private let path: String
    private let descriptor: Mutex<Int32?>

    /// The lock files this process holds now.
    private static let held = Mutex<Set<String>>([])

    /// How long a lock held by this process's own id, but by no store in it, is waited
    /// for (see `init`).
    private static let inheritedWait: Duration = .seconds(5)

    init(databasePath: String) throws {
        let path = databasePath + ".lock"
        self.path = path
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            throw StoreError.locked("cannot open the lock file \(path): \(String(cString: strerror(errno)))")
        }
        guard Self.lock(fd, path: path) else {
            let holder = Self.holder(of: path)
            close(fd)
            throw StoreError.locked(
                "the database \(databasePath) is in use by another carbonledgerd"
                    + (holder.map { " (pid \($0))" } ?? "") + "; stop it first")
        }
        Self.held.withLock { _ = $0.insert(path) }
        let pid = Array("\(getpid())\n".utf8)
        _ = ftruncate(fd, 0)
        _ = pid.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) }
        descriptor = Mutex(fd)
    }

    /// Takes the lock at once, or waits for it only where this process last held it and
    /// no longer does: a lock is shared with every child spawned while it was open, from
    /// the child's fork to its exec (which closes the descriptor), so a store closed and
    /// opened again in this process may find its old lock briefly held by such a child.
    private static func lock(_ fd: Int32, path: String) -> Bool {
        if flock(fd, LOCK_EX | LOCK_NB) == 0 { return true }
        let ours = holder(of: path) == "\(getpid())" && !held.withLock { $0.contains(path) }
        guard ours else { return false }
        let deadline = ContinuousClock.now + inheritedWait
        while ContinuousClock.now < deadline {
            if flock(fd, LOCK_EX | LOCK_NB) == 0 { return true }
            usleep(1_000)
        }
        return false
    }

    /// The process id the lock file names, if any.
    private static func holder(of path: String) -> String? {
        let text = (try? String(contentsOfFile: path, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
        return text?.isEmpty == false ? text : nil
    }

    /// Releases the lock (also on deinit); idempotent.
    func release() {
        descriptor.withLock { fd in
            if let open = fd {
                Self.held.withLock { _ = $0.remove(path) }
                close(open)
            }
            fd = nil
        }
    }

    deinit { release() }
}
