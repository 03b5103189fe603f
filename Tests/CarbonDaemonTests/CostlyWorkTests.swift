import CarbonClient
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Costly requests are bounded per role: 4 run, 64 wait, the next is refused at once
/// with 503 `busy`, and the slots come back when the clients go.
@Suite struct CostlyWorkTests {
    /// A request sent on its own connection whose answer is never read: a data tile
    /// larger than the socket's buffers keeps its slot while the daemon waits to write.
    static func stall(_ socket: String, _ path: String) throws -> Int32 {
        let fd = try AccountingTests.connect(socket)
        let request = Array("GET \(path) HTTP/1.1\r\nHost: localhost\r\n\r\n".utf8)
        _ = request.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        return fd
    }

    @Test func pastTheRunningAndWaitingSlotsOfARoleTheDaemonAnswersBusy() throws {
        // One batch of 20,000 readings: a data tile far larger than the socket's buffers.
        let (daemon, client) = try HostileRequestTests.daemonWithLargeBatches(1)
        let size = try #require(try client.get("/v1/health").json()["size"] as? Int)
        let tile = "/v1/ledger/data/000.p/\(size)"

        var stalled: [Int32] = []
        defer { stalled.forEach { close($0) } }
        for _ in 0..<(4 + 64) { stalled.append(try Self.stall(daemon.socket, tile)) }
        // The stalled requests reach the queue in their own time: probe until one is refused.
        var busy: String?
        let refused = waitUntil {
            guard let fd = try? Self.stall(daemon.socket, tile) else { return false }
            var timeout = timeval(tv_sec: 0, tv_usec: 200_000)
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
            var buffer = [UInt8](repeating: 0, count: 4096)
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            let head = n > 0 ? String(decoding: buffer[..<n], as: UTF8.self) : ""
            if head.hasPrefix("HTTP/1.1 503") {
                busy = head
                close(fd)
                return true
            }
            stalled.append(fd)  // admitted or queued: it holds its place like the others
            return false
        }
        #expect(refused, "no request was refused with \(stalled.count) stalled")
        #expect(busy?.contains("busy") == true && busy?.contains("Retry-After") == true, "\(busy ?? "")")
        #expect(stalled.count <= 4 + 64 + 32, "refused only after \(stalled.count) stalled requests")
        // Cheap requests are not costly work: they are served all along.
        #expect(try client.get("/v1/ledger/checkpoint").status == 200)

        stalled.forEach { close($0) }
        stalled = []
        #expect(waitUntil { (try? daemon.client().get(tile))?.status == 200 }, "the slots did not come back")
        #expect(daemon.isRunning)
    }
}
