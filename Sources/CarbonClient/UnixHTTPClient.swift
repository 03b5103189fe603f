import NIOCore
import NIOHTTP1

/// A blocking HTTP/1.1 client for the daemon's Unix socket, used by `carbonctl`,
/// the tests and the ingest benchmark (and, over TCP, by the daemon to reach witnesses). Responses are parsed by NIO's HTTP/1.1
/// decoder (`ResponseParser`).
///
/// One connection is kept alive across requests. If the daemon closed it while it
/// sat idle, the next request reconnects first; and if a reused connection turns
/// out dead before a single byte of the answer arrives, the request is sent once
/// more on a fresh one. Not thread-safe: use one client per thread.
public final class UnixHTTPClient {
    /// The socket this client talks to (`HOST:PORT` for TCP).
    public let socketPath: String
    /// The TCP host and port, nil for a Unix socket.
    private let tcp: (host: String, port: Int)?
    private let timeout: Duration?
    /// The largest response body read into memory (nil: no limit); past it the request fails.
    private let maxBodyBytes: Int?
    private var connection: UnixSocketConnection?
    private var parser: ResponseParser?
    /// Where received bytes land, reused across reads.
    private var buffer = [UInt8](repeating: 0, count: 256 * 1024)
    /// Requests answered on the current connection (0: fresh, so a failure is not a stale keep-alive).
    private var answeredOnConnection = 0

    /// Connects to the daemon at `socketPath`. `timeout`, if given, bounds each wait
    /// for the socket to accept or deliver data (not the whole request).
    public init(socketPath: String, timeout: Duration? = nil, maxBodyBytes: Int? = nil) throws {
        self.socketPath = socketPath
        self.timeout = timeout
        self.maxBodyBytes = maxBodyBytes
        tcp = nil
        try connect()
    }

    /// Connects to `host`:`port` over TCP (plain HTTP: for a peer on another machine,
    /// run it behind a TLS tunnel).
    public init(host: String, port: Int, timeout: Duration? = nil, maxBodyBytes: Int? = nil) throws {
        socketPath = "\(host):\(port)"
        self.timeout = timeout
        self.maxBodyBytes = maxBodyBytes
        tcp = (host, port)
        try connect()
    }

    /// Sends one request and reads the whole response.
    ///
    /// Adds `Host: localhost` (unless `headers` has a Host) and `Content-Length`
    /// (which `headers` must not set, nor `Transfer-Encoding`).
    public func request(
        _ method: String, _ path: String, headers: [(String, String)] = [], body: [UInt8] = []
    ) throws -> HTTPResponse {
        try request(method, path, headers: headers, body: body, streamingSuccessTo: nil)
    }

    /// Sends one request; a 2xx answer's body goes to `sink` as it arrives (the returned
    /// response's body is then empty), so a body larger than memory can be saved.
    /// Any other answer is read whole, as `request` does, for its problem+json.
    public func request(
        _ method: String, _ path: String, headers: [(String, String)] = [], body: [UInt8] = [],
        streamingSuccessTo sink: ((UnsafeRawBufferPointer) throws -> Void)?
    ) throws -> HTTPResponse {
        let head = try Self.encodeHead(method, path, headers: headers, bodyCount: body.count)
        let closeAfter = Self.asksClose(headers)
        if connection == nil || (answeredOnConnection > 0 && connection!.isStale) {
            try connect()
        }
        do {
            return try exchange(method, head: head, body: body, closeAfter: closeAfter, sink: sink)
        } catch is PeerGone where answeredOnConnection > 0 {
            // The kept-alive connection died between our check and our request.
            try connect()
        } catch {
            disconnect()
            throw error is PeerGone ? ClientError.connectionClosed : error
        }
        do {
            return try exchange(method, head: head, body: body, closeAfter: closeAfter, sink: sink)
        } catch {
            disconnect()
            throw error is PeerGone ? ClientError.connectionClosed : error
        }
    }

    /// Closes the connection; the next request opens a new one.
    public func close() {
        disconnect()
    }

    // MARK: Connection

    private func connect() throws {
        disconnect()
        let connection = try tcp.map { try UnixSocketConnection(host: $0.host, port: $0.port, timeout: timeout) }
            ?? UnixSocketConnection(path: socketPath, timeout: timeout)
        self.connection = connection
        self.parser = try ResponseParser()
    }

    private func disconnect() {
        parser = nil
        connection = nil
        answeredOnConnection = 0
    }

