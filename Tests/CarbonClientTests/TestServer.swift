import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A request as the test server received it.
struct ReceivedRequest: Sendable {
    var method: String
    var target: String
    var headers: [(String, String)]
    var body: [UInt8]

    func header(_ name: String) -> String? {
        headers.first { $0.0.lowercased() == name.lowercased() }?.1
    }
}

/// What the test server does with one request.
enum ServerAction: Sendable {
    /// Writes these bytes (in pieces of `pieceSize`, to exercise partial reads), then
    /// keeps the connection or closes it.
    case respond([UInt8], pieceSize: Int = .max, thenClose: Bool = false)
    /// Closes the connection without answering.
    case close
}

/// A tiny HTTP/1.1 server on a Unix socket in a fresh temporary directory, run by one
/// thread that serves one connection at a time (the client under test never holds two).
final class TestServer: @unchecked Sendable {
    /// What the server has seen so far; read through `wait(until:)` or `snapshot`.
    struct Counters: Sendable {
        var accepted = 0
        var closed = 0
        var requests: [ReceivedRequest] = []
        var finished = false
    }

    let socketPath: String
    private let directory: String
    private let listenFD: Int32
    private let handler: @Sendable (ReceivedRequest, _ connection: Int, _ requestOnConnection: Int) -> ServerAction
    private let condition = NSCondition()
    private var counters = Counters()
    private var stopping = false

    /// Starts serving; `handler` decides every answer.
    init(
        handler: @escaping @Sendable (ReceivedRequest, _ connection: Int, _ requestOnConnection: Int) -> ServerAction
    ) throws {
        var template = Array("/tmp/carbonclient-XXXXXX".utf8CString)
        guard let made = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) else {
            throw TestServerError("mkdtemp: \(String(cString: strerror(errno)))")
        }
        directory = String(cString: made)
        socketPath = directory + "/api.sock"
        self.handler = handler

        listenFD = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: Array(socketPath.utf8)) }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(listenFD, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        guard bound == 0, listen(listenFD, 16) == 0 else {
            throw TestServerError("bind/listen: \(String(cString: strerror(errno)))")
        }
        let thread = Thread { [self] in serve() }
        thread.start()
    }

    /// Stops the thread, waits for it, and removes the socket and its directory.
    func stop() {
        condition.lock()
        stopping = true
        while !counters.finished { condition.wait() }
        condition.unlock()
        close(listenFD)
        unlink(socketPath)
        rmdir(directory)
    }

    /// Waits (up to 10 s) until `predicate` holds for the counters; returns whether it did.
    @discardableResult
    func wait(until predicate: (Counters) -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(10)
        condition.lock()
        defer { condition.unlock() }
        while !predicate(counters) {
            if !condition.wait(until: deadline) { return predicate(counters) }
        }
        return true
    }

    var snapshot: Counters {
        condition.lock()
        defer { condition.unlock() }
        return counters
    }

    private func update(_ change: (inout Counters) -> Void) {
        condition.lock()
        change(&counters)
        condition.broadcast()
        condition.unlock()
    }

    private var isStopping: Bool {
        condition.lock()
        defer { condition.unlock() }
        return stopping
    }

    // MARK: Serving

    private func serve() {
        var connectionIndex = 0
        while !isStopping {
            // Poll in short slices so stop() is noticed; this is the server's loop, not a test sleep.
            var entry = pollfd(fd: listenFD, events: Int16(POLLIN), revents: 0)
            guard poll(&entry, 1, 50) > 0 else { continue }
            let fd = accept(listenFD, nil, nil)
            guard fd >= 0 else { continue }
            update { $0.accepted += 1 }
            serveConnection(fd, index: connectionIndex)
            close(fd)
            update { $0.closed += 1 }
            connectionIndex += 1
        }
        update { $0.finished = true }
    }

    private func serveConnection(_ fd: Int32, index: Int) {
        var reader = RequestReader(fd: fd)
        var requestIndex = 0
        while !isStopping, let request = reader.next() {
            update { $0.requests.append(request) }
            switch handler(request, index, requestIndex) {
            case .close:
                return
            case .respond(let bytes, let pieceSize, let thenClose):
                var offset = 0
                while offset < bytes.count {
                    let count = min(pieceSize, bytes.count - offset)
                    guard sendAll(fd, bytes[offset..<(offset + count)]) else { return }
                    offset += count
                }
                if thenClose { return }
            }
            requestIndex += 1
        }
    }

    private func sendAll(_ fd: Int32, _ bytes: ArraySlice<UInt8>) -> Bool {
        bytes.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let sent = send(fd, raw.baseAddress! + offset, raw.count - offset, Int32(MSG_NOSIGNAL))
                if sent < 0 && errno == EINTR { continue }
                guard sent > 0 else { return false }
                offset += sent
            }
            return true
        }
    }
}

