import CarbonLedger
import CarbonStore
import Foundation
import Hummingbird
import NIOPosix
import Synchronization
import TransparencyLog

#if canImport(Glibc)
import Glibc
#endif

/// `POST /v1/admin/backup`: a consistent copy of the database, taken while ingest
/// goes on, checked as a restore checks it (`LedgerFile.check`), and streamed back in
/// the answer (`application/vnd.sqlite3`) with its SHA-256 (`Repr-Digest`, RFC 9530)
/// and the signed checkpoint it holds (`Ledger-Checkpoint`, base64), so the client
/// can tell the copy arrived whole without a database library of its own.
///
/// The daemon takes it because only the daemon may read its database (mode 0600,
/// its own user, a private state directory), and streams it because it may write
/// nowhere a client could name. The copy is made beside the database, unlinked as
/// soon as it is open, and read from the open descriptor: nothing is left behind,
/// even if the daemon dies mid-answer. One backup at a time: each needs free space
/// the size of the database.
struct BackupRoutes {
    let store: CarbonStore
    let database: String

    private final class Running: Sendable {
        let flag = Atomic<Bool>(false)
    }

    func register(on router: Router<DaemonContext>) {
        let running = Running()
        router.post("/v1/admin/backup") { _, context in
            try context.require(.admin)
            try store.reader.checkBackups()
            guard running.flag.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged else {
                throw Problem(.conflict, "backup-running", "a backup is being taken already; retry when it has finished")
            }
            // Until the copy is closed (streamed, or the client gone): it holds disk space till then.
            let release: @Sendable () -> Void = { running.flag.store(false, ordering: .releasing) }
            let path = DatabaseFiles.backupCopy(of: database, id: UUID().uuidString)
            let checked: LedgerFile.Summary
            let file: SnapshotFile
            do {
                _ = try await store.reader.backup(to: path)
                // The copy is checked as a restore will check it, with the key in force
                // (a rotation in between fails the check: the backup is then retried).
                guard let key = try await store.reader.keys().last else { throw Backup.Problem("the ledger has no key") }
                checked = try await NIOThreadPool.singleton.runIfActive { try LedgerFile.check(path: path, verifier: key) }
                file = try await NIOThreadPool.singleton.runIfActive { try SnapshotFile(path: path, whenClosed: release) }
            } catch {
                unlink(path)
                release()
                context.logger.error("backup failed: \(error)")
                throw Problem(.internalServerError, "backup-failed", "the backup could not be taken: \(error)")
            }
            let checkpoint = checked.checkpoint
            context.logger.notice("backup taken", metadata: ["size": "\(checkpoint.size)", "bytes": "\(file.byteCount)"])
            var headers: HTTPFields = [.contentType: "application/vnd.sqlite3"]
            headers[.init("Ledger-Size")!] = String(checkpoint.size)
            headers[.init("Ledger-Checkpoint")!] = Base64.encode(Array(checkpoint.note.utf8))
            headers[.init("Repr-Digest")!] = "sha-256=:\(file.digest.base64):"
            return Response(status: .ok, headers: headers, body: file.body())
        }
    }
}

/// A file already unlinked, read through its descriptor; closed when the body is released.
private final class SnapshotFile: Sendable {
    let fd: Int32
    let byteCount: Int
    /// SHA-256 of the whole file.
    let digest: Hash256
    private let whenClosed: @Sendable () -> Void

    init(path: String, whenClosed: @escaping @Sendable () -> Void) throws {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        let reason = String(cString: strerror(errno))
        unlink(path)
        guard fd >= 0 else { throw Problem(.internalServerError, "backup-failed", "cannot read the backup copy: \(reason)") }
        var info = stat()
        fstat(fd, &info)
        self.fd = fd
        self.byteCount = Int(info.st_size)
        self.whenClosed = whenClosed
        var digest = SHA256Stream()
        var offset = 0
        var chunk = [UInt8](repeating: 0, count: 1 << 20)
        while offset < byteCount {
            let count = chunk.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, off_t(offset)) }
            guard count > 0 else { throw Problem(.internalServerError, "backup-failed", "the backup copy ended early at byte \(offset)") }
            chunk.withUnsafeBytes { digest.update(UnsafeRawBufferPointer(rebasing: $0[..<count])) }
            offset += count
        }
        self.digest = digest.finish()
    }

    deinit {
        close(fd)
        whenClosed()
    }

    /// The file in 1 MiB chunks, read on NIO's thread pool (disk reads block).
    func body() -> ResponseBody {
        ResponseBody(contentLength: byteCount) { writer in
            var offset = 0
            while offset < self.byteCount {
                let at = offset
                let chunk = try await NIOThreadPool.singleton.runIfActive { [self] in try self.read(at: at) }
                offset += chunk.readableBytes
                try await writer.write(chunk)
            }
            try await writer.finish(nil)
        }
    }

    private func read(at offset: Int) throws -> ByteBuffer {
        var buffer = ByteBuffer()
        let wanted = min(1 << 20, byteCount - offset)
        let count = buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: wanted) { raw in
            max(0, pread(fd, raw.baseAddress, wanted, off_t(offset)))
        }
        guard count > 0 else { throw Problem(.internalServerError, "backup-failed", "the backup copy ended early at byte \(offset)") }
        return buffer
    }
}
