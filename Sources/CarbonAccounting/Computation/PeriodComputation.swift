import CarbonModel

/// Accounts and scores one period (methodology sections 4 to 6) from a stream of
/// readings: create it with the registry, certificates, factors and parameters, feed
/// it the period's readings one at a time with `add`, then call `finish`.
///
/// It holds state per consumer, per zone and per certificate only, never the readings,
/// so a month of millions of readings streams through in constant memory. Readings of
/// one consumer must come in `(start, meter)` order; readings of different consumers
/// may interleave freely (a head-end system's time-major order is fine).
public struct PeriodComputation: Sendable {
    /// The method id written into every score.
    public static let method = "cl-score/1"

    /// The period computed.
    public let period: Period
    /// Its first instant.
    public let start: Int64
    /// Its end (exclusive).
    public let end: Int64
    /// The baseline period of R, by the parameters' baseline mode.
    public let baselinePeriod: Period

    private let factors: FactorSet
    private let parameters: ProgramParameters
    private let baseline: [String: BaselineFigures]
    private let provisional: Bool
    /// Peer groups computed elsewhere (over every consumer), used instead of the
    /// groups of the consumers given; nil: form groups from them.
    private let peers: [PeerBenchmark]?
    /// Timelines shared with other computations over the same factors, if given.
    private let sharedTimelines: ZoneTimelineCache?

    private let consumers: [Consumer]
    private let consumerNumbers: [String: Int32]
    private let consumerZones: [Int32]
    private var states: [ConsumerState]
    private var timelines: [ZoneTimeline?]
    private var interner = DatasetSetInterner()

    private let certificates: [Certificate]
    private let certificateStarts: [Int64]
    private let certificateEnds: [Int64]
    private let certificateUsedBefore: [Int64]
    private var certificateRemaining: [Int64]
    private var queues: [CertificateQueue]
    /// The certificate numbers of each queue's consumer.
    private let queueCertificates: [[Int32]]

    private var missing: Set<MissingSpan> = []
    private var pieces = PieceSplitter()

    /// Sets up the computation of `period`.
    ///
    /// - Parameters:
    ///   - consumers: the registry (at least every consumer with readings or certificates).
    ///   - certificates: certificates whose window may contain starts of this period's
    ///     readings (others are harmless).
    ///   - certificateUsedBeforeWh: Wh of each certificate (by id) already matched with
    ///     readings of earlier periods (`CertificateUse.usedWh` of the previous period's
    ///     result); absent means 0.
    ///   - factors: every factor dataset loaded, with the zone tree and program time zone.
    ///   - parameters: the program parameters.
    ///   - baseline: each consumer's `energy_wh` and `loc_ug` in `baselinePeriod`
    ///     (absent: no baseline).
    ///   - provisional: the period is not closed (flag `provisional`).
    ///   - peers: the period's peer groups over every consumer, when only some
    ///     consumers are computed here (one consumer's provisional score); nil forms
    ///     the groups from `consumers`.
    ///   - timelines: zone timelines to share with other computations over `factors`.
    public init(
        period: Period, consumers: [Consumer], certificates: [Certificate] = [],
        certificateUsedBeforeWh: [String: Int64] = [:], factors: FactorSet,
        parameters: ProgramParameters = ProgramParameters(), baseline: [String: BaselineFigures] = [:],
        provisional: Bool = false, peers: [PeerBenchmark]? = nil, timelines: ZoneTimelineCache? = nil
    ) throws(AccountingError) {
        try parameters.validate()
        self.period = period
        self.start = period.start(in: factors.calendar)
        self.end = period.end(in: factors.calendar)
        self.baselinePeriod = parameters.baseline.baselinePeriod(of: period)
        self.factors = factors
        self.parameters = parameters
        self.baseline = baseline
        self.provisional = provisional
        self.peers = peers
        self.sharedTimelines = timelines

        var numbers: [String: Int32] = [:]
        var zones: [Int32] = []
        for (i, c) in consumers.enumerated() {
            guard numbers.updateValue(Int32(i), forKey: c.id) == nil else {
                throw .invalidConsumer(consumer: c.id, reason: "registered twice")
            }
            guard let z = factors.zoneNumber(c.zone) else {
                throw .invalidConsumer(consumer: c.id, reason: "zone \"\(c.zone)\" is not in the zone tree")
            }
            guard c.normalizer > 0 else {
                throw .invalidConsumer(consumer: c.id, reason: "normalizer must be positive, got \(c.normalizer)")
            }
            zones.append(z)
        }
        self.consumers = consumers
        self.consumerNumbers = numbers
        self.consumerZones = zones
        self.states = Array(repeating: ConsumerState(), count: consumers.count)
        self.timelines = Array(repeating: nil, count: factors.zones.count)

        try checkCertificates(certificates, usedBeforeWh: certificateUsedBeforeWh)
        var byConsumer: [Int32: [Int32]] = [:]
        for (i, c) in certificates.enumerated() {
            guard let n = numbers[c.consumer] else { throw .unknownConsumer(c.consumer) }
            byConsumer[n, default: []].append(Int32(i))
        }
        var queues: [CertificateQueue] = []
        var queueCertificates: [[Int32]] = []
        for (n, members) in byConsumer.sorted(by: { $0.key < $1.key }) {
            let ordered = members.sorted { Certificate.precedes(certificates[Int($0)], certificates[Int($1)]) }
            states[Int(n)].queue = Int32(queues.count)
            queues.append(CertificateQueue(order: ordered))
            queueCertificates.append(ordered)
        }
        self.certificates = certificates
        self.certificateStarts = certificates.map(\.start)
        self.certificateEnds = certificates.map(\.end)
        self.certificateUsedBefore = certificates.map { certificateUsedBeforeWh[$0.id] ?? 0 }
        self.certificateRemaining = certificates.map { $0.wh - (certificateUsedBeforeWh[$0.id] ?? 0) }
        self.queues = queues
        self.queueCertificates = queueCertificates
    }

