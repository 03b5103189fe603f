import CarbonAccounting
import CarbonLedger
import CarbonModel
import Foundation
import GRDB
import Synchronization

/// Every score of one period: frozen if the period is closed, else provisional.
public struct PeriodScores: Sendable {
    public var period: Period
    public var provisional: Bool
    /// Every consumer with a reading in the period, by id.
    public var scores: [ConsumerScore]
    /// For a closed period: the `period` entry's index and each consumer's `score` entry index.
    public var periodEntry: UInt64?
    public var scoreEntries: [String: UInt64]
}

/// How an emissions series is cut (interface.md: buckets in the program time zone,
/// each reading by its start).
public enum EmissionsStepKind: String, Sendable, CaseIterable {
    case hour, day, month
}

/// One bucket of an emissions series.
public struct EmissionsBucket: Sendable, Equatable {
    public var start: Int64
    public var end: Int64
    public var readings: Int
    public var energyWh: Int64
    public var locUg: Int64
    public var mktUg: Int64
    public var matchedWh: Int64

    /// Adds one reading's figures; a sum beyond Int64 is an accounting error naming the
    /// consumer and the bucket, never a trap (a bucket may hold many large readings).
    mutating func add(_ reading: Reading, _ figures: ReadingFigures, consumer: String) throws(AccountingError) {
        func sum(_ a: Int64, _ b: Int64, _ figure: String) throws(AccountingError) -> Int64 {
            let (total, overflow) = a.addingReportingOverflow(b)
            guard !overflow else {
                throw .overflow(consumer: consumer, figure: "\(figure) from \(Timestamp.format(start))")
            }
            return total
        }
        energyWh = try sum(energyWh, reading.importWh, "the energy of the step")
        locUg = try sum(locUg, figures.locUg, "the location-based emissions of the step")
        mktUg = try sum(mktUg, figures.mktUg, "the market-based emissions of the step")
        matchedWh = try sum(matchedWh, figures.matchedWh, "the matched energy of the step")
        readings += 1
    }
}

/// Provisional results by period, valid while the ledger keeps the size they were
/// computed at (any new entry may change them).
final class ProvisionalCache: Sendable {
    private let results = Mutex<[Period: (size: UInt64, scores: PeriodScores)]>([:])

    func get(_ period: Period, size: UInt64) -> PeriodScores? {
        results.withLock { cached in cached[period].flatMap { $0.size == size ? $0.scores : nil } }
    }

    func put(_ scores: PeriodScores, size: UInt64) {
        results.withLock { cached in
            cached = cached.filter { $0.value.size == size }
            cached[scores.period] = (size, scores)
        }
    }
}

extension LedgerReader {
    /// The scores of `period`: frozen once closed, else computed from what is stored
    /// now (cached until the ledger grows).
    ///
    /// With `consumer`, a closed period gives that consumer's score alone (one entry
    /// read, not the period's); an open one is computed whole all the same (peers).
    public func periodScores(_ period: Period, consumer: String? = nil) async throws -> PeriodScores {
        try await pool.read { db in
            if let entry = try PeriodAccounting.closedEntry(of: period, db: db) {
                return try Self.closedScores(period, entry: entry, consumer: consumer, db: db)
            }
            let size = try Self.latestCheckpoint(db)?.size ?? 0
            if let cached = provisionalCache.get(period, size: size) { return cached }
            let accounting = try PeriodAccounting(db: db, program: program)
            let result = try accounting.provisional(period)
            let scores = PeriodScores(
                period: period, provisional: true, scores: result?.scores ?? [], periodEntry: nil, scoreEntries: [:])
            provisionalCache.put(scores, size: size)
            return scores
        }
    }

    /// A closed period's scores, with figures read from the signed `score` entries
    /// themselves (the `scores` table only indexes them), so what is served is what
    /// an auditor checks.
    private static func closedScores(
        _ period: Period, entry: UInt64, consumer only: String?, db: Database
    ) throws -> PeriodScores {
        var scores: [ConsumerScore] = []
        var entries: [String: UInt64] = [:]
        let rows = try Row.fetchCursor(
            db,
            sql: """
                SELECT s.consumer, s.entry, s.zone, s.class, k.utility, k.normalizer, e.body
                FROM scores s JOIN consumers k ON k.consumer = s.consumer JOIN entries e ON e.idx = s.entry
                WHERE s.period = ?1 AND (?2 IS NULL OR s.consumer = ?2) ORDER BY s.consumer
                """,
            arguments: [period.description, only])
        while let row = try rows.next() {
            let id: String = row[0]
            let index = UInt64(row[1] as Int64)
            guard let consumerClass = ConsumerClass(rawValue: row[3]) else {
                throw StoreError.corrupt("the score of \(id) in \(period) has class \(row[3] as String)")
            }
            let body: Data = row[6]
            guard case .score(let entry)? = try? LedgerEntry(canonicalBytes: Array(body)), entry.consumer == id,
                entry.period == period
            else { throw StoreError.corrupt("entry \(index) is not the score of \(id) in \(period)") }
            let figures = entry.figures
            let consumer = Consumer(
                id: id, utility: row[4], zone: row[2], consumerClass: consumerClass, normalizer: row[5])
            scores.append(ConsumerScore(
                consumer: consumer, period: period, readings: 0, figures: figures, factorDatasets: [], certificates: []))
            entries[id] = index
        }
        return PeriodScores(period: period, provisional: false, scores: scores, periodEntry: entry, scoreEntries: entries)
    }

