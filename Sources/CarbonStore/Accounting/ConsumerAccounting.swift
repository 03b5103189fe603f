import CarbonAccounting
import CarbonModel
import GRDB

/// One consumer's figures from that consumer's data alone: its hour sums (or, where
/// they cannot stand for its readings, its readings), its certificates and their
/// stored use, its baseline, and peer groups computed elsewhere. A consumer's
/// provisional score and emissions series cost its own data in the range, plus the
/// carry of certificate use since the last closed period before it.
struct ConsumerAccounting {
    let db: any SQLConnection
    let program: Program
    let factors: FactorSet
    /// Zone timelines shared with every other query over `factors`.
    let timelines: ZoneTimelineCache
    let consumer: Consumer
    /// The consumer's row id.
    let row: Int64
    /// The registry, read once if an hour needs the stored readings.
    private let registry = LazyRegistry()

    /// Reads the consumer's registration; nil if `id` is not registered.
    init?(
        db: any SQLConnection, program: Program, factors: FactorSet, timelines: ZoneTimelineCache, consumer id: String
    ) throws {
        guard let row = try db.row("SELECT id, consumer, utility, zone, class, normalizer FROM consumers WHERE consumer = ?", id)
        else { return nil }
        self.db = db
        self.program = program
        self.factors = factors
        self.timelines = timelines
        self.consumer = try ConsumerRow.consumer(from: row)
        self.row = row["id"]
    }

    // MARK: Readings

    /// Calls `body` with the consumer's readings of `[from, to)` in `(start, meter)`
    /// order as accounting needs them, each with the number of stored readings it
    /// stands for: one reading per hour of its hour sums where they stand exactly for
    /// the readings (see `HourSums`), the stored readings themselves in the other hours.
    func forEachReading(
        from: Int64, to: Int64, certificates: [Certificate], _ body: (Reading, Int) throws -> Void
    ) throws {
        func onHour(_ t: Int64) -> Bool { HourSums.hour(of: t) == t }
        guard onHour(from), onHour(to) else { return try forEachStoredReading(from: from, to: to, body) }
        let hours = try HourSums.stored(consumerRow: row, from: from, to: to, db: db)
        // Hours with an instant inside them where the method cuts: factor segments, certificate windows.
        var cut = Set(factors.cutPoints(zone: consumer.zone, from: from, to: to).filter { !onHour($0) }.map(HourSums.hour))
        for certificate in certificates {
            for bound in [certificate.start, certificate.end] where from < bound && bound < to && !onHour(bound) {
                cut.insert(HourSums.hour(of: bound))
            }
        }
        for (hour, sums) in hours {
            guard sums.irregular == 0, !cut.contains(hour) else {
                try forEachStoredReading(from: hour, to: hour + 3_600, body)
                continue
            }
            try body(Reading(
                utility: consumer.utility, meter: "hour", consumer: consumer.id, start: hour, durationS: 3_600,
                importWh: sums.actualWh, exportWh: sums.exportWh, quality: .actual, id: nil), Int(sums.readings))
            if sums.estimatedWh > 0 {
                try body(Reading(
                    utility: consumer.utility, meter: "hour-estimated", consumer: consumer.id, start: hour,
                    durationS: 3_600, importWh: sums.estimatedWh, exportWh: 0, quality: .estimated, id: nil), 0)
            }
        }
    }

    /// The consumer's stored readings of `[from, to)`: a scan of every consumer's
    /// readings there, kept for the hours the sums cannot stand for. Each instant's
    /// readings (this consumer's only) are sorted by meter before they go out: starting
    /// the scan again when meter ids and names disagree would hand `body` the readings
    /// before the disagreement twice.
    private func forEachStoredReading(from: Int64, to: Int64, _ body: (Reading, Int) throws -> Void) throws {
        try ReadingScan(db: db, registry: try registry.load(db: db)).forEach(
            from: from, to: to, consumer: row, sortingEachInstant: true
        ) { try body($0.reading, 1) }
    }

    // MARK: Certificates

    /// The consumer's certificates whose window ends after `instant`, in `(start, id)` order.
    func certificates(endingAfter instant: Int64) throws -> [Certificate] {
        try PeriodAccounting.certificates(ofConsumerRow: row, endingAfter: instant, db: db)
    }

