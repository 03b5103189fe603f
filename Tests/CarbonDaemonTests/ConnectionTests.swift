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
