#if canImport(Glibc)
import Glibc
#endif

/// Reads HTTP/1.1 responses off a connection in large chunks: the head is parsed
/// from a buffer, bodies are copied a chunk at a time, never byte by byte.
struct ResponseReader {
    /// Largest status line plus headers accepted.
    static let maxHeadBytes = 1 << 20
    /// Largest chunk-size or trailer line accepted.
    static let maxLineBytes = 64 * 1024

    private let connection: UnixSocketConnection
    private var buffer: [UInt8]
    /// Unread bytes are `buffer[start..<end]`.
    private var start = 0
    private var end = 0
    /// Whether any byte of the current response has arrived (before that, EOF means a stale connection).
    private(set) var receivedAny = false

    init(connection: UnixSocketConnection, bufferSize: Int = 256 * 1024) {
        self.connection = connection
        self.buffer = [UInt8](repeating: 0, count: bufferSize)
    }

    /// The head of one response (after skipping any 1xx interim responses).
    struct Head {
        var version: (major: Int, minor: Int)
        var status: Int
        var reason: String
        var headers: [(String, String)]
    }

    /// How the body of a response is delimited (RFC 9112 section 6.3).
    enum Framing {
        case none
        case length(Int)
        case chunked
        case untilClose
    }

    /// Whether unread bytes remain (after a complete response that means the server misbehaved).
    var hasUnreadBytes: Bool { start < end }

    // MARK: Buffer

    /// Reads more bytes after the unread ones; returns false at EOF.
    private mutating func fill() throws -> Bool {
        if start == end {
            start = 0
            end = 0
        } else if end == buffer.count {
            if start > 0 {
                buffer.withUnsafeMutableBytes { raw in
                    _ = memmove(raw.baseAddress!, raw.baseAddress! + start, end - start)
                }
                end -= start
                start = 0
            } else {
                buffer.append(contentsOf: repeatElement(0, count: buffer.count))
            }
        }
        let count: Int
        do {
            count = try buffer.withUnsafeMutableBytes { raw in
                try connection.receive(into: UnsafeMutableRawBufferPointer(rebasing: raw[end...]))
            }
        } catch is PeerGone where receivedAny {
            throw ClientError.connectionClosed
        }
        if count > 0 { receivedAny = true }
        end += count
        return count > 0
    }

    /// Offset of the next `\n` in the unread bytes at or after `from`, or nil.
    private func newline(from: Int) -> Int? {
        guard from < end else { return nil }
        return buffer.withUnsafeBytes { raw -> Int? in
            guard let found = memchr(raw.baseAddress! + from, 0x0A, end - from) else { return nil }
            return raw.baseAddress!.distance(to: UnsafeRawPointer(found))
        }
    }

    /// One line without its `\r\n` (or bare `\n`), reading more as needed.
    /// Copied out, so the buffer is never shared (and copied on the next write).
    private mutating func readLine(limit: Int) throws -> ArraySlice<UInt8> {
        // Counted from `start`: fill() may move the unread bytes to the front.
        var scanned = 0
        while true {
            if let lf = newline(from: start + scanned) {
                let lineEnd = lf > start && buffer[lf - 1] == 0x0D ? lf - 1 : lf
                let line = ArraySlice(Array(buffer[start..<lineEnd]))
                start = lf + 1
                return line
            }
            scanned = end - start
            guard scanned <= limit else { throw ClientError.malformedResponse("line longer than \(limit) bytes") }
            guard try fill() else { throw receivedAny ? ClientError.connectionClosed : PeerGone() }
        }
    }

    // MARK: Head

    mutating func readHead() throws -> Head {
        receivedAny = false
        while true {
            let head = try readOneHead()
            // 1xx are interim answers (100 Continue); the real response follows.
            if head.status >= 100 && head.status < 200 && head.status != 101 { continue }
            return head
        }
    }