    /// Computes a whole period from a sequence of its readings.
    public static func compute(
        period: Period, consumers: [Consumer], readings: some Sequence<Reading>, certificates: [Certificate] = [],
        certificateUsedBeforeWh: [String: Int64] = [:], factors: FactorSet,
        parameters: ProgramParameters = ProgramParameters(), baseline: [String: BaselineFigures] = [:],
        provisional: Bool = false
    ) throws(AccountingError) -> PeriodResult {
        var computation = try PeriodComputation(
            period: period, consumers: consumers, certificates: certificates,
            certificateUsedBeforeWh: certificateUsedBeforeWh, factors: factors, parameters: parameters,
            baseline: baseline, provisional: provisional)
        for reading in readings { try computation.add(reading) }
        return try computation.finish()
    }

    // MARK: Per reading

    /// Accounts one reading: its certificate match (section 5), its pieces and
    /// emissions (section 4), added to its consumer's totals.
    ///
    /// Throws only for a reading wrong in itself (unknown consumer, out of range, not in
    /// the period, out of order), and then leaves the computation as it was. Missing
    /// factors and overflows are reported by `finish`.
    public mutating func add(_ reading: Reading) throws(AccountingError) {
        guard let number = consumerNumbers[reading.consumer] else { throw .unknownConsumer(reading.consumer) }
        try add(reading, consumerIndex: Int(number))
    }

    /// Accounts one reading of the consumer at `consumerIndex` in the `consumers` given
    /// at init (which must be the reading's `consumer`), without looking it up by id.
    public mutating func add(_ reading: Reading, consumerIndex c: Int) throws(AccountingError) {
        guard consumers.indices.contains(c), consumers[c].id == reading.consumer else {
            throw .unknownConsumer(reading.consumer)
        }
        let s = reading.start
        let wh = reading.importWh
        try reading.checkAccountable()
        guard s >= start && s < end else {
            throw .readingOutsidePeriod(consumer: reading.consumer, meter: reading.meter, start: s, period: period)
        }
        if states[c].readings > 0 {
            let previous = states[c].lastStart
            if s < previous
                || (s == previous && !states[c].lastMeter.utf8.lexicographicallyPrecedes(reading.meter.utf8))
            {
                throw .readingsOutOfOrder(
                    consumer: reading.consumer, meter: reading.meter, start: s, previousMeter: states[c].lastMeter,
                    previousStart: previous)
            }
        }
        let e = s + reading.durationS

        // Section 5: certificates, in reading order.
        var matched: Int64 = 0
        let q = Int(states[c].queue)
        if q >= 0 && wh > 0 {
            matched = queues[q].take(
                wh, at: s, starts: certificateStarts, ends: certificateEnds, remaining: &certificateRemaining)
        }

        // Section 4: pieces and emissions.
        let zone = consumerZones[c]
        let timeline = timeline(zone: zone, covering: e)
        var segment = states[c].segmentHint
        if !(segment < timeline.cuts.count - 1 && timeline.cuts[segment] <= s && s < timeline.cuts[segment + 1]) {
            segment = timeline.segment(containing: s)
        }
        var account = ReadingAccount()
        if e <= timeline.cuts[segment + 1] {
            // One piece: all of the reading in one segment (the usual case).
            account.note(segment: segment, of: timeline)
            (account.locUg, account.mktUg, account.overflow) = timeline.onePiece(
                importWh: wh, matchedWh: matched, segment: segment)
        } else {
            pieces.split(reading: reading, matchedWh: matched, from: segment, of: timeline, into: &account)
        }
        if account.missing {
            var k = segment
            while k < timeline.cuts.count - 1 && timeline.cuts[k] < e {
                if timeline.flags[k] & ZoneTimeline.missingAverage != 0 {
                    missing.insert(MissingSpan(zone: zone, start: timeline.cuts[k], end: timeline.cuts[k + 1]))
                }
                k += 1
            }
        }
        states[c].record(reading: reading, matchedWh: matched, account: account, segment: segment)
    }

