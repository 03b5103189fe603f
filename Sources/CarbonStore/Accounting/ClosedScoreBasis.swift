import CarbonAccounting
import CarbonLedger
import CarbonModel
import Foundation
import GRDB
import Synchronization

extension LedgerReader {
    /// The basis of a closed period's score, as the close had it: the parameters and
    /// peer groups of the period's `period` entry, and the consumer's frozen figures of
    /// the baseline period. Primary-key reads only; the consumer's zone and class are
    /// those it was scored under (`score.consumer`).
    func closedBasis(of score: ConsumerScore, db: some SQLConnection, factors: FactorSet) throws -> ScoreBasis {
        let period = score.period
        guard let index = try PeriodAccounting.closedEntry(of: period, db: db),
            let entry = try periodEntries.entry(index, db: db)
        else { throw StoreError.corrupt("the period entry of \(period) is missing or is not a period entry") }
        // A list too long for the entry is recorded as a root: the groups are then not known.
        let groups: [PeerBenchmark]? =
            switch entry.benchmarks {
            case .items(let groups): groups
            case .root: nil
            }
        let baselinePeriod = entry.parameters.baseline.baselinePeriod(of: period)
        let baseline = try db.row(
            "SELECT energy_wh, loc_ug FROM scores WHERE period = ? AND consumer = ?", baselinePeriod.description,
            score.consumer.id
        ).map { BaselineFigures(energyWh: $0[0], locUg: $0[1]) }
        return ScoreBasis(
            recorded: score.figures, consumer: score.consumer, period: period, parameters: entry.parameters,
            peerGroups: groups, baseline: baseline, factors: factors)
    }
}

/// Decoded `period` entries by ledger index, for the explanations of closed scores:
/// an entry never changes once appended, and decoding one (up to 32 KiB of peer
/// groups) on every request cost the closed score a third of its latency.
final class PeriodEntryCache: Sendable {
    private let entries = Mutex<[UInt64: PeriodEntry]>([:])
    /// Closed periods kept; past it the cache starts again.
    private static let capacity = 64

    /// The `period` entry at `index`; nil if the entry there is not one.
    func entry(_ index: UInt64, db: some SQLConnection) throws -> PeriodEntry? {
        if let hit = entries.withLock({ $0[index] }) { return hit }
        guard let body = try db.value("SELECT body FROM entries WHERE idx = ?", Int64(index), as: Data.self),
            case .period(let entry)? = try? LedgerEntry(canonicalBytes: Array(body))
        else { return nil }
        entries.withLock {
            if $0.count >= Self.capacity { $0.removeAll(keepingCapacity: true) }
            $0[index] = entry
        }
        return entry
    }
}
