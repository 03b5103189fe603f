import Foundation
import Testing

import CarbonClient

#if canImport(Glibc)
import Glibc
#endif

/// Bounds every wait of the client, so a broken test fails instead of hanging.
private let timeout = Duration.seconds(10)

/// Runs `body` against a fresh server, stopping it afterwards.
private func withServer<Result>(
    _ handler: @escaping @Sendable (ReceivedRequest, Int, Int) -> ServerAction,
    _ body: (TestServer) throws -> Result
) throws -> Result {
    let server = try TestServer(handler: handler)
    defer { server.stop() }
    return try body(server)
}

@Suite("UnixHTTPClient")
struct UnixHTTPClientTests {
    @Test func fixedLengthResponse() throws {
        try withServer({ request, _, _ in
            .respond(fixedResponse(200, Array("{\"status\":\"ok\"}".utf8), headers: ["Content-Type: application/json"]))
        }) { server in
            let client = try UnixHTTPClient(socketPath: server.socketPath, timeout: timeout)
            let response = try client.request("GET", "/v1/health")
            #expect(response.status == 200)
            #expect(response.reason == "OK")
            #expect(response.text == "{\"status\":\"ok\"}")
            #expect(response.header("content-type") == "application/json")
            #expect(response.header("CONTENT-LENGTH") == "15")
            #expect(response.header("X-Missing") == nil)

            let sent = server.snapshot.requests[0]
            #expect(sent.method == "GET")
            #expect(sent.target == "/v1/health")
            #expect(sent.header("Host") == "localhost")
            #expect(sent.header("Content-Length") == "0")
        }
    }