    /// One request and its response on the current connection.
    private func exchange(
        _ method: String, head: [UInt8], body: [UInt8], closeAfter: Bool,
        sink: ((UnsafeRawBufferPointer) throws -> Void)?
    ) throws -> HTTPResponse {
        guard let connection, let parser else { throw ClientError.connectionClosed }
        try parser.expectAnswer(to: method)
        // Small bodies go out in the same write as the head.
        if body.count <= 64 * 1024 {
            try (head + body).withUnsafeBytes { try connection.send($0) }
        } else {
            try head.withUnsafeBytes { try connection.send($0) }
            try body.withUnsafeBytes { try connection.send($0) }
        }
        var response: HTTPResponseHead?
        var responseBody: [UInt8] = []
        var complete = false
        var closedByPeer = false
        var trailingGarbage = false
        var receivedAny = false
        while !complete {
            let count = try buffer.withUnsafeMutableBytes { try connection.receive(into: $0) }
            let parts: [HTTPClientResponsePart]
            if count == 0 {
                // Nothing at all on a kept-alive connection: it died idle (the caller retries).
                guard receivedAny else { throw PeerGone() }
                closedByPeer = true
                parts = try parser.finish()
            } else {
                receivedAny = true
                let fed = try buffer.withUnsafeBytes { try parser.feed(UnsafeRawBufferPointer(rebasing: $0[..<count])) }
                parts = fed.parts
                trailingGarbage = fed.trailingGarbage
            }
            for part in parts {
                switch part {
                case .head(let head):
                    guard head.version.major == 1 else {
                        throw ClientError.malformedResponse("unsupported version HTTP/\(head.version.major).\(head.version.minor)")
                    }
                    response = head
                case .body(let bytes):
                    if let sink, let status = response?.status.code, (200..<300).contains(status) {
                        try bytes.withUnsafeReadableBytes { try sink($0) }
                    } else {
                        responseBody += bytes.readableBytesView
                        if let maxBodyBytes, responseBody.count > maxBodyBytes {
                            throw ClientError.malformedResponse("the body is larger than \(maxBodyBytes) bytes")
                        }
                    }
                case .end:
                    complete = true
                }
            }
            if closedByPeer && !complete { throw ClientError.connectionClosed }
        }
        guard let response else { throw ClientError.malformedResponse("a response ended without its head") }
        if response.isKeepAlive && !closedByPeer && !trailingGarbage && !closeAfter {
            answeredOnConnection += 1
        } else {
            disconnect()
        }
        return HTTPResponse(
            status: Int(response.status.code), reason: response.status.reasonPhrase,
            headers: response.headers.map { ($0.name, $0.value) }, body: responseBody)
    }

    /// Whether the request we sent said `Connection: close`.
    private static func asksClose(_ requestHeaders: [(String, String)]) -> Bool {
        requestHeaders.contains {
            asciiCaseInsensitiveEqual($0.0, "Connection") && $0.1.lowercased().contains("close")
        }
    }

    // MARK: Encoding

    /// The request line and headers, refusing anything that could split the request.
    static func encodeHead(
        _ method: String, _ path: String, headers: [(String, String)], bodyCount: Int
    ) throws -> [UInt8] {
        guard !method.isEmpty, method.utf8.allSatisfy(isTokenByte) else {
            throw ClientError.invalidRequest("method \"\(method)\" is not an HTTP token")
        }
        guard path.hasPrefix("/") || path == "*",
              path.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F })
        else {
            throw ClientError.invalidRequest("target \"\(path)\" must start with / and hold no spaces or control characters (percent-encode them)")
        }
        var text = "\(method) \(path) HTTP/1.1\r\n"
        if !headers.contains(where: { asciiCaseInsensitiveEqual($0.0, "Host") }) {
            text += "Host: localhost\r\n"
        }
        for (name, value) in headers {
            guard !name.isEmpty, name.utf8.allSatisfy(isTokenByte) else {
                throw ClientError.invalidRequest("header name \"\(name)\" is not an HTTP token")
            }
            guard !value.utf8.contains(where: { $0 == 0x0D || $0 == 0x0A || $0 == 0 }) else {
                throw ClientError.invalidRequest("header \(name) holds a line break or NUL")
            }
            guard !asciiCaseInsensitiveEqual(name, "Content-Length"),
                  !asciiCaseInsensitiveEqual(name, "Transfer-Encoding")
            else {
                throw ClientError.invalidRequest("the client sets \(name) itself, from the body")
            }
            text += "\(name): \(value)\r\n"
        }
        text += "Content-Length: \(bodyCount)\r\n\r\n"
        return Array(text.utf8)
    }
}

/// An RFC 9110 token character (methods and header names).
func isTokenByte(_ byte: UInt8) -> Bool {
    switch byte {
    case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"):
        true
    default:
        "!#$%&'*+-.^_`|~".utf8.contains(byte)
    }
}
