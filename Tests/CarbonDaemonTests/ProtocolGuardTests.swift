import Foundation
import Testing

/// The connection-level guard never answers for a request the router owns.
@Suite struct ProtocolGuardTests {
    @Test func garbagePipelinedAfterARequestNeverGetsASecondAnswerForTheRequest() throws {
        let daemon = try DaemonProcess(extraConfig: "[limits]\nrequest_timeout = \"1s\"")
        try daemon.start()
        let answer = try rawExchange(
            daemon.socket,
            Array("GET /v1/health HTTP/1.1\r\nHost: x\r\n\r\nXYZ NOT HTTP\r\n\r\n".utf8))
        let statusLines = answer.components(separatedBy: "\r\n").filter { $0.hasPrefix("HTTP/1.1 ") }
        // The request is answered once; the garbage behind it gets at most a 400, then the close.
        #expect(statusLines.first?.hasPrefix("HTTP/1.1 200") == true, "\(answer)")
        #expect(statusLines.count <= 2, "\(answer)")
        #expect(statusLines.dropFirst().allSatisfy { $0.hasPrefix("HTTP/1.1 400") }, "\(answer)")
    }

    @Test func aSlowBodyAfterAnEarlyAnswerIsNotMistakenForASlowHead() throws {
        // 415 is answered before the body is read; the body then trickles in past request_timeout's
        // start. The only answer must be the 415: no 408 for a "head" that never began.
        let daemon = try DaemonProcess(extraConfig: "[limits]\nrequest_timeout = \"1s\"")
        try daemon.start()
        let answer = try rawExchange(
            daemon.socket,
            Array("POST /v1/readings HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nab".utf8),
            halfClose: false, within: 3)
        let statusLines = answer.components(separatedBy: "\r\n").filter { $0.hasPrefix("HTTP/1.1 ") }
        #expect(statusLines == ["HTTP/1.1 415 Unsupported Media Type"], "\(answer)")
    }
}
