import Foundation
import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import NIOExtras
import NIOHTTP1
import NIOPosix
import ServiceLifecycle
import Synchronization

/// The HTTP/1.1 server on the daemon's socket: Hummingbird's `HTTP1Channel` and router
/// behind a NIO `ServerBootstrap` that either binds `daemon.socket` or adopts the
/// socket systemd passed. Hummingbird's `Application` can only bind an address, so
/// this is its accept loop with one more way in; both ways share every line after
/// the socket is there, and shut down the same way: stop accepting, let each
/// connection finish the request it is on, then return.
struct SocketServer<Responder: HTTPResponder>: Service where Responder.Context == DaemonContext {
    let listening: ListeningSocket
    let responder: Responder
    let configuration: HTTP1Channel.Configuration
    let serverName: String
    let logger: Logger
    /// The open connections, registered by `PeerCredentialsHandler` as they are accepted.
    let connections: Connections
    /// Called once the socket accepts connections.
    let onServing: @Sendable () async -> Void
    var eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton

    func run() async throws {
        let http = HTTP1Channel(responder: respond, configuration: configuration)
        let quiescing = ServerQuiescingHelper(group: eventLoopGroup)
        let bootstrap = ServerBootstrap(group: eventLoopGroup)
            .serverChannelOption(.backlog, value: 256)
            .childChannelOption(.allowRemoteHalfClosure, value: true)
            .serverChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(quiescing.makeServerChannelHandler(channel: channel))
                }
            }
        let logger = self.logger
        let server: NIOAsyncChannel<HTTP1Channel.Value, Never>
        switch listening {
        case .path(let path):
            server = try await bootstrap.bind(unixDomainSocketPath: path, cleanupExistingSocketFile: true) { channel in
                http.setup(channel: channel, logger: logger)
            }
        case .inherited(let descriptor):
            server = try await bootstrap.bind(descriptor) { channel in
                http.setup(channel: channel, logger: logger)
            }
        }
        await withGracefulShutdownHandler {
            await onServing()
            await withDiscardingTaskGroup { group in
                do {
                    try await server.executeThenClose { inbound in
                        for try await connection in inbound {
                            group.addTask { await http.handle(value: connection, logger: logger) }
                        }
                    }
                } catch {
                    logger.error("accepting connections failed: \(error)")
                }
            }
        } onGracefulShutdown: {
            // Closes the listening channel, then each connection once its request is answered.
            quiescing.initiateShutdown(promise: nil)
        }
    }

    /// One request through the router, with the headers every answer carries.
    @Sendable private func respond(_ request: Request, _ writer: consuming ResponseWriter, _ channel: any Channel) async throws {
        let context = DaemonContext(source: .init(connection: connections.connection(of: channel), logger: logger))
        var response: Response
        do {
            response = try await responder.respond(to: request, context: context)
        } catch let error as HTTPParserError {
            throw error
        } catch {
            // The router turns every error into problem+json; this is the last resort.
            logger.error("request failed outside the router: \(error)")
            response = Response(status: .internalServerError)
        }
        response.headers[.date] = HTTPDate.now
        response.headers[.server] = serverName
        do {
            try await writer.write(response: response.head, body: response.body)
        } catch is HTTPParserError {
            // Not a parse error of this request's head: the connection just ends, without a 400.
            throw ResponseWriteFailed()
        }
    }

    private struct ResponseWriteFailed: Error {}
}

/// The `Date` header value (RFC 9110 IMF-fixdate), formatted once a second.
enum HTTPDate {
    private static let cache = Mutex<(second: Int, text: String)>((-1, ""))
    private static let days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
    private static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    static var now: String {
        let second = Int(Date().timeIntervalSince1970)
        if let cached = cache.withLock({ $0.second == second ? $0.text : nil }) { return cached }
        let text = format(second)
        cache.withLock { $0 = (second, text) }
        return text
    }

    static func format(_ unixSeconds: Int) -> String {
        var time = time_t(unixSeconds)
        var parts = tm()
        gmtime_r(&time, &parts)
        func two(_ n: Int32) -> String { n < 10 ? "0\(n)" : "\(n)" }
        return "\(days[Int(parts.tm_wday)]), \(two(parts.tm_mday)) \(months[Int(parts.tm_mon)]) \(parts.tm_year + 1900) "
            + "\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec)) GMT"
    }
}
