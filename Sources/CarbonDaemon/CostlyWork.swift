import CarbonConfig
import Synchronization

/// Bounds the requests that cost more than a few indexed reads (a provisional score
/// recomputing its period, an emissions series, an inventory, the directory, a proof,
/// a data tile) per role: at most `running` of one role at once, `waiting` more
/// queued, and past that a 503 with `Retry-After`. One role cannot take every core
/// from the others, and a flood from one peer waits or is refused rather than
/// piling up work.
final class CostlyWork: Sendable {
    private struct Queue {
        var running = 0
        var waiting: [CheckedContinuation<Void, Never>] = []
    }

    /// Requests of one role that may run at once.
    let running: Int
    /// Requests of one role that may wait for a slot.
    let waiting: Int
    private let queues = Mutex<[Role: Queue]>([:])

    init(running: Int = 4, waiting: Int = 64) {
        self.running = running
        self.waiting = waiting
    }

    /// A slot taken: given back by `release()` or, at the latest, when the admission is
    /// dropped (a streamed answer keeps it until its body is written or abandoned).
    final class Admission: Sendable {
        private let release: Mutex<(@Sendable () -> Void)?>

        fileprivate init(_ release: @escaping @Sendable () -> Void) { self.release = Mutex(release) }

        /// Gives the slot back (once; later calls do nothing).
        func done() {
            let pending = release.withLock { release -> (@Sendable () -> Void)? in
                defer { release = nil }
                return release
            }
            pending?()
        }

        deinit { done() }
    }

    /// Takes a slot of the peer's role, waiting for one if they are all taken.
    func admit(_ context: DaemonContext) async throws -> Admission {
        let role = context.authorization?.role ?? .metrics
        try await acquire(role)
        return Admission { [self] in release(role) }
    }

    /// Runs `work` in a slot of the peer's role.
    func run<T>(_ context: DaemonContext, _ work: () async throws -> T) async throws -> T {
        let admission = try await admit(context)
        defer { admission.done() }
        return try await work()
    }

    private func acquire(_ role: Role) async throws {
        enum Admission { case now, queued, refused }
        var admission = Admission.refused
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            admission = queues.withLock { queues in
                if queues[role, default: Queue()].running < running {
                    queues[role, default: Queue()].running += 1
                    return .now
                }
                guard queues[role, default: Queue()].waiting.count < waiting else { return .refused }
                queues[role, default: Queue()].waiting.append(continuation)
                return .queued
            }
            if admission != .queued { continuation.resume() }
        }
        if admission == .refused {
            throw Problem(
                .serviceUnavailable, "busy",
                "too many costly requests of role \(role.rawValue) are running or waiting; retry later", retryAfter: 1)
        }
    }

    /// Frees a slot: the next waiter of the role takes it over.
    private func release(_ role: Role) {
        let next = queues.withLock { queues -> CheckedContinuation<Void, Never>? in
            if queues[role, default: Queue()].waiting.isEmpty {
                queues[role, default: Queue()].running -= 1
                return nil
            }
            return queues[role, default: Queue()].waiting.removeFirst()
        }
        next?.resume()
    }
}
