import CarbonClient
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Socket activation as systemd does it: the socket exists before the daemon, is
/// passed as descriptor 3, and outlives the daemon that serves it.
@Suite struct SocketActivationTests {
    /// A bound, listening Unix stream socket standing in for the socket unit's.
    final class ListeningSocket {
        let path: String
        let fd: Int32

        init(path: String) throws {
            self.path = path
            fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
            var address = sockaddr_un()
            address.sun_family = sa_family_t(AF_UNIX)
            withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: path.utf8) }
            let bound = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
            }
            guard bound == 0, listen(fd, 16) == 0 else { throw DaemonTestFailure("bind/listen \(path): \(errno)") }
        }

        deinit { close(fd) }
    }

    @Test func servesThePassedSocketAndNeverBindsItsOwn() throws {
        let daemon = try DaemonProcess(extraConfig: DaemonProcess.periodsStayOpen)
        let passed = try ListeningSocket(path: daemon.directory.appendingPathComponent("activated.sock").path)
        try daemon.start(passing: passed.fd)
        try daemon.waitUntilServing(socket: passed.path)

        let client = try UnixHTTPClient(socketPath: passed.path)
        let consumer = try client.post(
            "/v1/consumers", #"{"consumer":"c1","utility":"u1","zone":"CN-ZJ","class":"residential"}"#)
        #expect(consumer.status == 200, "\(consumer.text)")
        let readings = try client.post(
            "/v1/readings", #"{"utility":"u1","meter":"m1","consumer":"c1","start":1790000000,"duration_s":3600,"import_wh":5}"#)
        #expect(readings.status == 200, "\(readings.text)")
        #expect(try readings.json()["accepted"] as? Int == 1)
        #expect(!FileManager.default.fileExists(atPath: daemon.socket), "the configured socket path must never be created")
        #expect(daemon.log.contains("passed by systemd (fd 3, \(passed.path))"), "\(daemon.log)")
        #expect(daemon.log.contains("but daemon.socket says \(daemon.socket)"), "a socket unit and config that disagree are named")

        // SIGTERM ends the daemon; the socket stays with its owner and keeps accepting.
        #expect(daemon.stop() == 0, "\(daemon.log)")
        #expect(FileManager.default.fileExists(atPath: passed.path))
        let waiting = try UnixHTTPClient(socketPath: passed.path, timeout: .seconds(60))

        // The next daemon answers the connection that queued while none ran.
        try daemon.start(passing: passed.fd)
        let health = try waiting.get("/v1/health")
        #expect(health.status == 200, "\(health.text)")
        #expect(try health.json()["size"] as? Int == 3)  // zones, the consumer, the readings
        #expect(!FileManager.default.fileExists(atPath: daemon.socket))
        #expect(daemon.stop() == 0, "\(daemon.log)")
    }

    @Test func aPassedDescriptorThatIsNoListeningSocketIsRefused() throws {
        let daemon = try DaemonProcess(extraConfig: DaemonProcess.periodsStayOpen)
        let file = open(daemon.configPath, O_RDONLY | O_CLOEXEC)
        defer { close(file) }
        try daemon.start(passing: file)
        let status = daemon.waitForExit()
        #expect(status != 0)
        #expect(daemon.log.contains("not a socket"), "\(daemon.log)")
        #expect(!FileManager.default.fileExists(atPath: daemon.socket))
    }
}
