import CarbonClient
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// sd_notify as systemd sees it: a datagram socket named by NOTIFY_SOCKET.
@Suite struct SystemdNotifyTests {
    /// A bound datagram socket standing in for systemd.
    final class NotifySocket {
        let path: String
        let fd: Int32

        init(directory: URL) throws {
            path = directory.appendingPathComponent("notify.sock").path
            fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
            var address = sockaddr_un()
            address.sun_family = sa_family_t(AF_UNIX)
            withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: path.utf8) }
            let bound = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
            }
            guard bound == 0 else { throw DaemonTestFailure("bind \(path): \(errno)") }
            // A bound on a daemon that never notifies (a failure), not a pause.
            var timeout = timeval(tv_sec: 30, tv_usec: 0)
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        }

        /// The next datagram's lines.
        func next() throws -> [String] {
            var buffer = [UInt8](repeating: 0, count: 4096)
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            guard n > 0 else { throw DaemonTestFailure("no notification within 30 s") }
            return String(decoding: buffer[..<n], as: UTF8.self).split(separator: "\n").map(String.init)
        }

        deinit { close(fd) }
    }

    @Test func readyWhenServingThenWatchdogKeepAlivesThenStopping() throws {
        let daemon = try DaemonProcess()
        let systemd = try NotifySocket(directory: daemon.directory)
        try daemon.start(environment: ["NOTIFY_SOCKET": systemd.path, "WATCHDOG_USEC": "200000"], waitUntilServing: false)
        var ready: [String] = []
        var watchdogs = 0
        while watchdogs < 3 {
            let lines = try systemd.next()
            if lines.contains("READY=1") {
                ready = lines
                // READY comes only once the socket answers.
                #expect(try daemon.client().get("/v1/health").status == 200)
            }
            if lines.contains("WATCHDOG=1") { watchdogs += 1 }
        }
        #expect(ready.contains { $0.hasPrefix("STATUS=serving") }, "\(ready)")
        let pid = try #require(daemon.process?.processIdentifier)
        kill(pid, SIGTERM)
        var stopping = false
        while !stopping { stopping = try systemd.next().contains("STOPPING=1") }
        #expect(daemon.stop() == 0)
    }
}
