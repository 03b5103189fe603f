import CarbonAccounting
import CarbonLedger
import CarbonModel
import Foundation
import GRDB
import Synchronization
import TransparencyLog

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

/// A `score` entry with its signature and its inclusion proof in the latest checkpoint.
public struct SignedScore: Sendable {
    public var index: UInt64
    public var body: [UInt8]
    public var signature: [UInt8]
    public var checkpoint: StoredCheckpoint
    public var proof: [Hash256]
}

/// One consumer's score in a period, as served.
public struct ConsumerPeriodScore: Sendable {
    public var score: ConsumerScore?
    public var provisional: Bool
    /// The signed `score` entry, once the period is closed.
    public var signed: SignedScore?
    /// For a provisional score: the ledger size and time of the peer groups its grade
    /// is measured against.
    public var benchmarksAsOf: (size: UInt64, time: Int64)?
    /// What its explanation is computed from besides the figures.
    public var basis: ScoreBasis? = nil
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
    mutating func add(
        _ reading: Reading, _ figures: ReadingFigures, readings count: Int, consumer: String
    ) throws(AccountingError) {
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
        readings += count
    }
}

extension LedgerReader {
    /// The scores of `period`: frozen once closed, else every consumer's provisional
    /// score computed from what is stored now (one computation shared by every request
    /// until the ledger grows; see `ProvisionalSnapshots`).
    public func periodScores(_ period: Period) async throws -> PeriodScores {
        if let entry = try await connections.read({ db in try PeriodAccounting.closedEntry(of: period, db: db) }) {
            return try await connections.read { db in try Self.closedScores(period, entry: entry, consumer: nil, db: db) }
        }
        let snapshot = try await provisionalSnapshot(period, current: true)
        return snapshot.scores
            ?? PeriodScores(period: period, provisional: true, scores: [], periodEntry: nil, scoreEntries: [:])
    }

    /// One consumer's score in `period` (nil without readings in it): read from its
    /// signed `score` entry once the period is closed, with the entry's signature and
    /// inclusion proof; else computed from its own data against the peer groups of the
    /// period's latest snapshot. Once a snapshot exists, one database read answers.
    ///
    /// Any period of either kind may be asked; only the program's periods close.
    public func consumerScore(_ period: Period, consumer id: String) async throws -> ConsumerPeriodScore? {
        var snapshot = snapshots.contains(period) ? try await provisionalSnapshot(period) : nil
        while true {
            let known = snapshot
            let answer = try await connections.read { db -> ConsumerPeriodScore?? in
                if var closed = try Self.signedScore(period, consumer: id, db: db) {
                    if let score = closed.score {
                        let (factors, _) = try factorSets.factors(db: db, calendar: program.calendar)
                        closed.basis = try closedBasis(of: score, db: db, factors: factors)
                    }
                    return .some(closed)
                }
                guard let known else { return nil }
                let (factors, timelines) = try factorSets.factors(db: db, calendar: program.calendar)
                guard let consumer = try ConsumerAccounting(
                    db: db, program: program, factors: factors, timelines: timelines, consumer: id)
                else { return .some(nil) }
                return .some(try consumer.provisionalScore(period, peers: known.benchmarks).map {
                    ConsumerPeriodScore(
                        score: $0.score, provisional: true, signed: nil, benchmarksAsOf: (known.asOfSize, known.asOfTime),
                        basis: $0.basis)
                })
            }
            if let answer { return answer?.score == nil ? nil : answer }
            // Open, and no snapshot yet: the first request computes it (shared), then answers.
            snapshot = try await provisionalSnapshot(period)
        }
    }

    /// A closed period's score of one consumer with what proves it; nil if the period
    /// is open, a score of nil if the consumer has none in it.
    private static func signedScore(_ period: Period, consumer id: String, db: some SQLConnection) throws -> ConsumerPeriodScore? {
        guard let entry = try PeriodAccounting.closedEntry(of: period, db: db) else { return nil }
        let scores = try closedScores(period, entry: entry, consumer: id, db: db)
        guard let score = scores.scores.first, let index = scores.scoreEntries[id] else {
            return ConsumerPeriodScore(score: nil, provisional: false, signed: nil, benchmarksAsOf: nil)
        }
        guard let row = try db.row("SELECT body, signature FROM entries WHERE idx = ?", Int64(index)),
            let checkpoint = try db.latestCheckpoint(), index < checkpoint.size
        else { throw StoreError.corrupt("score entry \(index) is missing or unpublished") }
        let proof = try db.readingTree { try MerkleProofs.inclusionProof(index: index, size: checkpoint.size, nodes: $0) }
        return ConsumerPeriodScore(
            score: score, provisional: false,
            signed: SignedScore(
                index: index, body: Array(row[0] as Data), signature: Array(row[1] as Data), checkpoint: checkpoint,
                proof: proof),
            benchmarksAsOf: nil)
    }

