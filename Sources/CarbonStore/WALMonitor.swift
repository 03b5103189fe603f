import Foundation
import GRDB
import GRDBSQLite
import Metrics

/// Counts the WAL frames a connection appends. Installing it replaces SQLite's
/// automatic checkpoint (itself a WAL hook), so it checkpoints the same way:
/// passively, once the WAL holds `checkpointAt` frames.
public final class WALMonitor: @unchecked Sendable {
    private let lock = NSLock()
    private var frames = 0
    private var last = 0
    private let checkpointAt: Int32
    private let written = Counter(label: StoreMetrics.walBytesWritten)

    public init(checkpointAt: Int32 = 1000) {
        self.checkpointAt = checkpointAt
    }

    /// Frames appended since the monitor was installed.
    public var framesWritten: Int {
        lock.lock()
        defer { lock.unlock() }
        return frames
    }

    /// WAL bytes appended (each frame is a page plus a 24-byte header).
    public func bytesWritten(pageSize: Int = 4096) -> Int { framesWritten * (pageSize + 24) }

    fileprivate func record(framesInWAL now: Int) {
        lock.lock()
        // The WAL restarts from frame 0 after a complete checkpoint.
        let appended = now >= last ? now - last : now
        frames += appended
        last = now
        lock.unlock()
        written.increment(by: appended * (4096 + 24))
    }

    /// Installs the hook on a raw connection; the monitor must outlive it.
    public func install(on connection: OpaquePointer) {
        sqlite3_wal_hook(connection, { context, connection, name, framesInWAL in
            let monitor = Unmanaged<WALMonitor>.fromOpaque(context!).takeUnretainedValue()
            monitor.record(framesInWAL: Int(framesInWAL))
            if framesInWAL >= monitor.checkpointAt {
                sqlite3_wal_checkpoint_v2(connection, name, SQLITE_CHECKPOINT_PASSIVE, nil, nil)
            }
            return SQLITE_OK
        }, Unmanaged.passUnretained(self).toOpaque())
    }
}
