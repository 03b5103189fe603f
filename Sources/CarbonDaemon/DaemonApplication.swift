import CarbonAccounting
import CarbonConfig
import CarbonModel
import CarbonPostgres
import CarbonStore
import Foundation
import Hummingbird
import Logging
import Prometheus
import TransparencyLog

#if canImport(Glibc)
import Glibc
#endif

/// The daemon's parts wired together over an open store: the router with every
/// route and middleware, and what the services share with it (grants and limits in
/// force, health, the open connections). `Daemon.run` serves it on the socket; a
/// test builds one over a temporary store and sends it requests from any peer.
public struct DaemonApplication {
    public let router: Router<DaemonContext>
    let access: AccessControl
    let limits: LimitsInForce
    let health: DaemonHealth
    let connections: Connections
    /// The witnesses' cosignatures, nil when no witness policy is set.
    let witnessing: Witnessing?

    /// Every route over `store`, with the grants, limits and program of `config`.
    /// `resolver` looks up the users and groups the grants name.
    public init(
        config: Config, store: CarbonStore, calendar: TZifCalendar, metrics: PrometheusCollectorRegistry,
        logger: Logger, resolver: any IdentityResolver = SystemIdentityResolver(), witnessPolicy: WitnessPolicy? = nil
    ) async throws {
        // The cosigned checkpoint is kept beside the highest signed one, by the key.
        let cosignedFile = String(
            HighestCheckpoint.path(keyPath: config.ledger.key, origin: config.ledger.origin).dropLast(".checkpoint".count))
            + ".cosigned"
        let witnessing = witnessPolicy.map { Witnessing(policy: $0, file: cosignedFile) }
        let health = DaemonHealth(witnessing: witnessing)
        let costly = CostlyWork()
        let access = AccessControl(Access(grants: config.grants, daemonUID: getuid(), resolver: resolver))
        let limits = LimitsInForce(config.limits)
        let connections = Connections()
        connections.setLimit(config.limits.maxConnections)
        let router = Router(context: DaemonContext.self)
        router.add(middleware: RequestRecorder(logger: logger))
        router.add(middleware: ProblemMiddleware())
        if let writer = (store.writer as? ReadOnlyWriter)?.writer {
            router.add(middleware: ReadOnlyMiddleware(writer: writer))
        }
        router.add(middleware: AccessMiddleware(control: access))
        RegistryRoutes(store: store, version: Daemon.version, health: health, costly: costly).register(on: router)
        IngestRoutes(store: store, limits: limits).register(on: router)
        LedgerRoutes(
            store: store, origin: config.ledger.origin, keyOverlap: config.ledger.keyOverlap.seconds, limits: limits,
            costly: costly, witnessing: witnessing
        ).register(on: router)
        MetricsRoutes(
            store: store, health: health, registry: metrics, database: config.daemon.database, connections: connections,
            witnessing: witnessing
        ).register(on: router)
        BackupRoutes(store: store, database: config.daemon.database).register(on: router)
        CertificateRoutes(store: store, limits: limits).register(on: router)
        let factors: FactorSet
        do {
            factors = try FactorSet(rows: await store.reader.factorRows(), zoneTree: await store.reader.zoneTree(), calendar: calendar)
        } catch {
            throw DaemonError("the stored factor datasets do not form a usable set: \(error)")
        }
        let factorsInForce = FactorsInForce(factors, calendar: calendar)
        FactorRoutes(store: store, factors: factorsInForce, limits: limits).register(on: router)
        AccountingRoutes(store: store, factors: factorsInForce, costly: costly).register(on: router)
        APIDescription.register(on: router)
        try APIDescription.checkAgreement(with: router)
        self.router = router
        self.access = access
        self.limits = limits
        self.health = health
        self.connections = connections
        self.witnessing = witnessing
    }

    /// Opens the store `config` names, with what `files` loaded: the database (an SQLite
    /// file, or a PostgreSQL server as its writer) and the highest-checkpoint record
    /// beside the key; without a signer (`--read-only`), a reader of a replica bounded
    /// by the checkpoints it verifies against `ledger.vkey`.
    static func openStore(
        _ config: Config, files: StartupFiles, acceptRollback: Bool, logger: Logger
    ) async throws -> CarbonStore {
        let refresh = config.program.benchmarkRefresh.seconds
        guard let signer = files.signer else {
            guard case .postgres(let location) = files.database else {
                throw DaemonError("a read-only daemon needs daemon.database to be a postgresql:// URL")
            }
            let writer = config.daemon.writer.isEmpty ? "the carbonledgerd writing to this replica's primary" : config.daemon.writer
            return try await PostgresStore.openReader(
                at: location, publishedKey: files.ledgerKey, writer: writer, program: files.program,
                provisionalRefresh: refresh, logger: logger)
        }
        let highest = try HighestCheckpoint(path: HighestCheckpoint.path(keyPath: config.ledger.key, origin: config.ledger.origin))
        switch files.database {
        case .sqlite(let path):
            return try CarbonStore(
                path: path, signer: signer, keyPath: config.ledger.key,
                synchronous: config.daemon.synchronous == .full ? .full : .normal, zones: files.zones,
                factorDatasets: files.factorDatasets, program: files.program, highestCheckpoint: highest,
                acceptRollback: acceptRollback, provisionalRefresh: refresh, logger: logger)
        case .postgres(let location):
            let (zones, datasets, program, key) = (files.zones, files.factorDatasets, files.program, config.ledger.key)
            return try await onOwnThread {
                try PostgresStore.openWriter(
                    at: location, signer: signer, keyPath: key, zones: zones, factorDatasets: datasets, program: program,
                    highestCheckpoint: highest, acceptRollback: acceptRollback, provisionalRefresh: refresh, logger: logger)
            }
        }
    }

    /// The store `config` names, opened after loading its startup files: what a test
    /// needs to build an application the way the daemon does.
    public static func openStore(
        _ config: Config, readOnly: Bool = false, logger: Logger
    ) async throws -> (store: CarbonStore, calendar: TZifCalendar) {
        let files = try StartupFiles(config, readOnly: readOnly)
        return (try await openStore(config, files: files, acceptRollback: false, logger: logger), files.calendar)
    }
}
