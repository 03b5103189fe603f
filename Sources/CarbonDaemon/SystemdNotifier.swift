import Foundation
import Logging
import ServiceLifecycle

#if canImport(Glibc)
import Glibc
#endif

/// The sd_notify protocol: datagrams to `$NOTIFY_SOCKET` telling systemd that the
/// daemon is ready, what it is doing, that it is alive, and that it is stopping.
/// Without `NOTIFY_SOCKET` (not started by systemd) every call does nothing.
struct SystemdNotifier: Sendable {
    private let socketPath: String?

    init(environment: [String: String] = ProcessInfo.processInfo.environment) {
        socketPath = environment["NOTIFY_SOCKET"].flatMap { $0.isEmpty ? nil : $0 }
    }

    /// Sends `state` lines such as `READY=1` or `STATUS=...`; errors are ignored, as sd_notify does.
    func notify(_ state: String...) {
        guard let socketPath else { return }
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return }
        defer { close(fd) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        var path = Array(socketPath.utf8)
        if path.first == UInt8(ascii: "@") { path[0] = 0 }  // an abstract socket
        guard path.count < MemoryLayout.size(ofValue: address.sun_path) else { return }
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: path) }
        let length = socklen_t(MemoryLayout<sa_family_t>.size + path.count)
        let message = Array(state.joined(separator: "\n").utf8)
        _ = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { address in
                message.withUnsafeBytes { sendto(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL), address, length) }
            }
        }
    }
}

/// Tells systemd the daemon is alive (`WATCHDOG=1` at half of `WATCHDOG_USEC`, when
/// systemd asked for keep-alives) and, once shutdown begins, `STOPPING=1`. While
/// `isAlive` says the ledger writer has stopped itself, the keep-alives stop, so
/// systemd restarts a daemon that can no longer write.
struct SystemdService: Service {
    let notifier: SystemdNotifier
    let watchdogInterval: Duration?
    let isAlive: @Sendable () -> Bool

    init(
        notifier: SystemdNotifier, isAlive: @escaping @Sendable () -> Bool = { true },
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) {
        self.notifier = notifier
        self.isAlive = isAlive
        let usec = environment["WATCHDOG_USEC"].flatMap(Int64.init) ?? 0
        let forUs = environment["WATCHDOG_PID"].flatMap(Int32.init).map { $0 == getpid() } ?? true
        watchdogInterval = usec > 0 && forUs ? .microseconds(usec / 2) : nil
    }

    func run() async throws {
        if let watchdogInterval {
            while !Task.isShuttingDownGracefully && !Task.isCancelled {
                if isAlive() { notifier.notify("WATCHDOG=1") }
                try? await cancelWhenGracefulShutdown { try await Task.sleep(for: watchdogInterval) }
            }
        } else {
            try? await gracefulShutdown()
        }
        notifier.notify("STOPPING=1")
    }
}
