/// One complete HTTP response: status, headers in the order received, and the whole body.
public struct HTTPResponse: Sendable {
    /// The status code (200, 404, ...).
    public var status: Int
    /// The reason phrase the server sent (may be empty).
    public var reason: String
    /// Header fields in the order received, names as the server spelled them.
    public var headers: [(String, String)]
    /// The body, de-chunked.
    public var body: [UInt8]

    /// A response (normally made by `UnixHTTPClient`).
    public init(status: Int, reason: String = "", headers: [(String, String)], body: [UInt8]) {
        self.status = status
        self.reason = reason
        self.headers = headers
        self.body = body
    }

    /// The first value of header `name`, compared case-insensitively.
    public func header(_ name: String) -> String? {
        headers.first { asciiCaseInsensitiveEqual($0.0, name) }?.1
    }

    /// The body as UTF-8 text (invalid bytes become U+FFFD).
    public var text: String {
        String(decoding: body, as: UTF8.self)
    }
}

func asciiCaseInsensitiveEqual(_ a: String, _ b: String) -> Bool {
    a.utf8.count == b.utf8.count && zip(a.utf8, b.utf8).allSatisfy { lowerASCII($0) == lowerASCII($1) }
}

@inline(__always)
func lowerASCII(_ byte: UInt8) -> UInt8 {
    (byte >= 0x41 && byte <= 0x5A) ? byte | 0x20 : byte
}