    @Test func aBodyPastTheLimitIsRefusedAndTheNextRequestWorks() throws {
        try withServer({ request, _, _ in
            .respond(chunkedResponse(patternBytes(request.target == "/big" ? 100_000 : 10), chunkSize: 4_096))
        }) { server in
            let client = try UnixHTTPClient(socketPath: server.socketPath, timeout: timeout, maxBodyBytes: 1_000)
            #expect(throws: ClientError.malformedResponse("the body is larger than 1000 bytes")) {
                try client.request("GET", "/big")
            }
            #expect(try client.request("GET", "/small").body == patternBytes(10))
            #expect(try client.request("GET", "/edge").body.count == 10)
        }
    }

    @Test func requestHeadersAndBodyAreSent() throws {
        try withServer({ request, _, _ in .respond(fixedResponse(200, request.body)) }) { server in
            let client = try UnixHTTPClient(socketPath: server.socketPath, timeout: timeout)
            let body = Array("[{\"meter\":\"m-1\"}]".utf8)
            let response = try client.request(
                "POST", "/v1/readings?partial=true",
                headers: [("Content-Type", "application/json"), ("Batch-Id", "b-1")], body: body
            )
            #expect(response.body == body)
            let sent = server.snapshot.requests[0]
            #expect(sent.target == "/v1/readings?partial=true")
            #expect(sent.header("Batch-Id") == "b-1")
            #expect(sent.header("Content-Length") == "\(body.count)")
        }
    }

    @Test func chunkedResponseSplitAcrossWrites() throws {
        let body = patternBytes(100_000)
        try withServer({ _, _, _ in .respond(chunkedResponse(body, chunkSize: 7_001), pieceSize: 997) }) { server in
            let client = try UnixHTTPClient(socketPath: server.socketPath, timeout: timeout)
            let first = try client.request("GET", "/chunked")
            #expect(first.status == 200)
            #expect(first.body == body)
            // The trailer was consumed: the connection is usable for the next response.
            let second = try client.request("GET", "/chunked")
            #expect(second.body == body)
            #expect(server.snapshot.accepted == 1)
        }
    }

    @Test func closeDelimitedResponseThenReconnect() throws {
        try withServer({ request, _, _ in
            request.target == "/close"
                ? .respond(closeDelimitedResponse(Array("until the end".utf8)), pieceSize: 5, thenClose: true)
                : .respond(fixedResponse(200, Array("fixed".utf8)))
        }) { server in
            let client = try UnixHTTPClient(socketPath: server.socketPath, timeout: timeout)
            #expect(try client.request("GET", "/close").text == "until the end")
            #expect(try client.request("GET", "/fixed").text == "fixed")
            #expect(server.snapshot.accepted == 2)
        }
    }

    @Test func keepAliveReusesOneConnection() throws {
        try withServer({ request, _, index in .respond(fixedResponse(200, Array("answer \(index)".utf8))) }) { server in
            let client = try UnixHTTPClient(socketPath: server.socketPath, timeout: timeout)
            for index in 0..<5 {
                #expect(try client.request("GET", "/v1/whoami").text == "answer \(index)")
            }
            #expect(server.snapshot.accepted == 1)
            #expect(server.snapshot.requests.count == 5)
        }
    }

    @Test func connectionCloseHeaderIsHonoured() throws {
        try withServer({ _, _, _ in .respond(fixedResponse(200, Array("bye".utf8), headers: ["Connection: close"])) }) { server in
            let client = try UnixHTTPClient(socketPath: server.socketPath, timeout: timeout)
            #expect(try client.request("GET", "/a").text == "bye")
            #expect(try client.request("GET", "/b").text == "bye")
            #expect(server.snapshot.accepted == 2)
        }
    }

    @Test func reconnectsAfterServerClosedIdleConnection() throws {
        // The server answers and then drops the connection, as on its idle timeout.
        try withServer({ _, connection, _ in
            .respond(fixedResponse(200, Array("connection \(connection)".utf8)), thenClose: true)
        }) { server in
            let client = try UnixHTTPClient(socketPath: server.socketPath, timeout: timeout)
            #expect(try client.request("GET", "/one").text == "connection 0")
            #expect(server.wait { $0.closed == 1 })
            #expect(try client.request("GET", "/two").text == "connection 1")
            #expect(server.snapshot.accepted == 2)
            #expect(server.snapshot.requests.count == 2)
        }
    }

    @Test func retriesOnceWhenReusedConnectionDiesBeforeAnswering() throws {
        // Connection 0 answers its first request, then closes on the second without a
        // byte of answer: the race between an idle close and a new request.
        try withServer({ _, connection, index in
            connection == 0 && index == 1 ? .close : .respond(fixedResponse(200, Array("c\(connection) r\(index)".utf8)))
        }) { server in
            let client = try UnixHTTPClient(socketPath: server.socketPath, timeout: timeout)
            #expect(try client.request("GET", "/one").text == "c0 r0")
            #expect(try client.request("POST", "/two", body: [1, 2, 3]).text == "c1 r0")
            let seen = server.snapshot
            #expect(seen.accepted == 2)
            #expect(seen.requests.map(\.target) == ["/one", "/two", "/two"])
            #expect(seen.requests[2].body == [1, 2, 3])
        }
    }

    @Test func freshConnectionClosedWithoutAnswerIsAnError() throws {
        try withServer({ _, _, _ in .close }) { server in
            let client = try UnixHTTPClient(socketPath: server.socketPath, timeout: timeout)
            #expect(throws: ClientError.connectionClosed) { try client.request("GET", "/") }
            #expect(server.snapshot.requests.count == 1)  // not retried: the connection was new
        }
    }

    @Test func closedInTheMiddleOfTheBody() throws {
        let truncated = Array("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly ten b".utf8)
        try withServer({ _, _, _ in .respond(truncated, thenClose: true) }) { server in
            let client = try UnixHTTPClient(socketPath: server.socketPath, timeout: timeout)
            #expect(throws: ClientError.connectionClosed) { try client.request("GET", "/") }
        }
    }

    @Test func largeBodiesBothWays() throws {
        let upload = patternBytes(8 << 20, seed: 7)
        try withServer({ request, _, _ in
            request.target == "/echo"
                ? .respond(fixedResponse(200, request.body))
                : .respond(chunkedResponse(request.body, chunkSize: 65_536))
        }) { server in
            let client = try UnixHTTPClient(socketPath: server.socketPath, timeout: timeout)
            let echoed = try client.request("POST", "/echo", body: upload)
            #expect(echoed.body.count == upload.count)
            #expect(echoed.body == upload)
            let chunked = try client.request("POST", "/chunked", body: upload)
            #expect(chunked.body == upload)
            #expect(server.snapshot.requests.map(\.body.count) == [upload.count, upload.count])
            #expect(server.snapshot.accepted == 1)
        }
    }

    @Test func interimResponsesAreSkipped() throws {
        let answer = Array("HTTP/1.1 100 Continue\r\n\r\n".utf8) + fixedResponse(201, Array("made".utf8))
        try withServer({ _, _, _ in .respond(answer) }) { server in
            let client = try UnixHTTPClient(socketPath: server.socketPath, timeout: timeout)
            let response = try client.request("POST", "/v1/consumers", body: Array("[]".utf8))
            #expect(response.status == 201)
            #expect(response.text == "made")
        }
    }

    @Test func headAndNoContentHaveNoBody() throws {
        try withServer({ request, _, _ in
            request.method == "HEAD"
                ? .respond(Array("HTTP/1.1 200 OK\r\nContent-Length: 1234\r\n\r\n".utf8))
                : .respond(Array("HTTP/1.1 204 No Content\r\n\r\n".utf8))
        }) { server in
            let client = try UnixHTTPClient(socketPath: server.socketPath, timeout: timeout)
            let head = try client.request("HEAD", "/metrics")
            #expect(head.status == 200 && head.body.isEmpty && head.header("Content-Length") == "1234")
            let empty = try client.request("DELETE", "/thing")
            #expect(empty.status == 204 && empty.body.isEmpty)
            #expect(server.snapshot.accepted == 1)
        }
    }

    @Test(arguments: [
        "HELLO\r\n\r\n",
        "HTTP/1.1 2x0 OK\r\n\r\n",
        "HTTP/2.0 200 OK\r\n\r\n",
        "HTTP/1.1 200 OK\r\nno colon here\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello",
        "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcXY0\r\n\r\n",
    ])
    func malformedResponses(_ raw: String) throws {
        try withServer({ _, _, _ in .respond(Array(raw.utf8), thenClose: true) }) { server in
            let client = try UnixHTTPClient(socketPath: server.socketPath, timeout: timeout)
            let error = #expect(throws: ClientError.self) { try client.request("GET", "/") }
            guard case .malformedResponse = error else {
                Issue.record("expected malformedResponse, got \(String(describing: error))")
                return
            }
            #expect(error?.description.hasPrefix("malformed response: ") == true)
        }
    }

    @Test func cannotConnectSaysWhy() throws {
        let path = "/tmp/carbonclient-missing-\(getpid())/api.sock"
        let error = #expect(throws: ClientError.self) { try UnixHTTPClient(socketPath: path) }
        #expect(error == .cannotConnect(path: path, errno: ENOENT))
        #expect(error?.description == "cannot connect to \(path): No such file or directory (is the daemon running?)")
    }

    @Test func tooLongSocketPath() {
        let path = "/tmp/" + String(repeating: "x", count: 120)
        #expect(throws: ClientError.socketPathTooLong(path: path)) { try UnixHTTPClient(socketPath: path) }
    }

    @Test func requestsThatWouldSplitAreRefused() throws {
        try withServer({ _, _, _ in .respond(fixedResponse(200, [])) }) { server in
            let client = try UnixHTTPClient(socketPath: server.socketPath, timeout: timeout)
            #expect(throws: ClientError.self) { try client.request("GET", "/a b") }
            #expect(throws: ClientError.self) { try client.request("GE T", "/") }
            #expect(throws: ClientError.self) { try client.request("GET", "/", headers: [("X-A", "1\r\nX-B: 2")]) }
            #expect(throws: ClientError.self) { try client.request("GET", "/", headers: [("Bad Name", "1")]) }
            #expect(throws: ClientError.self) { try client.request("POST", "/", headers: [("Content-Length", "5")]) }
            // None of them reached the server; the connection is still fine.
            #expect(try client.request("GET", "/").status == 200)
            #expect(server.snapshot.requests.count == 1)
        }
    }

    @Test func timesOutOnASilentServer() throws {
        let release = Gate()
        try withServer({ _, _, _ in
            release.wait()
            return .close
        }) { server in
            let client = try UnixHTTPClient(socketPath: server.socketPath, timeout: .milliseconds(200))
            #expect(throws: ClientError.timedOut) { try client.request("GET", "/") }
            release.open()
        }
    }
}

/// A one-shot gate a server handler can wait on until the test opens it.
private final class Gate: @unchecked Sendable {
    private let condition = NSCondition()
    private var isOpen = false

    func wait() {
        condition.lock()
        while !isOpen { condition.wait() }
        condition.unlock()
    }

    func open() {
        condition.lock()
        isOpen = true
        condition.broadcast()
        condition.unlock()
    }
}
