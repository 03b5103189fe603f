import CarbonAccounting
import CarbonConfig
import CarbonModel
import CarbonStore
import Foundation
import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import Prometheus
import ServiceLifecycle
import TransparencyLog

#if canImport(Glibc)
import Glibc
#endif

/// carbonledgerd: the store and the socket server, run until SIGTERM or SIGINT.
public struct Daemon {
    public static let version = "0.1.0"

    let config: Config
    /// The file the config came from, re-read on SIGHUP.
    let configPath: String?
    let logger: Logger
    /// Where swift-metrics records go (`DaemonMetrics.bootstrap()`), served at /metrics.
    let metrics: PrometheusCollectorRegistry

    /// Sign on from a database older than the highest checkpoint signed (`--accept-rollback`).
    let acceptRollback: Bool
    /// Serve a PostgreSQL replica's reads and refuse every write (`--read-only`).
    let readOnly: Bool

    public init(
        config: Config, configPath: String?, logger: Logger, metrics: PrometheusCollectorRegistry = .init(),
        acceptRollback: Bool = false, readOnly: Bool = false
    ) {
        self.config = config
        self.acceptRollback = acceptRollback
        self.readOnly = readOnly
        self.configPath = configPath
        self.logger = logger
        self.metrics = metrics
    }

    /// Opens the ledger, serves the socket, and on a shutdown signal lets
    /// in-flight requests finish and commits what is queued before returning.
    public func run() async throws {
        let files = try StartupFiles(config, readOnly: readOnly)
        let (origin, calendar) = (files.ledgerKey.name, files.calendar)
        if case .sqlite(let path) = files.database { try Self.makeParentDirectory(of: path) }
        try Self.makeParentDirectory(of: config.daemon.socket)
        let store = try await DaemonApplication.openStore(
            config, files: files, acceptRollback: acceptRollback, logger: logger)
        defer { store.close() }
        let application = try await DaemonApplication(
            config: config, store: store, calendar: calendar, metrics: metrics, logger: logger,
            witnessPolicy: files.witnessPolicy)
        let (access, limits, health, connections) =
            (application.access, application.limits, application.health, application.connections)

        let notifier = SystemdNotifier()
        let configuredSocket = config.daemon.socket
        let listening = try ListeningSocket.fromEnvironment(orPath: configuredSocket)
        let mode = config.daemon.socketMode
        let group = config.daemon.socketGroup
        let logger = self.logger
        var http = HTTP1Channel.Configuration(
            additionalChannelHandlers: [
                PeerCredentialsHandler(connections: connections),
                ProtocolGuard(requestTimeout: .seconds(limits.current.requestTimeout.seconds)),
            ],
            idleTimeout: .seconds(config.limits.idleTimeout.seconds))
        http.httpDecoder = .init(
            maxHeaderFieldSize: config.limits.maxHeaderBytes, maxHeaderListSize: config.limits.maxHeaderBytes)
        let app = SocketServer(
            listening: listening, responder: application.router.buildResponder(), configuration: http,
            serverName: "carbonledgerd", logger: logger, connections: connections,
            onServing: {
                let place: String
                switch listening {
                case .path(let socket):
                    place = socket
                    do {
                        try SocketPermissions.apply(path: socket, mode: mode, group: group)
                    } catch {
                        logger.critical("\(error)")
                    }
                case .inherited(let descriptor):
                    let path = ListeningSocket.boundPath(descriptor)
                    place = "the socket passed by systemd (fd \(descriptor)\(path.map { ", \($0)" } ?? ""))"
                    if let path, path != configuredSocket {
                        // carbonctl and the docs find the socket through the config.
                        logger.warning("the passed socket is \(path) but daemon.socket says \(configuredSocket); make them equal")
                    }
                }
                logger.info("serving", metadata: ["socket": "\(place)", "origin": "\(origin)"])
                let size = (try? await store.reader.latestCheckpoint())?.size ?? 0
                notifier.notify("READY=1", "STATUS=serving \(place), ledger of \(size) entries")
            })
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = [.init(service: app)]
        if let configPath {
            services.append(.init(service: ConfigReloader(
                path: configPath, config: config, access: access, limits: limits, connections: connections,
                logger: logger)))
        }
        // The writer pushes checkpoints to witnesses and closes periods; a read-only daemon does neither.
        if let witnessing = application.witnessing, !store.isReadOnly {
            services.append(.init(service: WitnessPusher(witnessing: witnessing, store: store, logger: logger)))
        }
        if !store.isReadOnly {
            services.append(.init(service: PeriodCloser(
                store: store, closeAfter: config.program.closeAfter.seconds, health: health, logger: logger)))
        }
        // Last in the list, so the first told of a shutdown: STOPPING=1 goes out at once.
        services.append(.init(service: SystemdService(notifier: notifier, isAlive: { store.writer.isAlive })))
        var lifecycle = ServiceGroupConfiguration(
            services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        // Requests in flight get daemon.shutdown_timeout to finish; then they are cancelled
        // (the store still commits what it holds, below).
        lifecycle.maximumGracefulShutdownDuration = .seconds(config.daemon.shutdownTimeout.seconds)
        let serviceGroup = ServiceGroup(configuration: lifecycle)
        try await serviceGroup.run()
    }

    private static func makeParentDirectory(of path: String) throws {
        let parent = (path as NSString).deletingLastPathComponent
        guard !parent.isEmpty else { return }
        try FileManager.default.createDirectory(atPath: parent, withIntermediateDirectories: true)
    }
}

/// A startup failure, phrased for the operator.
public struct DaemonError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// The socket file's mode and group (interface.md section 1).
enum SocketPermissions {
    static func apply(path: String, mode: UInt16, group: String) throws {
        if !group.isEmpty {
            guard let entry = getgrnam(group) else { throw DaemonError("daemon.socket_group: no group \"\(group)\"") }
            guard chown(path, uid_t.max, entry.pointee.gr_gid) == 0 else {
                throw DaemonError("cannot give \(path) to group \(group): \(String(cString: strerror(errno)))")
            }
        }
        guard chmod(path, mode_t(mode)) == 0 else {
            throw DaemonError("cannot chmod \(path): \(String(cString: strerror(errno)))")
        }
    }
}
