/// What a SIGHUP reload would change: grants and limits take effect at once;
/// anything else keeps its old value until the daemon restarts.
public struct ConfigChanges: Sendable, Equatable {
    /// One line per grant or limit that changed, for the reload log:
    /// `limits.max_connections: 512 -> 256`, `access.grant[1]: added (uid = 1001, role = "reader")`.
    public var applied: [String]
    /// The dotted keys outside grants and limits that differ (`daemon.socket`, `program.weights`);
    /// a reload cannot apply them.
    public var needRestart: [String]

    /// Whether anything changed that a reload cannot apply.
    public var requiresRestart: Bool { !needRestart.isEmpty }
    /// Whether nothing at all changed.
    public var isEmpty: Bool { applied.isEmpty && needRestart.isEmpty }
}

extension Config {
    /// The changes a reload from `old` to `new` would make; see `ConfigChanges`.
    public static func reloadableDiff(_ old: Config, _ new: Config) -> ConfigChanges {
        ConfigChanges(
            applied: limitChanges(old.limits, new.limits) + grantChanges(old.grants, new.grants),
            needRestart: restartOnlyChanges(old, new)
        )
    }
}

private func limitChanges(_ old: Config.Limits, _ new: Config.Limits) -> [String] {
    func change<Value: Equatable>(_ key: String, _ path: KeyPath<Config.Limits, Value>) -> String? {
        old[keyPath: path] == new[keyPath: path]
            ? nil : "limits.\(key): \(old[keyPath: path]) -> \(new[keyPath: path])"
    }
    return [
        change("max_body_bytes", \.maxBodyBytes),
        change("max_records_per_batch", \.maxRecordsPerBatch),
        change("max_connections", \.maxConnections),
        change("idle_timeout", \.idleTimeout),
        change("max_header_bytes", \.maxHeaderBytes),
        change("request_timeout", \.requestTimeout),
    ].compactMap { $0 }
}

/// Grants compared by position, because position decides which grant wins.
private func grantChanges(_ old: [Grant], _ new: [Grant]) -> [String] {
    (0..<max(old.count, new.count)).compactMap { index in
        let key = "access.grant[\(index)]"
        switch (index < old.count ? old[index] : nil, index < new.count ? new[index] : nil) {
        case (let before?, let after?) where before != after: return "\(key): (\(before)) -> (\(after))"
        case (nil, let after?): return "\(key): added (\(after))"
        case (let before?, nil): return "\(key): removed (\(before))"
        default: return nil
        }
    }
}

private func restartOnlyChanges(_ old: Config, _ new: Config) -> [String] {
    func differs<Section, Value: Equatable>(
        _ key: String, _ section: KeyPath<Config, Section>, _ path: KeyPath<Section, Value>
    ) -> String? {
        old[keyPath: section][keyPath: path] == new[keyPath: section][keyPath: path] ? nil : key
    }
    return [
        differs("daemon.socket", \.daemon, \.socket),
        differs("daemon.socket_mode", \.daemon, \.socketMode),
        differs("daemon.socket_group", \.daemon, \.socketGroup),
        differs("daemon.database", \.daemon, \.database),
        differs("daemon.synchronous", \.daemon, \.synchronous),
        differs("daemon.shutdown_timeout", \.daemon, \.shutdownTimeout),
        differs("daemon.writer", \.daemon, \.writer),
        differs("ledger.origin", \.ledger, \.origin),
        differs("ledger.key", \.ledger, \.key),
        differs("ledger.vkey", \.ledger, \.vkey),
        differs("ledger.key_overlap", \.ledger, \.keyOverlap),
        differs("program.timezone", \.program, \.timezone),
        differs("program.min_peers", \.program, \.minPeers),
        differs("program.weights", \.program, \.weights),
        differs("program.points_per_kg", \.program, \.pointsPerKg),
        differs("program.baseline", \.program, \.baseline),
        differs("program.eligible_max_grade", \.program, \.eligibleMaxGrade),
        differs("program.close_after", \.program, \.closeAfter),
        differs("program.benchmark_refresh", \.program, \.benchmarkRefresh),
        differs("program.factors", \.program, \.factors),
        differs("program.zones", \.program, \.zones),
        differs("program.static_benchmark", \.program, \.staticBenchmarks),
    ].compactMap { $0 }
}
