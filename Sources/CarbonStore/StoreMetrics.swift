import Metrics

/// What the store reports through swift-metrics; the executable decides where it
/// goes (carbonledgerd: Prometheus at `/metrics`). Without a metrics backend every
/// record is a no-op.
public struct StoreMetrics: Sendable {
    /// Metric names with their Prometheus HELP text.
    public static let help: [String: String] = [
        readingsAccepted: "Readings stored (a reading counts once, when its batch commits).",
        readingsRejected: "Readings not stored, by reason: invalid (422), forbidden (403), conflict (409), duplicate (already stored).",
        commitDuration: "Time of one group commit: the SQLite transaction of every batch waiting, its checkpoint and the sync to disk.",
        checkpointDuration: "Time to sign and store one checkpoint.",
        walBytesWritten: "Bytes the ledger writer appended to the SQLite WAL.",
    ]

    public static let readingsAccepted = "carbonledger_readings_accepted_total"
    public static let readingsRejected = "carbonledger_readings_rejected_total"
    public static let commitDuration = "carbonledger_commit_duration_seconds"
    public static let checkpointDuration = "carbonledger_checkpoint_duration_seconds"
    public static let walBytesWritten = "carbonledger_wal_bytes_written_total"

    /// The reasons a reading is not stored, as the `reason` label says them.
    public static let rejectionReasons = ["invalid", "forbidden", "conflict", "duplicate"]

    let accepted: Counter
    let rejected: [String: Counter]
    let commit: Timer
    let checkpoint: Timer

    init() {
        accepted = Counter(label: Self.readingsAccepted)
        // Every reason from the start, so a scrape shows 0 rather than nothing.
        rejected = Dictionary(uniqueKeysWithValues: Self.rejectionReasons.map {
            ($0, Counter(label: Self.readingsRejected, dimensions: [("reason", $0)]))
        })
        commit = Timer(label: Self.commitDuration)
        checkpoint = Timer(label: Self.checkpointDuration)
    }

    /// Counts what one committed readings batch did.
    func record(_ tally: ReadingTally) {
        if tally.accepted > 0 { accepted.increment(by: tally.accepted) }
        for (kind, count) in tally.rejected where count > 0 { rejected[kind.label]?.increment(by: count) }
        if tally.duplicates > 0 { rejected["duplicate"]?.increment(by: tally.duplicates) }
    }
}

/// The readings of batches in one commit, counted once the commit is durable.
struct ReadingTally {
    var accepted = 0
    var duplicates = 0
    var rejected: [RejectionKind: Int] = [:]

    /// Adds one batch's answer; each refused record counts once, under its worst reason.
    mutating func add(answer: BatchResult?, rejections: [Rejection]) {
        if let answer {
            accepted += answer.accepted
            duplicates += answer.duplicates
        }
        var worst: [Int: RejectionKind] = [:]
        for rejection in rejections {
            worst[rejection.error.index] = max(worst[rejection.error.index] ?? rejection.kind, rejection.kind)
        }
        for kind in worst.values { rejected[kind, default: 0] += 1 }
    }
}

extension RejectionKind {
    /// The `reason` label of `carbonledger_readings_rejected_total`.
    var label: String {
        switch self {
        case .invalid: "invalid"
        case .forbidden: "forbidden"
        case .conflict: "conflict"
        }
    }
}
