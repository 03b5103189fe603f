import CarbonAccounting
import CarbonLedger
import CarbonModel
import Foundation
import GRDB

extension LedgerReader {
    /// What a closed score of `consumer` was computed from, read back from the ledger
    /// and the frozen figures: the parameters and peer group of the `period` entry in
    /// force, the consumer's zone and class as frozen, its baseline as frozen, its own
    /// totals from `figures`. Indexed reads and one entry, never a scan of the period.
    /// Nil when the period is not closed or the entry lists its peer groups as a root.
    /// The caller checks that the inputs give back `figures` (a normalizer changed
    /// since, say, would not).
    public func closedScoreInputs(_ period: Period, consumer: Consumer, figures f: ScoreFigures) async throws -> ScoreInputs? {
        try await pool.read { db -> ScoreInputs? in
            guard let entry = try PeriodAccounting.closedEntry(of: period, db: db),
                let body = try Data.fetchOne(
                    db.cachedStatement(sql: "SELECT body FROM entries WHERE idx = ?"), arguments: [Int64(entry)]),
                case .period(let periodEntry)? = try? LedgerEntry(canonicalBytes: Array(body)),
                let frozen = try Row.fetchOne(
                    db.cachedStatement(sql: "SELECT zone, class FROM scores WHERE period = ? AND consumer = ?"),
                    arguments: [period.description, consumer.id]),
                let consumerClass = ConsumerClass(rawValue: frozen[1])
            else { return nil }
            let zone: String = frozen[0]
            let parameters = periodEntry.parameters
            var benchmark: Benchmark? = nil
            if f.kMilli != nil {
                guard case .items(let groups) = periodEntry.benchmarks else { return nil }
                if f.energyWh > 0,
                    let group = groups.first(where: { $0.zone == zone && $0.consumerClass == consumerClass }),
                    group.n >= parameters.minPeers
                {
                    benchmark = .peers(group)
                } else {
                    let tree = try ZoneTree(Row.fetchAll(db.cachedStatement(sql: "SELECT zone, parent, name FROM zones")).map {
                        Zone(zone: $0["zone"], parent: $0["parent"], name: $0["name"])
                    })
                    benchmark = parameters.staticBenchmark(chain: tree.chain(from: zone), consumerClass: consumerClass)
                        .map(Benchmark.fixed)
                }
            }
            let baselinePeriod = parameters.baseline.baselinePeriod(of: period)
            let baseline = try Row.fetchOne(
                db.cachedStatement(sql: "SELECT energy_wh, loc_ug FROM scores WHERE period = ? AND consumer = ?"),
                arguments: [baselinePeriod.description, consumer.id]
            ).map { BaselineFigures(energyWh: $0[0], locUg: $0[1]) }
            return ScoreInputs(
                consumer: consumer.id,
                totals: ConsumerTotals(
                    energyWh: f.energyWh, exportWh: f.exportWh, locUg: f.locUg, mktUg: f.mktUg, matchedWh: f.matchedWh,
                    estimatedWh: f.estimatedWh, residualFallback: f.flags.contains(.residualFallback)),
                normalizer: consumer.normalizer, benchmark: benchmark, baseline: baseline, days: period.days,
                baselineDays: baselinePeriod.days, zoneFlatMg: f.zoneFlatMg, weights: parameters.weights,
                pointsPerKg: parameters.pointsPerKg, provisional: false)
        }
    }
}
