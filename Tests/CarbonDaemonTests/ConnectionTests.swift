import CarbonClient
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Connections the daemon will not serve are answered and closed: a peer past
/// `limits.max_connections` or without a grant cannot keep a connection open, and a
/// client that reconnects is judged anew.
@Suite struct ConnectionTests {
    /// Sends one keep-alive request and reads until the daemon closes (true) or goes
    /// quiet after answering (false).
    static func keepAliveExchange(_ socketPath: String, _ request: String) throws -> (answer: String, closed: Bool) {
        try exchange(socketPath, Array(request.utf8), within: 5)
    }

    static let health = "GET /v1/health HTTP/1.1\r\nHost: localhost\r\n\r\n"

    /// A client that asks before sending its body (`Expect: 100-continue`, as curl does
    /// for bodies over 1 MiB) is told to go on at once instead of waiting out its timer.
    @Test func aClientThatAsksBeforeSendingItsBodyIsToldToGoOn() throws {
        let daemon = try DaemonProcess()
        try daemon.start()
        let body = #"{"consumer":"c1","utility":"u1","zone":"CN-ZJ","class":"residential"}"#
        let fd = try AccountingTests.connect(daemon.socket)
        defer { close(fd) }
        var timeout = timeval(tv_sec: 30, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        func send(_ text: String) { _ = Array(text.utf8).withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, 0) } }
        /// Reads until `marker` has arrived (or the daemon stops talking).
        func read(until marker: String) -> String {
            var received: [UInt8] = []
            var buffer = [UInt8](repeating: 0, count: 4096)
            while !String(decoding: received, as: UTF8.self).contains(marker) {
                let count = recv(fd, &buffer, buffer.count, 0)
                guard count > 0 else { break }
                received += buffer[..<count]
            }
            return String(decoding: received, as: UTF8.self)
        }
        send("POST /v1/consumers HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/x-ndjson\r\n"
            + "Content-Length: \(body.utf8.count)\r\nExpect: 100-continue\r\n\r\n")
        let goOn = read(until: "\r\n\r\n")
        #expect(goOn.hasPrefix("HTTP/1.1 100 Continue\r\n"), "\(goOn)")
        send(body)
        let answer = read(until: "\"accepted\":1")
        #expect(answer.contains("HTTP/1.1 200") && answer.contains("\"accepted\":1"), "\(answer)")
    }

    @Test func aConnectionPastTheLimitIsAnsweredAndClosed() throws {
        let daemon = try DaemonProcess(extraConfig: "[limits]\nmax_connections = 2")
        try daemon.start()
        let first = try servedConnection(daemon)
        let second = try servedConnection(daemon)
        let (answer, closed) = try Self.keepAliveExchange(daemon.socket, Self.health)
        #expect(answer.hasPrefix("HTTP/1.1 503"), "\(answer)")
        #expect(answer.lowercased().contains("connection: close") && answer.contains("Retry-After"), "\(answer)")
        #expect(closed, "the daemon kept a connection past its limit open")
        // One of the two goes: a client reconnecting is served again.
        first.close()
        #expect(waitUntil { (try? Self.keepAliveExchange(daemon.socket, Self.health))?.answer.hasPrefix("HTTP/1.1 200") == true })
        #expect(try second.get("/v1/health").status == 200)
    }

    @Test func aPeerWithoutAGrantIsAnsweredAndClosed() throws {
        let users = try TestUsers.shared.get()
        // Grants for a throwaway user only: this test process (root) has none.
        let daemon = try DaemonProcess(grants: grant("uid = \(users.reader.uid)", "reader"))
        try daemon.start(waitUntilServing: false)
        var exchange: (answer: String, closed: Bool)?
        #expect(waitUntil {
            exchange = try? Self.keepAliveExchange(daemon.socket, Self.health)
            return exchange != nil
        })
        let (answer, closed) = try #require(exchange)
        #expect(answer.hasPrefix("HTTP/1.1 403") && answer.contains("no-grant"), "\(answer)")
        #expect(closed, "the daemon kept open the connection of a peer with no grant")
        // A granted peer on its own connection is served as before.
        #expect(try daemon.role(of: users.peer(for: .reader)) == "reader")
    }
}
