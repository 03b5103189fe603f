import CarbonAccounting
import CarbonModel
import GRDB
import TransparencyLog

/// `cl-score/1` over the stored data: the registry, factor datasets, certificates and
/// readings as one database snapshot (or the writer's transaction) holds them.
///
/// Periods close in order: closing one needs every earlier period with readings
/// closed, so an open period's certificate use and baseline follow from what the
/// closed periods froze (`certificate_use`, `scores`) and the open periods before it.
struct PeriodAccounting {
    let db: any SQLConnection
    let program: Program
    let factors: FactorSet
    let registry: AccountingRegistry

    /// Reads the registry of the snapshot, and its factor datasets and zone tree unless given.
    init(db: any SQLConnection, program: Program, factors: FactorSet? = nil) throws {
        self.db = db
        self.program = program
        self.factors = try factors ?? FactorSetCache.load(db: db, calendar: program.calendar)
        self.registry = try AccountingRegistry.load(db: db)
    }

    /// A period's figures, and the root over each scored consumer's reading leaves.
    struct Computed {
        var result: PeriodResult
        /// By consumer id; empty unless asked for.
        var readingsRoots: [String: Hash256]
    }

    /// The end of the latest closed period (`.min`: none closed).
    static func closedThrough(db: some SQLConnection) throws -> Int64 {
        try db.value(#"SELECT max("end") FROM periods"#, as: Int64.self) ?? .min
    }

    /// Whether `period` is closed, with its `period` entry's index.
    static func closedEntry(of period: Period, db: some SQLConnection) throws -> UInt64? {
        try db.value("SELECT entry FROM periods WHERE period = ?", period.description, as: Int64.self).map(UInt64.init)
    }

    /// The earliest reading start in `[from, to)`, if any.
    func firstReading(from: Int64, to: Int64) throws -> Int64? {
        try db.value("SELECT start FROM readings WHERE start >= ? AND start < ? ORDER BY start LIMIT 1", from, to, as: Int64.self)
    }

    /// Computes `period` from its stored readings.
    ///
    /// - Parameters:
    ///   - baseline: each consumer's figures in the baseline period.
    ///   - usedBefore: each certificate's use before the period's start.
    ///   - hashLeaves: also compute each consumer's `readings_root`.
    func compute(
        _ period: Period, provisional: Bool, baseline: [String: BaselineFigures], usedBefore: [String: Int64],
        hashLeaves: Bool
    ) throws -> Computed {
        let (start, end) = program.span(of: period)
        let certificates = try certificates(overlapping: start, end)
        func run(sortingEachInstant: Bool) throws -> Computed {
            var computation = try PeriodComputation(
                period: period, consumers: registry.consumers, certificates: certificates,
                certificateUsedBeforeWh: usedBefore, factors: factors, parameters: program.parameters,
                baseline: baseline, provisional: provisional)
            let hasher = hashLeaves ? LeafHasher(registry: registry) : nil
            do {
                try ReadingScan(db: db, registry: registry).forEach(
                    from: start, to: end, sortingEachInstant: sortingEachInstant
                ) { scanned in
                    // The registry is the computation's consumer list, so positions are its numbers.
                    try computation.add(scanned.reading, consumerIndex: scanned.consumer)
                    hasher?.add(scanned)
                }
            } catch {
                hasher?.cancel()
                throw error
            }
            let roots = hasher?.finish() ?? [:]
            return Computed(result: try computation.finish(), readingsRoots: roots)
        }
        do {
            return try run(sortingEachInstant: false)
        } catch is ReadingScan.MetersOutOfOrder {
            return try run(sortingEachInstant: true)
        }
    }

    /// Certificates whose window meets `[start, end)`.
    func certificates(overlapping start: Int64, _ end: Int64) throws -> [Certificate] {
        try Self.certificates(where: #"c.start < ? AND c."end" > ?"#, [end, start], db: db)
    }

    /// A consumer's certificates whose window ends after `instant`.
    static func certificates(
        ofConsumerRow consumer: Int64, endingAfter instant: Int64, db: some SQLConnection
    ) throws -> [Certificate] {
        try certificates(where: #"c.consumer = ? AND c."end" > ?"#, [consumer, instant], db: db)
    }

    /// Certificates matching a condition on `c` (the certificates table), in `(start, id)` order.
    private static func certificates(
        where condition: String, _ arguments: [Int64], db: some SQLConnection
    ) throws -> [Certificate] {
        var certificates: [Certificate] = []
        try db.forEachRow(
            """
            SELECT c.id, k.consumer, c.start, c."end", c.wh, c.technology, c.issuer
            FROM certificates c JOIN consumers k ON k.id = c.consumer
            WHERE \(condition) ORDER BY c.start, c.id
            """,
            arguments.map(\.databaseValue)
        ) { row in
            certificates.append(
            Certificate(
                id: row[0], consumer: row[1], start: row[2], end: row[3], wh: row[4], technology: row[5], issuer: row[6]))
        }
        return certificates
    }

    /// Each certificate's use by the readings of closed periods up to `instant`.
    func storedCertificateUse(upTo instant: Int64) throws -> [String: Int64] {
        var used: [String: Int64] = [:]
        try db.forEachRow(
            "SELECT id, used_wh FROM certificate_use WHERE through <= ? ORDER BY id, through", [instant.databaseValue]
        ) { row in used[row[0]] = row[1] }
        return used
    }

    /// The frozen `energy_wh` and `loc_ug` of every consumer scored in a closed period.
    func storedBaseline(_ period: Period) throws -> [String: BaselineFigures] {
        var baseline: [String: BaselineFigures] = [:]
        try db.forEachRow(
            "SELECT consumer, energy_wh, loc_ug FROM scores WHERE period = ?", [period.description.databaseValue]
        ) { row in baseline[row[0]] = BaselineFigures(energyWh: row[1], locUg: row[2]) }
        return baseline
    }

    /// Provisional figures of an open period: every open period with readings from the
    /// first one up to `period` is computed in turn, carrying certificate use and
    /// baselines from one to the next. Nil when `period` is closed or before the
    /// closed ones.
    func provisional(_ period: Period) throws -> PeriodResult? {
        let closedThrough = try Self.closedThrough(db: db)
        let (start, end) = program.span(of: period)
        guard start >= closedThrough else { return nil }
        guard let first = try firstReading(from: closedThrough, to: end) else {
            return try compute(period, provisional: true, baseline: [:], usedBefore: [:], hashLeaves: false).result
        }
        var used = try storedCertificateUse(upTo: max(closedThrough, first))
        var open: [Period: PeriodResult] = [:]
        var current = program.period(containing: first)
        while true {
            let baselinePeriod = program.parameters.baseline.baselinePeriod(of: current)
            let baseline = try open[baselinePeriod].map(Self.baselineFigures(of:)) ?? storedBaseline(baselinePeriod)
            let result = try compute(
                current, provisional: true, baseline: baseline, usedBefore: used, hashLeaves: false
            ).result
            if current == period { return result }
            for use in result.certificates { used[use.id] = use.usedWh }
            open[current] = result
            let next = current.next
            // Skip periods without readings (nothing to carry through them).
            guard let following = try firstReading(from: program.span(of: next).start, to: end) else {
                current = period
                continue
            }
            current = program.period(containing: following)
        }
    }

    /// The peer groups of any period (a day of a month program too): every consumer's
    /// `loc_ug` and `energy_wh` there, which certificate use and baselines do not change
    /// (so none are carried in).
    func peerGroups(_ period: Period) throws -> [PeerBenchmark] {
        try compute(period, provisional: true, baseline: [:], usedBefore: [:], hashLeaves: false).result.benchmarks
    }

    static func baselineFigures(of result: PeriodResult) -> [String: BaselineFigures] {
        var figures: [String: BaselineFigures] = [:]
        for score in result.scores {
            figures[score.consumer.id] = BaselineFigures(energyWh: score.figures.energyWh, locUg: score.figures.locUg)
        }
        return figures
    }
}
