import CarbonAccounting
import CarbonLedger
import CarbonModel
import GRDB

/// An administrator's request to open a closed period again for corrections.
public struct Restatement: Sendable {
    public var period: Period
    /// Why, in the administrator's words (1...200 characters, checked by the route).
    public var reason: String

    public init(period: Period, reason: String) {
        self.period = period
        self.reason = reason
    }

    /// Appends the `restatement` entry and opens the period for corrections, inside
    /// the writer's transaction. Its figures stay those signed until it is closed again.
    func run(
        cache: inout RegistryCache, appender: inout LedgerAppender, time: Int64, tables db: some StoreTables & SQLConnection
    ) throws -> BatchOutcome {
        func refuse(_ message: String) -> BatchOutcome {
            .rejected(kind: .conflict, errors: [RecordError(index: 0, field: "period", message: message)])
        }
        guard let closed = try db.row(#"SELECT entry, start, "end" FROM periods WHERE period = ?"#, period.description)
        else { return refuse("\(period) is not closed: its readings can be corrected without a restatement") }
        if let open = try db.value(
            "SELECT entry FROM restatements WHERE period = ? AND closed_by IS NULL", period.description, as: Int64.self)
        {
            return refuse("\(period) is open for corrections already (restatement entry \(open)); close it to sign new figures")
        }
        let restates = UInt64(closed["entry"] as Int64)
        let index = try StoreError.mapping {
            try appender.append(
                .restatement(RestatementEntry(period: period, reason: reason, restates: restates)), time: time, to: db)
        }
        try db.execute(
            "INSERT INTO restatements(entry, period, reason, restates) VALUES (?, ?, ?, ?)",
            Int64(index), period.description, reason, Int64(restates))
        cache.reopened[period] = (closed["start"] as Int64)..<(closed["end"] as Int64)
        return .committed(BatchResult(accepted: 1, duplicates: 0, entry: index, entries: [index]))
    }
}


extension LedgerReader {
    /// The open restatement of `period` (its `restatement` entry's index, its reason
    /// and the `period` entry it restates), nil when the period is not open for corrections.
    public func openRestatement(of period: Period) async throws -> (entry: UInt64, reason: String, restates: UInt64)? {
        try await connections.read { db in
            try db.row(
                "SELECT entry, reason, restates FROM restatements WHERE period = ? AND closed_by IS NULL", period.description
            ).map { (UInt64($0[0] as Int64), $0[1], UInt64($0[2] as Int64)) }
        }
    }

    /// The closed periods that start at or after `instant`, in order.
    public func closedPeriods(from instant: Int64) async throws -> [Period] {
        try await connections.read { db in
            try db.rows("SELECT period FROM periods WHERE start >= ? ORDER BY start", instant).compactMap { Period($0[0] as String) }
        }
    }
}