    /// One consumer's emissions with `start` in `[from, to)`, bucketed by `step`.
    public func emissions(
        consumer id: String, from: Int64, to: Int64, step: EmissionsStepKind
    ) async throws -> [EmissionsBucket] {
        try await pool.read { db in
            guard let row = try Row.fetchOne(
                db, sql: "SELECT id, consumer, utility, zone, class, normalizer FROM consumers WHERE consumer = ?",
                arguments: [id])
            else { return [] }
            let consumerRow: Int64 = row["id"]
            let consumer = try ConsumerRow.consumer(from: row)
            let accounting = try PeriodAccounting(db: db, program: program)

            // Certificate use is known exactly at the end of the latest closed period
            // before `from`; without one, replay from the consumer's first certificate.
            let boundary = try Int64.fetchOne(db, sql: "SELECT max(end) FROM periods WHERE end <= ?", arguments: [from])
            let certificates = try accounting.certificates(ofConsumerRow: consumerRow, endingAfter: boundary ?? .min)
            let used = try boundary.map { try accounting.storedCertificateUse(upTo: $0) } ?? [:]
            let replayFrom =
                certificates.isEmpty ? from : min(from, boundary ?? certificates.map(\.start).min() ?? from)
            func run(sortingEachInstant: Bool) throws -> [EmissionsBucket] {
                var stream = try ConsumerEmissions(
                    consumer: consumer, certificates: certificates, usedBeforeWh: used, factors: accounting.factors)
                var buckets: [EmissionsBucket] = []
                try ReadingScan(db: db, registry: accounting.registry).forEach(
                    from: replayFrom, to: to, consumer: consumerRow, sortingEachInstant: sortingEachInstant
                ) { scanned in
                    let reading = scanned.reading
                    let figures = try stream.add(reading)
                    guard reading.start >= from else { return }
                    if buckets.last.map({ reading.start >= $0.end }) ?? true {
                        let (start, end) = bucket(of: reading.start, step: step)
                        buckets.append(EmissionsBucket(
                            start: start, end: end, readings: 0, energyWh: 0, locUg: 0, mktUg: 0, matchedWh: 0))
                    }
                    try buckets[buckets.count - 1].add(reading, figures, consumer: consumer.id)
                }
                return buckets
            }
            do {
                return try run(sortingEachInstant: false)
            } catch is ReadingScan.MetersOutOfOrder {
                return try run(sortingEachInstant: true)
            }
        }
    }

    /// `[start, end)` of the step containing `instant` in the program time zone.
    private func bucket(of instant: Int64, step: EmissionsStepKind) -> (Int64, Int64) {
        switch step {
        case .hour:
            let local = instant + program.calendar.utcOffset(at: instant)
            let start = instant - ((local % 3_600) + 3_600) % 3_600
            return (start, start + 3_600)
        case .day, .month:
            let period = Period.containing(instant, granularity: step == .day ? .day : .month, in: program.calendar)
            return (period.start(in: program.calendar), period.end(in: program.calendar))
        }
    }
}

extension LedgerReader {
    /// The oldest open period with readings, if `closeAfter` seconds have passed since its end.
    public func periodDue(closeAfter: Int64, now: Int64) async throws -> Period? {
        try await pool.read { db in
            let closedThrough = try PeriodAccounting.closedThrough(db: db)
            guard let first = try Int64.fetchOne(
                db, sql: "SELECT start FROM readings WHERE start >= ? ORDER BY start LIMIT 1", arguments: [closedThrough])
            else { return nil }
            let period = program.period(containing: first)
            let due = program.span(of: period).end.addingReportingOverflow(closeAfter)
            return !due.overflow && due.partialValue <= now ? period : nil
        }
    }
}
