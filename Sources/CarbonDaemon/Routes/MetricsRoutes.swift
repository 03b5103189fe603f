import CarbonStore
import Foundation
import Hummingbird
import Prometheus

/// `GET /metrics` in the Prometheus text format: the counters and histograms the
/// daemon and the store record as they work, and gauges read at each scrape.
struct MetricsRoutes {
    let store: CarbonStore
    let health: DaemonHealth
    let registry: PrometheusCollectorRegistry
    /// The database file, whose size and WAL size are reported.
    let database: String
    /// The open connections, counted at each scrape.
    let connections: Connections
    /// The witnesses' cosignatures, nil when no witness policy is set.
    let witnessing: Witnessing?

    func register(on router: Router<DaemonContext>) {
        let gauges = ScrapedGauges(registry: registry)
        router.get("/metrics") { _, context in
            try context.require(.metrics, .admin)
            let checkpoint = try await store.reader.latestCheckpoint()
            gauges.ledgerEntries.set(Double(checkpoint?.size ?? 0))
            gauges.checkpointAge.set(checkpoint.map { max(0, Date().timeIntervalSince1970 - Double($0.time)) } ?? 0)
            gauges.databaseBytes.set(Double(Self.fileSize(database)))
            gauges.walBytes.set(Double(Self.fileSize(database + "-wal")))
            gauges.openConnections.set(Double(connections.count))
            gauges.degraded.set(Double(health.problems(of: store).isEmpty ? 0 : 1))
            if let witnessing {
                gauges.cosignedSize.set(Double(witnessing.cosignedSize))
                gauges.witnessPolicyMet.set(Double(witnessing.isMet ? 1 : 0))
            }
            return Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(bytes: registry.emitToBuffer())))
        }
    }

    private static func fileSize(_ path: String) -> Int64 {
        ((try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? NSNumber)?.int64Value ?? 0
    }
}

/// Values that are state rather than events, set from their source at each scrape.
private struct ScrapedGauges: Sendable {
    let ledgerEntries: Gauge
    let checkpointAge: Gauge
    let databaseBytes: Gauge
    let walBytes: Gauge
    let openConnections: Gauge
    let degraded: Gauge
    let cosignedSize: Gauge
    let witnessPolicyMet: Gauge

    init(registry: PrometheusCollectorRegistry) {
        func gauge(_ name: String) -> Gauge {
            registry.makeGauge(descriptor: MetricNameDescriptor(metricName: name, unitName: "", helpText: DaemonMetrics.help[name] ?? ""))
        }
        ledgerEntries = gauge(DaemonMetrics.ledgerEntries)
        checkpointAge = gauge(DaemonMetrics.checkpointAge)
        databaseBytes = gauge(DaemonMetrics.databaseBytes)
        walBytes = gauge(DaemonMetrics.walBytes)
        openConnections = gauge(DaemonMetrics.openConnections)
        degraded = gauge(DaemonMetrics.degraded)
        cosignedSize = gauge(DaemonMetrics.cosignedSize)
        witnessPolicyMet = gauge(DaemonMetrics.witnessPolicyMet)
    }
}