    /// The snapshot of an open period to serve now (with `current`, of the ledger as it
    /// is), computed once for every request that needs it.
    func provisionalSnapshot(_ period: Period, current: Bool = false) async throws -> ProvisionalSnapshot {
        let size = try await durableSize()
        let (connections, program, factorSets, clock) = (connections, program, factorSets, clock)
        return try await snapshots.snapshot(period, size: size, now: clock(), current: current) {
            let started = ContinuousClock.now
            var snapshot = try await connections.read { db in
                let size = try db.latestCheckpoint()?.size ?? 0
                let (factors, _) = try factorSets.factors(db: db, calendar: program.calendar)
                let accounting = try PeriodAccounting(db: db, program: program, factors: factors)
                var scores: PeriodScores? = nil
                let benchmarks: [PeerBenchmark]
                if period.granularity == program.granularity {
                    let result = try accounting.provisional(period)
                    scores = PeriodScores(
                        period: period, provisional: true, scores: result?.scores ?? [], periodEntry: nil,
                        scoreEntries: [:])
                    benchmarks = result?.benchmarks ?? []
                } else {
                    benchmarks = try accounting.peerGroups(period)
                }
                return ProvisionalSnapshot(
                    period: period, scores: scores, benchmarks: benchmarks, asOfSize: size, asOfTime: clock())
            }
            let elapsed = ContinuousClock.now - started
            snapshot.computeSeconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            return snapshot
        }
    }

    /// A closed period's scores, with figures read from the signed `score` entries
    /// themselves (the `scores` table only indexes them), so what is served is what
    /// an auditor checks.
    private static func closedScores(
        _ period: Period, entry: UInt64, consumer only: String?, db: some SQLConnection
    ) throws -> PeriodScores {
        var scores: [ConsumerScore] = []
        var entries: [String: UInt64] = [:]
        // One consumer is one primary-key read (an `OR` on the key would scan the period).
        let columns = """
            SELECT s.consumer, s.entry, s.zone, s.class, k.utility, k.normalizer, e.body
            FROM scores s JOIN consumers k ON k.consumer = s.consumer JOIN entries e ON e.idx = s.entry
            """
        let (sql, arguments) =
            only.map { ("\(columns) WHERE s.period = ? AND s.consumer = ?", [period.description, $0]) }
            ?? ("\(columns) WHERE s.period = ? ORDER BY s.consumer", [period.description])
        try db.forEachRow(sql, arguments.map(\.databaseValue)) { row in
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
        try await connections.read { db in
            let (factors, timelines) = try factorSets.factors(db: db, calendar: program.calendar)
            guard let consumer = try ConsumerAccounting(
                db: db, program: program, factors: factors, timelines: timelines, consumer: id)
            else { return [] }
            let carry = try consumer.certificateCarry(to: from)
            var stream = try ConsumerEmissions(
                consumer: consumer.consumer, certificates: carry.certificates, usedBeforeWh: carry.usedBefore,
                factors: factors, timelines: timelines, window: carry.replayFrom..<to)
            var buckets: [EmissionsBucket] = []
            try consumer.forEachReading(from: carry.replayFrom, to: to, certificates: carry.certificates) {
                reading, count in
                let figures = try stream.add(reading)
                guard reading.start >= from else { return }
                if buckets.last.map({ reading.start >= $0.end }) ?? true {
                    let (start, end) = bucket(of: reading.start, step: step)
                    buckets.append(EmissionsBucket(
                        start: start, end: end, readings: 0, energyWh: 0, locUg: 0, mktUg: 0, matchedWh: 0))
                }
                try buckets[buckets.count - 1].add(reading, figures, readings: count, consumer: consumer.consumer.id)
            }
            return buckets
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
        try await connections.read { db in
            let closedThrough = try PeriodAccounting.closedThrough(db: db)
            guard let first = try db.value(
                "SELECT start FROM readings WHERE start >= ? ORDER BY start LIMIT 1", closedThrough, as: Int64.self)
            else { return nil }
            let period = program.period(containing: first)
            let due = program.span(of: period).end.addingReportingOverflow(closeAfter)
            return !due.overflow && due.partialValue <= now ? period : nil
        }
    }
}