    /// The zone's timeline, built or widened so that it covers up to `end`.
    private mutating func timeline(zone: Int32, covering end: Int64) -> ZoneTimeline {
        if let timeline = timelines[Int(zone)], timeline.end >= end { return timeline }
        let timeline: ZoneTimeline
        if let sharedTimelines {
            // Shared windows end a whole number of days past the period, so computations
            // of the period ask for the same one.
            let needed = max(end, self.end + 86_400)
            let (days, overflow) = (needed - start).addingReportingOverflow(86_399)
            let to = overflow ? needed : start + days / 86_400 * 86_400
            timeline = sharedTimelines.timeline(factors: factors, zone: zone, from: start, to: to)
        } else {
            // Cover the period and a margin (readings may run past its end); widen by at
            // least a period's length at a time.
            let length = self.end - start
            let (wide, overflow) = end.addingReportingOverflow(length)
            let to = max(overflow ? end : wide, self.end + 86_400, (timelines[Int(zone)]?.end ?? 0) + length)
            timeline = ZoneTimeline(factors: factors, zone: zone, from: start, to: to, interner: &interner)
        }
        timelines[Int(zone)] = timeline
        return timeline
    }

    // MARK: Scores

    /// Scores every consumer with a reading in the period (sections 6.1 to 6.7).
    ///
    /// Throws `missingFactors` listing every zone and span without an average factor
    /// met by a reading or by `zone_flat_mg`, and `overflow` when a consumer's sums
    /// left Int64.
    public func finish() throws(AccountingError) -> PeriodResult {
        if let c = states.firstIndex(where: \.overflow) {
            throw .overflow(consumer: consumers[c].id, figure: "the period's sums")
        }
        let scored = states.indices.filter { states[$0].readings > 0 }

        // zone_flat_mg per zone: the average factor at the start of every hour.
        var missing = self.missing
        var flat: [Int32: (mg: Int64, datasets: [Int32])] = [:]
        for c in scored where flat[consumerZones[c]] == nil {
            let zone = consumerZones[c]
            guard let timeline = timelines[Int(zone)] else { continue }
            var sum: Int128 = 0
            var hours: Int128 = 0
            var datasets: Set<Int32> = []
            var segment = 0
            var h = start
            while h < end {
                while timeline.cuts[segment + 1] <= h { segment += 1 }
                if timeline.flags[segment] & ZoneTimeline.missingAverage != 0 {
                    missing.insert(
                        MissingSpan(zone: zone, start: timeline.cuts[segment], end: timeline.cuts[segment + 1]))
                } else {
                    sum += Int128(timeline.average[segment])
                    datasets.insert(timeline.averageDataset[segment])
                }
                hours += 1
                h += 3600
            }
            flat[zone] = (Int64(sum / hours), datasets.sorted())
        }
        guard missing.isEmpty else { throw .missingFactors(Self.merged(missing, factors: factors)) }

        // 6.1 Peer groups: same zone and class, energy_wh > 0.
        var groups: [GroupKey: PeerBenchmark] = [:]
        if let peers {
            for group in peers {
                guard let zone = factors.zoneNumber(group.zone) else { continue }
                groups[GroupKey(zone: zone, consumerClass: group.consumerClass)] = group
            }
        } else {
            for c in scored where states[c].totals.energyWh > 0 {
                let consumer = consumers[c]
                let key = GroupKey(zone: consumerZones[c], consumerClass: consumer.consumerClass)
                var group =
                    groups[key]
                    ?? PeerBenchmark(
                        zone: consumer.zone, consumerClass: consumer.consumerClass, n: 0, sumLocUg: 0, sumNorm: 0)
                group.n += 1
                group.sumLocUg += Int128(states[c].totals.locUg)
                group.sumNorm += Int128(consumer.normalizer)
                groups[key] = group
            }
        }

        let days = period.days
        let baselineDays = baselinePeriod.days
        var scores: [ConsumerScore] = []
        scores.reserveCapacity(scored.count)
        for c in scored {
            let consumer = consumers[c]
            let state = states[c]
            let zone = consumerZones[c]
            let benchmark = parameters.benchmark(
                energyWh: state.totals.energyWh,
                peerGroup: groups[GroupKey(zone: zone, consumerClass: consumer.consumerClass)], zone: consumer.zone,
                consumerClass: consumer.consumerClass, zoneTree: factors.zoneTree)
            let zoneFlat = flat[zone] ?? (0, [])
            let figures = try ScoreFigures(
                ScoreInputs(
                    consumer: consumer.id, totals: state.totals, normalizer: consumer.normalizer, benchmark: benchmark,
                    baseline: baseline[consumer.id], days: days, baselineDays: baselineDays, zoneFlatMg: zoneFlat.mg,
                    weights: parameters.weights, pointsPerKg: parameters.pointsPerKg, provisional: provisional))

            var datasetNumbers = Set(zoneFlat.datasets)
            for set in state.datasetSets {
                datasetNumbers.formUnion(sharedTimelines?.datasetSet(set) ?? interner.sets[Int(set)])
            }
            let datasetNames = datasetNumbers.map { factors.datasets[Int($0)] }.sorted {
                $0.utf8.lexicographicallyPrecedes($1.utf8)
            }

            var matchedIDs: [String] = []
            if state.queue >= 0 {
                for n in queueCertificates[Int(state.queue)] {
                    let i = Int(n)
                    let usedNow = certificates[i].wh - certificateUsedBefore[i] - certificateRemaining[i]
                    if usedNow > 0 { matchedIDs.append(certificates[i].id) }
                }
                matchedIDs.sort { $0.utf8.lexicographicallyPrecedes($1.utf8) }
            }
            scores.append(
                ConsumerScore(
                    consumer: consumer, period: period, readings: state.readings, figures: figures,
                    factorDatasets: datasetNames, certificates: matchedIDs))
        }
        scores.sort { $0.consumer.id.utf8.lexicographicallyPrecedes($1.consumer.id.utf8) }

        let benchmarks = groups.values.sorted { a, b in
            a.zone != b.zone
                ? a.zone.utf8.lexicographicallyPrecedes(b.zone.utf8)
                : a.consumerClass.rawValue < b.consumerClass.rawValue
        }
        let uses = certificates.indices.map { i in
            CertificateUse(
                id: certificates[i].id, consumer: certificates[i].consumer, end: certificates[i].end,
                wh: certificates[i].wh,
                usedBeforeWh: certificateUsedBefore[i], usedWh: certificates[i].wh - certificateRemaining[i])
        }
        var zoneFlatMg: [String: Int64] = [:]
        for (zone, value) in flat { zoneFlatMg[factors.zones[Int(zone)].name] = value.mg }
        return PeriodResult(
            period: period, method: Self.method, baselinePeriod: baselinePeriod, scores: scores, benchmarks: benchmarks,
            certificates: uses, zoneFlatMg: zoneFlatMg)
    }

    /// Gaps per zone, ascending, adjacent and overlapping spans joined.
    private static func merged(_ spans: Set<MissingSpan>, factors: FactorSet) -> [MissingFactor] {
        let sorted = spans.sorted { a, b in
            let za = factors.zones[Int(a.zone)].name
            let zb = factors.zones[Int(b.zone)].name
            return za != zb ? za.utf8.lexicographicallyPrecedes(zb.utf8) : a.start < b.start
        }
        var out: [MissingFactor] = []
        for span in sorted {
            let name = factors.zones[Int(span.zone)].name
            if let last = out.last, last.zone == name, span.start <= last.end {
                out[out.count - 1].end = max(last.end, span.end)
            } else {
                out.append(MissingFactor(zone: name, start: span.start, end: span.end))
            }
        }
        return out
    }

    private struct GroupKey: Hashable {
        var zone: Int32
        var consumerClass: ConsumerClass
    }
}
