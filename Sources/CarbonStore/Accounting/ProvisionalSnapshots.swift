import CarbonAccounting
import CarbonModel
import GRDB
import Synchronization

/// What every consumer's data gave for an open period, as of one ledger size: the
/// peer groups each consumer's grade is measured against and, for a period of the
/// program's kind, every provisional score (the directory and the inventory).
public struct ProvisionalSnapshot: Sendable {
    public var period: Period
    /// Every score, for a period of the program's kind; nil for others (a day of a
    /// month program has peer groups only).
    public var scores: PeriodScores?
    public var benchmarks: [PeerBenchmark]
    /// The ledger size and the time the snapshot was computed at.
    public var asOfSize: UInt64
    public var asOfTime: Int64
    /// How long computing it took.
    public var computeSeconds: Double = 0
}

/// Open periods' snapshots, each recomputed off the request path: a request is served
/// the latest one, and when the ledger has grown since and `refreshAfter` seconds (and
/// at least four times the last computation's duration, so refreshing takes at most a
/// fifth of a core) have passed, one background computation starts for every request
/// to share. Only the first request for a period waits, for the one computation all
/// such requests share. `refreshAfter == 0` keeps snapshots current: a request after
/// any growth waits for the shared recomputation.
final class ProvisionalSnapshots: Sendable {
    private struct Slot {
        var latest: ProvisionalSnapshot?
        var computing: Task<ProvisionalSnapshot, any Error>?
    }
    private let slots = Mutex<[Period: Slot]>([:])
    let refreshAfter: Int64

    init(refreshAfter: Int64) { self.refreshAfter = refreshAfter }

    /// The snapshot of `period` to serve now, given the ledger's current size; with
    /// `current`, one of that size (as if `refreshAfter` were 0).
    func snapshot(
        _ period: Period, size: UInt64, now: Int64, current: Bool = false,
        compute: @escaping @Sendable () async throws -> ProvisionalSnapshot
    ) async throws -> ProvisionalSnapshot {
        enum Decision {
            case serve(ProvisionalSnapshot)
            case wait(Task<ProvisionalSnapshot, any Error>)
        }
        let refreshAfter = current ? 0 : self.refreshAfter
        let decision: Decision = slots.withLock { slots in
            if slots[period] == nil { Self.evictOldest(from: &slots) }
            var slot = slots[period] ?? Slot()
            defer { slots[period] = slot }
            func computing() -> Task<ProvisionalSnapshot, any Error> {
                if let task = slot.computing { return task }
                let task = Task { [weak self] in
                    do {
                        let snapshot = try await compute()
                        self?.finished(period, with: snapshot)
                        return snapshot
                    } catch {
                        self?.finished(period, with: nil)
                        throw error
                    }
                }
                slot.computing = task
                return task
            }
            guard let latest = slot.latest else { return .wait(computing()) }
            if refreshAfter == 0 { return latest.asOfSize == size ? .serve(latest) : .wait(computing()) }
            let spacing = max(refreshAfter, Int64((4 * latest.computeSeconds).rounded(.up)))
            if latest.asOfSize == size || now - latest.asOfTime < spacing { return .serve(latest) }
            _ = computing()
            return .serve(latest)
        }
        switch decision {
        case .serve(let snapshot): return snapshot
        case .wait(let task): return try await task.value
        }
    }

    /// Whether `period` has a snapshot (or one under way).
    func contains(_ period: Period) -> Bool {
        slots.withLock { $0[period] != nil }
    }

    /// The most periods kept; past it the one computed longest ago goes.
    static let capacity = 64

    private static func evictOldest(from slots: inout [Period: Slot]) {
        guard slots.count >= capacity else { return }
        let idle = slots.filter { $0.value.computing == nil }
        guard let oldest = idle.min(by: { ($0.value.latest?.asOfTime ?? .min) < ($1.value.latest?.asOfTime ?? .min) })
        else { return }
        slots[oldest.key] = nil
    }

    private func finished(_ period: Period, with snapshot: ProvisionalSnapshot?) {
        slots.withLock { slots in
            guard var slot = slots[period] else { return }
            slot.computing = nil
            if let snapshot, snapshot.asOfSize >= slot.latest?.asOfSize ?? 0 { slot.latest = snapshot }
            slots[period] = slot
        }
    }
}
