import Foundation
import HTTPTypes
import NIOCore
import NIOHTTP1
import NIOHTTPTypes

/// Answers what never becomes a request, in problem+json like every other error:
/// malformed HTTP (400), a request head over `limits.max_header_bytes` (413), and
/// a client that has not finished its request head within `limits.request_timeout`
/// (408). A request whose head arrived is the router's; its body has its own
/// timeout (`BodyReader`).
final class ProtocolGuard: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    private let requestTimeout: TimeAmount
    /// Requests whose head arrived and whose response has not ended (more than one when pipelined).
    private var inFlight = 0
    /// The latest request's head arrived but not yet its end (its body is still coming).
    private var readingRequest = false
    /// Armed when the first bytes of a request head arrive between requests.
    private var deadline: Scheduled<Void>?
    /// A problem was answered and the connection is closing.
    private var refused = false
    /// The response being written says `Connection: close`: close once it has ended.
    private var closeAfterResponse = false

    /// No request is being read or answered: bytes now start a new request head.
    private var betweenRequests: Bool { inFlight == 0 && !readingRequest }

    init(requestTimeout: TimeAmount) {
        self.requestTimeout = requestTimeout
    }

    func handlerAdded(context: ChannelHandlerContext) {
        // The first bytes of a request are only visible before the HTTP decoder.
        let watcher = FirstBytesWatcher { [weak self] in self?.requestBytesArrived(context: context) }
        do {
            try context.pipeline.syncOperations.addHandler(watcher, position: .first)
        } catch {
            context.fireErrorCaught(error)
        }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        deadline?.cancel()
    }

    private func requestBytesArrived(context: ChannelHandlerContext) {
        guard betweenRequests, deadline == nil, !refused else { return }
        deadline = context.eventLoop.assumeIsolated().scheduleTask(in: requestTimeout) { [weak self] in
            guard let self, self.betweenRequests, !self.refused else { return }
            self.refuse(
                context: context, status: .requestTimeout, slug: "request-timeout",
                detail: "the request head did not arrive within \(self.requestTimeout.nanoseconds / 1_000_000_000) s (limits.request_timeout)")
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            inFlight += 1
            readingRequest = true
            deadline?.cancel()
            deadline = nil
            // A client that asks before sending its body (curl does for bodies over 1 MiB)
            // would otherwise wait a second for the go-ahead (RFC 9110 section 10.1.1).
            if head.headerFields[.expect]?.lowercased() == "100-continue" {
                context.writeAndFlush(wrapOutboundOut(.head(HTTPResponse(status: .continue))), promise: nil)
            }
        case .end:
            readingRequest = false
        case .body:
            break
        }
        context.fireChannelRead(data)
    }

    /// A response head saying `Connection: close` (a peer past the connection limit or
    /// without a grant) closes the connection once that response is written, so the
    /// peer's next request comes on a new connection, judged anew.
    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        switch unwrapOutboundIn(data) {
        case .head(let head):
            if head.headerFields[.connection]?.lowercased() == "close" { closeAfterResponse = true }
        case .end:
            inFlight = max(0, inFlight - 1)
            if closeAfterResponse {
                refused = true
                let written = promise ?? context.eventLoop.makePromise()
                written.futureResult.assumeIsolated().whenComplete { _ in context.close(promise: nil) }
                context.write(data, promise: written)
                return
            }
        case .body:
            break
        }
        context.write(data, promise: promise)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // While a request is being read or answered, its own handling owns the error.
        guard let parserError = error as? HTTPParserError, betweenRequests, !refused else {
            return context.fireErrorCaught(error)
        }
        refuse(context: context, parserError)
    }

    private func refuse(context: ChannelHandlerContext, _ parserError: HTTPParserError) {
        if case .headerOverflow = parserError {
            refuse(context: context, status: .contentTooLarge, slug: "header-too-large",
                   detail: "the request line and headers exceed limits.max_header_bytes")
        } else {
            refuse(context: context, status: .badRequest, slug: "malformed-http", detail: "malformed HTTP request: \(parserError)")
        }
    }

    /// Answers with a problem and closes the connection: its byte stream is no longer trustworthy.
    private func refuse(context: ChannelHandlerContext, status: HTTPResponse.Status, slug: String, detail: String) {
        deadline?.cancel()
        deadline = nil
        refused = true
        let body = #"{"detail":\#(Self.quoted(detail)),"status":\#(status.code),"title":\#(Self.quoted(status.reasonPhrase)),"type":"urn:carbonledger:problem:\#(slug)"}"#
        var head = HTTPResponse(status: status)
        head.headerFields[.contentType] = "application/problem+json"
        head.headerFields[.contentLength] = String(body.utf8.count)
        head.headerFields[.connection] = "close"
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        context.write(wrapOutboundOut(.body(ByteBuffer(string: body))), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil))).assumeIsolated().whenComplete { _ in context.close(promise: nil) }
    }

    private static func quoted(_ text: String) -> String {
        let data = (try? JSONSerialization.data(withJSONObject: [text], options: [.withoutEscapingSlashes])) ?? Data("[\"\"]".utf8)
        return String(decoding: data.dropFirst().dropLast(), as: UTF8.self)
    }
}

/// Tells when the first bytes arrive (placed before the HTTP decoder).
private final class FirstBytesWatcher: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    private let arrived: () -> Void

    init(_ arrived: @escaping () -> Void) { self.arrived = arrived }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        arrived()
        context.fireChannelRead(data)
    }
}
