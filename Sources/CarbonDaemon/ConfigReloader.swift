import CarbonConfig
import Logging
import ServiceLifecycle
import Synchronization
import UnixSignals

#if canImport(Glibc)
import Glibc
#endif

/// Re-reads the config file on SIGHUP and puts new grants and limits in force
/// without dropping connections; logs what changed and what needs a restart.
final class ConfigReloader: Service {
    let path: String
    let access: AccessControl
    let limits: LimitsInForce
    let connections: Connections
    let logger: Logger
    private let current: Mutex<Config>

    init(
        path: String, config: Config, access: AccessControl, limits: LimitsInForce, connections: Connections, logger: Logger
    ) {
        self.path = path
        self.connections = connections
        self.access = access
        self.limits = limits
        self.logger = logger
        self.current = Mutex(config)
    }

    func run() async throws {
        for await _ in await UnixSignalsSequence(trapping: .sighup).cancelOnGracefulShutdown() {
            reload()
        }
    }

    /// Loads the file again; a file that does not validate changes nothing.
    func reload() {
        let new: Config
        do {
            new = try Config.load(path: path)
        } catch {
            logger.error("reload refused, the config in force is unchanged: \(error)")
            return
        }
        let old = current.withLock { $0 }
        let changes = Config.reloadableDiff(old, new)
        guard !changes.isEmpty else {
            logger.info("reload: nothing changed in \(path)")
            return
        }
        access.replace(Access(grants: new.grants, daemonUID: getuid(), resolver: SystemIdentityResolver()))
        limits.replace(new.limits)
        connections.setLimit(new.limits.maxConnections)
        current.withLock {
            $0.grants = new.grants
            $0.limits = new.limits
        }
        for line in changes.applied { logger.notice("reload: \(line)") }
        // These two are fixed when the server starts; they take effect at the next start.
        let atStart = [("idle_timeout", old.limits.idleTimeout != new.limits.idleTimeout),
                       ("max_header_bytes", old.limits.maxHeaderBytes != new.limits.maxHeaderBytes)]
        for (key, changed) in atStart where changed {
            logger.warning("reload: limits.\(key) takes effect at the next start")
        }
        for key in changes.needRestart { logger.warning("reload: \(key) changed; it takes effect at the next start") }
    }
}
