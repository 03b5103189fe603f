import NIOCore
import NIOEmbedded
import NIOHTTP1

/// Parses the HTTP/1.1 responses of one connection with NIO's decoder (llhttp, as
/// the daemon's own server side uses), run in an `EmbeddedChannel`: the bytes read
/// off the socket go in, response parts come out. The client keeps its blocking
/// socket; only the parsing, the code an auditor's tool runs on a daemon's bytes,
/// is the ecosystem's.
final class ResponseParser {
    private let channel = EmbeddedChannel()

    init() throws {
        try channel.pipeline.syncOperations.addHandler(
            ByteToMessageHandler(HTTPResponseDecoder(leftOverBytesStrategy: .dropBytes, informationalResponseStrategy: .drop)))
    }

    /// Tells the decoder the method of the request about to be answered: the answer
    /// to a HEAD has no body, whatever its headers say.
    func expectAnswer(to method: String) throws {
        let head = HTTPRequestHead(version: .http1_1, method: HTTPMethod(rawValue: method), uri: "/")
        try channel.writeOutbound(HTTPClientRequestPart.head(head))
        _ = try channel.readOutbound(as: HTTPClientRequestPart.self)
    }

    /// What `bytes` completed, and whether the decoder refused what followed the end of
    /// a response (bytes the server had no reason to send).
    func feed(_ bytes: UnsafeRawBufferPointer) throws -> (parts: [HTTPClientResponsePart], trailingGarbage: Bool) {
        var buffer = channel.allocator.buffer(capacity: bytes.count)
        buffer.writeBytes(bytes)
        do {
            try channel.writeInbound(buffer)
        } catch {
            let parts = try drain()
            guard parts.contains(where: \.isEnd) else { throw ClientError.malformedResponse("\(error)") }
            return (parts, true)
        }
        return (try drain(), false)
    }

    /// The peer closed the connection: the end of a body delimited by the close, or an
    /// error when a response was cut short.
    func finish() throws -> [HTTPClientResponsePart] {
        channel.pipeline.fireChannelInactive()
        do {
            try channel.throwIfErrorCaught()
        } catch {
            throw ClientError.connectionClosed
        }
        return try drain()
    }

    private func drain() throws -> [HTTPClientResponsePart] {
        var parts: [HTTPClientResponsePart] = []
        while let part = try channel.readInbound(as: HTTPClientResponsePart.self) { parts.append(part) }
        return parts
    }
}

extension HTTPClientResponsePart {
    var isEnd: Bool {
        if case .end = self { return true }
        return false
    }
}
