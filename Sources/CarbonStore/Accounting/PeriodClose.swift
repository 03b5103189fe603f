import CarbonAccounting
import CarbonLedger
import CarbonModel
import Foundation
import GRDB
import TransparencyLog

/// Closing a period inside the writer's transaction: its readings are accounted
/// where they lie, then one `period` entry and one `score` entry per consumer are
/// appended and the figures frozen. One transaction holds it all, so a crash leaves
/// either no close or a whole one; from the commit on, readings and certificates
/// starting before the period's end are refused.
struct PeriodClose<Tables: StoreTables & SQLConnection> {
    let period: Period
    let db: Tables
    let program: Program

    func run(cache: inout RegistryCache, appender: inout LedgerAppender, time: Int64) throws -> CloseOutcome {
        func refuse(_ kind: RejectionKind, _ message: String) -> CloseOutcome {
            .rejected(kind: kind, errors: [RecordError(index: 0, field: "period", message: message)])
        }
        guard period.granularity == program.granularity else {
            return refuse(.invalid, "this program scores calendar \(program.granularity.rawValue)s; \(period) is not one")
        }
        let (start, end) = program.span(of: period)
        let reopened = cache.reopened[period] != nil
        if !reopened, let entry = try PeriodAccounting.closedEntry(of: period, db: db) {
            let consumers = try db.value("SELECT consumers FROM periods WHERE period = ?", period.description, as: Int.self) ?? 0
            return .closed(PeriodCloseResult(period: period, entry: entry, consumers: consumers, alreadyClosed: true))
        }
        let accounting = try PeriodAccounting(db: db, program: program)
        // A restated period closes again over its readings as they now stand; the
        // entries it signs name those they restate.
        var restated: (entry: UInt64, scores: [String: UInt64])? = nil
        if reopened {
            restated = try Self.signed(period, db: db)
        } else {
            let closedThrough = cache.closedThrough
            guard start >= closedThrough else {
                return refuse(
                    .conflict,
                    "\(period) lies before \(program.period(containing: closedThrough - 1)), the latest closed period; "
                        + "it had no readings then and none can be added now")
            }
            if let earlier = try accounting.firstReading(from: closedThrough, to: start) {
                return refuse(.conflict, "close \(program.period(containing: earlier)) first: periods close in order")
            }
        }
        let computed: PeriodAccounting.Computed
        do {
            computed = try accounting.compute(
                period, provisional: false,
                baseline: try accounting.storedBaseline(program.parameters.baseline.baselinePeriod(of: period)),
                usedBefore: try accounting.storedCertificateUse(upTo: start), hashLeaves: true)
        } catch let error as AccountingError {
            guard case .missingFactors(let gaps) = error else { return refuse(.conflict, "\(error)") }
            return .rejected(kind: .conflict, errors: gaps.enumerated().map { k, gap in
                RecordError(
                    index: k, field: "zone",
                    message: "no average emission factor for \(gap.zone) from \(Timestamp.format(gap.start)) "
                        + "to \(Timestamp.format(gap.end)): load a factor dataset covering it")
            })
        }
        let result = computed.result
        let datasetRoots = try Self.datasetRoots(db: db)
        let periodIndex = try appender.append(
            .period(PeriodEntry(
                period: period, method: result.method, timezone: program.calendar.identifier,
                parameters: program.parameters, benchmarks: result.benchmarks, consumers: result.scores.count,
                restates: restated?.entry)),
            time: time, to: db)
        if restated != nil {
            // The signed figures stay in the ledger; the tables hold the current ones.
            for sql in [
                "DELETE FROM scores WHERE period = ?", "DELETE FROM periods WHERE period = ?",
                "UPDATE restatements SET closed_by = \(periodIndex) WHERE period = ? AND closed_by IS NULL",
            ] {
                try db.execute(sql, period.description)
            }
            try db.execute("DELETE FROM certificate_use WHERE through = ?", end)
        }
        let insertScore = """
            INSERT INTO scores(period, consumer, entry, zone, class, energy_wh, export_wh, loc_ug, mkt_ug, matched_wh,
                estimated_wh, k_milli, p, q_milli, r, zone_flat_mg, s_milli, t, g, score, bench_ug, avoided_ug, points, flags)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """
        for score in result.scores {
            let id = score.consumer.id
            let roots = try score.factorDatasets.map { name in
                guard let root = datasetRoots[name] else { throw StoreError.corrupt("factor dataset \(name) has no entry") }
                return root
            }.sorted { $0.base64.utf8.lexicographicallyPrecedes($1.base64.utf8) }
            let index = try appender.append(
                .score(ScoreEntry(
                    consumer: id, period: period, method: result.method, figures: score.figures,
                    readingsRoot: computed.readingsRoots[id] ?? RFC6962.emptyRoot, certificates: score.certificates,
                    factorRoots: roots, restates: restated?.scores[id])),
                time: time, to: db)
            let f = score.figures
            try db.execute(
                insertScore,
                period.description, id, Int64(index), score.consumer.zone, score.consumer.consumerClass.rawValue,
                f.energyWh, f.exportWh, f.locUg, f.mktUg, f.matchedWh, f.estimatedWh, f.kMilli, f.p, f.qMilli, f.r,
                f.zoneFlatMg, f.sMilli, f.t, f.g, f.score, f.benchUg, f.avoidedUg, f.points,
                f.flags.map(\.rawValue).joined(separator: ","))
        }
        try db.execute(
            #"INSERT INTO periods(period, start, "end", entry, consumers) VALUES (?, ?, ?, ?, ?)"#,
            period.description, start, end, Int64(periodIndex), result.scores.count)
        for use in result.certificates where use.usedNowWh > 0 {
            try db.execute("INSERT INTO certificate_use(id, through, used_wh) VALUES (?, ?, ?)", use.id, end, use.usedWh)
        }
        cache.closedThrough = max(cache.closedThrough, end)
        cache.reopened[period] = nil
        return .closed(PeriodCloseResult(
            period: period, entry: periodIndex, consumers: result.scores.count, alreadyClosed: false,
            restates: restated?.entry))
    }

    /// The `period` entry and score entries in force of a closed period.
    static func signed(_ period: Period, db: some SQLConnection) throws -> (entry: UInt64, scores: [String: UInt64]) {
        guard let entry = try PeriodAccounting.closedEntry(of: period, db: db) else {
            throw StoreError.corrupt("restated period \(period) is not closed")
        }
        var scores: [String: UInt64] = [:]
        try db.forEachRow("SELECT consumer, entry FROM scores WHERE period = ?", [period.description.databaseValue]) { row in
            scores[row[0]] = UInt64(row[1] as Int64)
        }
        return (entry, scores)
    }

    /// The `root` of every dataset's `factors` entry, by dataset name.
    static func datasetRoots(db: some SQLConnection) throws -> [String: Hash256] {
        var roots: [String: Hash256] = [:]
        try db.forEachRow("SELECT d.dataset, e.body FROM factor_datasets d JOIN entries e ON e.idx = d.entry", []) { row in
            let name: String = row[0]
            let body: Data = row[1]
            guard case .factors(let entry)? = try? LedgerEntry(canonicalBytes: Array(body)) else {
                throw StoreError.corrupt("the factors entry of dataset \(name) is not a factors entry")
            }
            roots[name] = entry.root
        }
        return roots
    }
}
