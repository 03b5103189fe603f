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

    /// Where the connection is in its current exchange.
    private enum Phase {
        /// Between requests.
        case idle
        /// Bytes of a request head have arrived, the head is not complete.
        case head
        /// The router has the request (until its response ends).
        case request
    }

    private let requestTimeout: TimeAmount
    private var phase = Phase.idle
    private var deadline: Scheduled<Void>?

    init(requestTimeout: TimeAmount) {
        self.requestTimeout = requestTimeout
    }

    func handlerAdded(context: ChannelHandlerContext) {
        // The first bytes of a request are only visible before the HTTP decoder.
        let watcher = FirstBytesWatcher { [weak self] in self?.requestBytesArrived(context: context) }
        try? context.pipeline.syncOperations.addHandler(watcher, position: .first)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        deadline?.cancel()
    }

    private func requestBytesArrived(context: ChannelHandlerContext) {
        guard phase == .idle else { return }
        phase = .head
        deadline = context.eventLoop.assumeIsolated().scheduleTask(in: requestTimeout) { [weak self] in
            guard let self, self.phase == .head else { return }
            self.refuse(
                context: context, status: .requestTimeout, slug: "request-timeout",
                detail: "the request head did not arrive within \(self.requestTimeout.nanoseconds / 1_000_000_000) s (limits.request_timeout)")
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if case .head = unwrapInboundIn(data) {
            phase = .request
            deadline?.cancel()
        }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .end = unwrapOutboundIn(data) { phase = .idle }
        context.write(data, promise: promise)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        guard let parserError = error as? HTTPParserError, phase != .request else {
            return context.fireErrorCaught(error)
        }
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
        phase = .request
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