    private mutating func readOneHead() throws -> Head {
        var total = 0
        let statusLine = try readLine(limit: Self.maxHeadBytes)
        total += statusLine.count
        var head = try parseStatusLine(statusLine)
        while true {
            let line = try readLine(limit: Self.maxHeadBytes)
            if line.isEmpty { break }
            total += line.count + 2
            guard total <= Self.maxHeadBytes else {
                throw ClientError.malformedResponse("headers longer than \(Self.maxHeadBytes) bytes")
            }
            head.headers.append(try parseHeaderLine(line))
        }
        return head
    }

    /// `HTTP/1.x SSS reason`, as a head with no headers yet.
    private func parseStatusLine(_ line: ArraySlice<UInt8>) throws -> Head {
        // "HTTP/1.1 200 OK": 8 bytes of version, a space, 3 digits, then optional " reason".
        let bytes = Array(line)
        let prefix = Array("HTTP/".utf8)
        guard bytes.count >= 12, Array(bytes[0..<5]) == prefix,
              isDigit(bytes[5]), bytes[6] == UInt8(ascii: "."), isDigit(bytes[7]),
              bytes[8] == UInt8(ascii: " "),
              isDigit(bytes[9]), isDigit(bytes[10]), isDigit(bytes[11]),
              bytes.count == 12 || bytes[12] == UInt8(ascii: " ")
        else {
            throw ClientError.malformedResponse("bad status line \(printable(line))")
        }
        let version = (Int(bytes[5] - 48), Int(bytes[7] - 48))
        guard version.0 == 1 else {
            throw ClientError.malformedResponse("unsupported version HTTP/\(version.0).\(version.1)")
        }
        let status = Int(bytes[9] - 48) * 100 + Int(bytes[10] - 48) * 10 + Int(bytes[11] - 48)
        guard status >= 100 else { throw ClientError.malformedResponse("bad status code \(status)") }
        let reason = bytes.count > 13 ? String(decoding: bytes[13...], as: UTF8.self) : ""
        return Head(version: version, status: status, reason: reason, headers: [])
    }

    private func parseHeaderLine(_ line: ArraySlice<UInt8>) throws -> (String, String) {
        guard let colon = line.firstIndex(of: UInt8(ascii: ":")), colon > line.startIndex,
              line[line.startIndex..<colon].allSatisfy(isTokenByte)
        else {
            throw ClientError.malformedResponse("bad header line \(printable(line))")
        }
        let name = String(decoding: line[line.startIndex..<colon], as: UTF8.self)
        var value = line[(colon + 1)...]
        while let first = value.first, first == 0x20 || first == 0x09 { value = value.dropFirst() }
        while let last = value.last, last == 0x20 || last == 0x09 { value = value.dropLast() }
        return (name, String(decoding: value, as: UTF8.self))
    }

    // MARK: Body

    /// The framing of a response to a request with `method`.
    static func framing(of head: Head, method: String) throws -> Framing {
        if method == "HEAD" || head.status == 204 || head.status == 304 || head.status < 200 { return .none }
        let encodings = head.headers
            .filter { asciiCaseInsensitiveEqual($0.0, "Transfer-Encoding") }
            .flatMap { $0.1.split(separator: ",") }
            .map { $0.trimmingASCIISpaces().lowercased() }
        if !encodings.isEmpty {
            // Chunked must be last; any other final coding leaves the body delimited by close.
            return encodings.last == "chunked" ? .chunked : .untilClose
        }
        let lengths = head.headers.filter { asciiCaseInsensitiveEqual($0.0, "Content-Length") }
            .flatMap { $0.1.split(separator: ",") }
            .map { $0.trimmingASCIISpaces() }
        if let first = lengths.first {
            guard lengths.allSatisfy({ $0 == first }),
                  first.utf8.allSatisfy(isDigit), let length = Int(first)
            else {
                throw ClientError.malformedResponse("bad Content-Length \(lengths.joined(separator: ", "))")
            }
            return .length(length)
        }
        return .untilClose
    }

    mutating func readBody(_ framing: Framing) throws -> [UInt8] {
        var body: [UInt8] = []
        if case .length(let length) = framing { body.reserveCapacity(min(length, 64 << 20)) }
        try streamBody(framing) { body.append(contentsOf: $0) }
        return body
    }