struct TestServerError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// Reads requests with Content-Length bodies off one connection, in large chunks.
private struct RequestReader {
    let fd: Int32
    var buffer: [UInt8] = []

    init(fd: Int32) { self.fd = fd }

    /// More bytes from the socket; false at EOF, error, or after 10 s of silence.
    private mutating func fill() -> Bool {
        var entry = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        guard poll(&entry, 1, 10_000) > 0 else { return false }
        var chunk = [UInt8](repeating: 0, count: 256 * 1024)
        let count = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        guard count > 0 else { return false }
        buffer.append(contentsOf: chunk[0..<count])
        return true
    }

    mutating func next() -> ReceivedRequest? {
        let separator: [UInt8] = [13, 10, 13, 10]
        var headEnd: Int?
        var searchFrom = 0
        while headEnd == nil {
            if buffer.count >= 4 {
                for i in searchFrom...(buffer.count - 4) where buffer[i] == 13 && Array(buffer[i..<(i + 4)]) == separator {
                    headEnd = i
                    break
                }
                searchFrom = max(0, buffer.count - 3)
            }
            if headEnd == nil && !fill() { return nil }
        }
        let head = String(decoding: buffer[0..<headEnd!], as: UTF8.self)
        var lines = head.components(separatedBy: "\r\n")
        let requestLine = lines.removeFirst().split(separator: " ")
        guard requestLine.count == 3 else { return nil }
        let headers = lines.map { line -> (String, String) in
            let parts = line.split(separator: ":", maxSplits: 1)
            return (String(parts[0]), parts.count > 1 ? parts[1].trimmingCharacters(in: .whitespaces) : "")
        }
        let length = headers.first { $0.0.lowercased() == "content-length" }.flatMap { Int($0.1) } ?? 0
        let bodyStart = headEnd! + 4
        while buffer.count < bodyStart + length {
            if !fill() { return nil }
        }
        let body = Array(buffer[bodyStart..<(bodyStart + length)])
        buffer.removeFirst(bodyStart + length)
        return ReceivedRequest(
            method: String(requestLine[0]), target: String(requestLine[1]), headers: headers, body: body
        )
    }
}

// MARK: Response builders

/// `HTTP/1.1 <status>` with a Content-Length body.
func fixedResponse(_ status: Int = 200, _ body: [UInt8], headers: [String] = []) -> [UInt8] {
    Array(("HTTP/1.1 \(status) \(status == 200 ? "OK" : "Status")\r\n"
        + headers.map { $0 + "\r\n" }.joined()
        + "Content-Length: \(body.count)\r\n\r\n").utf8) + body
}

/// A chunked response cutting `body` into chunks of `chunkSize`, with an extension and a trailer.
func chunkedResponse(_ body: [UInt8], chunkSize: Int) -> [UInt8] {
    var out = Array("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n".utf8)
    var offset = 0
    while offset < body.count {
        let count = min(chunkSize, body.count - offset)
        out += Array("\(String(count, radix: 16));ext=1\r\n".utf8)
        out += body[offset..<(offset + count)]
        out += [13, 10]
        offset += count
    }
    out += Array("0\r\nX-Trailer: yes\r\n\r\n".utf8)
    return out
}

/// A response whose body ends when the server closes the connection.
func closeDelimitedResponse(_ body: [UInt8]) -> [UInt8] {
    Array("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\n".utf8) + body
}

/// Deterministic bytes of every value, so a misplaced chunk shows.
func patternBytes(_ count: Int, seed: UInt32 = 1) -> [UInt8] {
    var state = seed
    return (0..<count).map { _ in
        state = state &* 1_664_525 &+ 1_013_904_223
        return UInt8(truncatingIfNeeded: state >> 24)
    }
}
