import CarbonStore
import Metrics
import Prometheus

/// The daemon's metrics: swift-metrics in the modules, a Prometheus registry behind
/// them, served at `GET /metrics`.
public enum DaemonMetrics {
    static let requestDuration = "carbonledger_http_request_duration_seconds"
    static let ledgerEntries = "carbonledger_ledger_entries"
    static let checkpointAge = "carbonledger_last_checkpoint_age_seconds"
    static let databaseBytes = "carbonledger_database_bytes"
    static let walBytes = "carbonledger_wal_bytes"
    static let openConnections = "carbonledger_open_connections"
    static let degraded = "carbonledger_degraded"
    static let closeFailures = "carbonledger_period_close_failures_total"
    static let cosignedSize = "carbonledger_cosigned_checkpoint_size"
    static let witnessPolicyMet = "carbonledger_witness_policy_met"

    /// Metric names with their Prometheus HELP text: the daemon's and the store's.
    static let help: [String: String] = StoreMetrics.help.merging([
        requestDuration: "Time from a request's head to its answer being ready, by method, route pattern and status.",
        ledgerEntries: "Entries in the ledger's latest checkpoint.",
        checkpointAge: "Seconds since the latest checkpoint was signed.",
        databaseBytes: "Size of the SQLite database file.",
        walBytes: "Size of the SQLite write-ahead log file.",
        openConnections: "Connections open on the socket.",
        degraded: "1 while /v1/health reports degraded (a reason in its problems), else 0.",
        closeFailures: "Automatic period closes that failed for a reason of the store's (each is retried).",
        cosignedSize: "Entries in the latest checkpoint whose witness cosignatures meet the witness policy.",
        witnessPolicyMet: "1 while the latest checkpoint pushed to the witnesses met the witness policy, else 0.",
    ]) { $1 }

    /// Histogram buckets of every duration: a group commit is milliseconds (an fsync), a
    /// checkpoint signature well under one, a large batch seconds.
    static let durationBuckets: [Duration] = [
        .microseconds(100), .microseconds(250), .microseconds(500), .milliseconds(1), .microseconds(2500),
        .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100),
        .milliseconds(250), .milliseconds(500), .seconds(1), .milliseconds(2500), .seconds(5), .seconds(10),
    ]

    /// Sends every swift-metrics metric of this process to a new Prometheus registry and
    /// returns it (for `/metrics`). Once per process, before the store opens.
    public static func bootstrap() -> PrometheusCollectorRegistry {
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(DescribedMetricsFactory(registry: registry, help: help, durationBuckets: durationBuckets))
        return registry
    }
}

/// swift-metrics into a Prometheus registry with each metric's HELP text.
/// (`PrometheusMetricsFactory` registers every family without HELP, and the registry
/// refuses a family registered again with other HELP text.)
struct DescribedMetricsFactory: MetricsFactory {
    let registry: PrometheusCollectorRegistry
    let help: [String: String]
    let durationBuckets: [Duration]

    private func name(_ label: String) -> MetricNameDescriptor {
        MetricNameDescriptor(metricName: label, unitName: "", helpText: help[label] ?? "")
    }

    func makeCounter(label: String, dimensions: [(String, String)]) -> any CounterHandler {
        registry.makeCounter(descriptor: name(label), labels: dimensions)
    }

    func makeFloatingPointCounter(label: String, dimensions: [(String, String)]) -> any FloatingPointCounterHandler {
        registry.makeCounter(descriptor: name(label), labels: dimensions)
    }

    func makeRecorder(label: String, dimensions: [(String, String)], aggregate: Bool) -> any RecorderHandler {
        guard aggregate else { return registry.makeGauge(descriptor: name(label), labels: dimensions) }
        return registry.makeValueHistogram(
            descriptor: name(label), labels: dimensions, buckets: [1, 10, 100, 1_000, 10_000, 100_000, 1_000_000])
    }

    func makeMeter(label: String, dimensions: [(String, String)]) -> any MeterHandler {
        registry.makeGauge(descriptor: name(label), labels: dimensions)
    }

    func makeTimer(label: String, dimensions: [(String, String)]) -> any TimerHandler {
        registry.makeDurationHistogram(descriptor: name(label), labels: dimensions, buckets: durationBuckets)
    }

    func destroyCounter(_ handler: any CounterHandler) {
        if let counter = handler as? Prometheus.Counter { registry.unregisterCounter(counter) }
    }

    func destroyFloatingPointCounter(_ handler: any FloatingPointCounterHandler) {
        if let counter = handler as? Prometheus.Counter { registry.unregisterCounter(counter) }
    }

    func destroyRecorder(_ handler: any RecorderHandler) {
        if let gauge = handler as? Prometheus.Gauge { registry.unregisterGauge(gauge) }
        if let histogram = handler as? ValueHistogram { registry.unregisterValueHistogram(histogram) }
    }

    func destroyMeter(_ handler: any MeterHandler) {
        if let gauge = handler as? Prometheus.Gauge { registry.unregisterGauge(gauge) }
    }

    func destroyTimer(_ handler: any TimerHandler) {
        if let histogram = handler as? DurationHistogram { registry.unregisterDurationHistogram(histogram) }
    }
}