    /// The use of each certificate by the readings of closed periods up to `instant`.
    func storedUse(of certificates: [Certificate], upTo instant: Int64) throws -> [String: Int64] {
        var used: [String: Int64] = [:]
        for certificate in certificates {
            if let wh = try db.value(
                "SELECT used_wh FROM certificate_use WHERE id = ? AND through <= ? ORDER BY through DESC LIMIT 1",
                certificate.id, instant, as: Int64.self)
            {
                used[certificate.id] = wh
            }
        }
        return used
    }

    /// Where certificate matching for readings from `start` on picks up: the end of the
    /// latest closed period at or before `start` (nil: none), the consumer's
    /// certificates still open there, their use so far, and the instant to replay
    /// readings from to carry that use up to `start`.
    func certificateCarry(to start: Int64) throws -> (certificates: [Certificate], usedBefore: [String: Int64], replayFrom: Int64) {
        let boundary = try db.value(#"SELECT max("end") FROM periods WHERE "end" <= ?"#, start, as: Int64.self)
        let certificates = try certificates(endingAfter: boundary ?? .min)
        guard let first = certificates.map(\.start).min() else { return ([], [:], start) }
        let used = try boundary.map { try storedUse(of: certificates, upTo: $0) } ?? [:]
        return (certificates, used, min(start, boundary ?? first))
    }

    // MARK: Figures

    /// The consumer's provisional score in `period` against `peers` (the period's peer
    /// groups over every consumer), with the basis of its explanation; nil without
    /// readings in it.
    func provisionalScore(_ period: Period, peers: [PeerBenchmark]) throws -> (score: ConsumerScore, basis: ScoreBasis)? {
        let (start, end) = (period.start(in: program.calendar), period.end(in: program.calendar))
        let carry = try certificateCarry(to: start)
        var used = carry.usedBefore
        if carry.replayFrom < start {
            var stream = try ConsumerEmissions(
                consumer: consumer, certificates: carry.certificates, usedBeforeWh: used, factors: factors,
                timelines: timelines, window: carry.replayFrom..<start)
            try forEachReading(from: carry.replayFrom, to: start, certificates: carry.certificates) { reading, _ in
                _ = try stream.add(reading)
            }
            used = stream.usedWh
        }
        var baseline: [String: BaselineFigures] = [:]
        if let figures = try baselineFigures(program.parameters.baseline.baselinePeriod(of: period)) {
            baseline[consumer.id] = figures
        }
        var computation = try PeriodComputation(
            period: period, consumers: [consumer], certificates: carry.certificates, certificateUsedBeforeWh: used,
            factors: factors, parameters: program.parameters, baseline: baseline, provisional: true, peers: peers,
            timelines: timelines)
        var readings = 0
        try forEachReading(from: start, to: end, certificates: carry.certificates) { reading, count in
            try computation.add(reading, consumerIndex: 0)
            readings += count
        }
        guard var score = try computation.finish().scores.first else { return nil }
        score.readings = readings
        return (score, ScoreBasis(
            recorded: score.figures, consumer: consumer, period: period, parameters: program.parameters,
            peerGroups: peers, baseline: baseline[consumer.id], factors: factors))
    }

    /// The consumer's `energy_wh` and `loc_ug` in a baseline period: frozen once the
    /// period is closed, else summed from its data; nil without readings in it.
    private func baselineFigures(_ period: Period) throws -> BaselineFigures? {
        if try PeriodAccounting.closedEntry(of: period, db: db) != nil {
            return try db.row("SELECT energy_wh, loc_ug FROM scores WHERE period = ? AND consumer = ?", period.description, consumer.id)
                .map { BaselineFigures(energyWh: $0[0], locUg: $0[1]) }
        }
        var computation = try PeriodComputation(
            period: period, consumers: [consumer], factors: factors, parameters: program.parameters, provisional: true,
            peers: [], timelines: timelines)
        try forEachReading(from: period.start(in: program.calendar), to: period.end(in: program.calendar), certificates: [])
        { reading, _ in
            try computation.add(reading, consumerIndex: 0)
        }
        return try computation.finish().scores.first.map {
            BaselineFigures(energyWh: $0.figures.energyWh, locUg: $0.figures.locUg)
        }
    }
}

/// The registry for the scans of one query, read the first time one is needed.
private final class LazyRegistry {
    private var registry: AccountingRegistry?

    func load(db: some SQLConnection) throws -> AccountingRegistry {
        if let registry { return registry }
        let loaded = try AccountingRegistry.load(db: db)
        registry = loaded
        return loaded
    }
}