    /// Hands the body to `sink` as it arrives, a buffer at a time, instead of collecting it.
    mutating func streamBody(_ framing: Framing, to sink: (UnsafeRawBufferPointer) throws -> Void) throws {
        switch framing {
        case .none: return
        case .length(let length): try copy(length, to: sink)
        case .chunked: try readChunkedBody(to: sink)
        case .untilClose:
            while true {
                try takeBuffered(end - start, to: sink)
                guard try fill() else { return }
            }
        }
    }

    /// Passes up to `count` unread bytes to `sink`; returns how many.
    @discardableResult
    private mutating func takeBuffered(_ count: Int, to sink: (UnsafeRawBufferPointer) throws -> Void) throws -> Int {
        let taken = min(count, end - start)
        if taken > 0 {
            try buffer.withUnsafeBytes { raw in try sink(UnsafeRawBufferPointer(rebasing: raw[start..<(start + taken)])) }
            start += taken
        }
        return taken
    }

    /// Passes exactly `count` bytes of the stream to `sink`.
    private mutating func copy(_ count: Int, to sink: (UnsafeRawBufferPointer) throws -> Void) throws {
        var remaining = count
        while true {
            remaining -= try takeBuffered(remaining, to: sink)
            if remaining == 0 { return }
            guard try fill() else { throw ClientError.connectionClosed }
        }
    }

    private mutating func readChunkedBody(to sink: (UnsafeRawBufferPointer) throws -> Void) throws {
        while true {
            let line = try readLine(limit: Self.maxLineBytes)
            let sizeText = line.prefix { $0 != UInt8(ascii: ";") }.trimmingASCIISpaces()
            guard !sizeText.isEmpty, sizeText.count <= 15, sizeText.allSatisfy(isHexDigit),
                  let size = Int(String(decoding: sizeText, as: UTF8.self), radix: 16)
            else {
                throw ClientError.malformedResponse("bad chunk size line \(printable(line))")
            }
            if size == 0 { break }
            try copy(size, to: sink)
            guard try readLine(limit: 2).isEmpty else {
                throw ClientError.malformedResponse("chunk of \(size) bytes not followed by CRLF")
            }
        }
        // Trailer fields, ignored, up to the empty line.
        while try !readLine(limit: Self.maxLineBytes).isEmpty {}
    }
}

private func isDigit(_ byte: UInt8) -> Bool { byte >= 0x30 && byte <= 0x39 }

private func isHexDigit(_ byte: UInt8) -> Bool {
    isDigit(byte) || (lowerASCII(byte) >= 0x61 && lowerASCII(byte) <= 0x66)
}

/// RFC 9110 `tchar`.
func isTokenByte(_ byte: UInt8) -> Bool {
    switch byte {
    case 0x30...0x39, 0x41...0x5A, 0x61...0x7A: return true
    default: return Array("!#$%&'*+-.^_`|~".utf8).contains(byte)
    }
}

/// A line for an error message: at most 80 bytes, control bytes escaped.
private func printable(_ line: ArraySlice<UInt8>) -> String {
    var text = "\""
    for byte in line.prefix(80) {
        text += byte >= 0x20 && byte < 0x7F ? String(UnicodeScalar(byte)) : "\\x" + String(byte, radix: 16)
    }
    return text + (line.count > 80 ? "...\"" : "\"")
}

extension StringProtocol {
    fileprivate func trimmingASCIISpaces() -> String {
        var text = String(self)[...]
        while text.first == " " || text.first == "\t" { text = text.dropFirst() }
        while text.last == " " || text.last == "\t" { text = text.dropLast() }
        return String(text)
    }
}

extension ArraySlice<UInt8> {
    fileprivate func trimmingASCIISpaces() -> ArraySlice<UInt8> {
        var slice = self
        while let first = slice.first, first == 0x20 || first == 0x09 { slice = slice.dropFirst() }
        while let last = slice.last, last == 0x20 || last == 0x09 { slice = slice.dropLast() }
        return slice
    }
}
