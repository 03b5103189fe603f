import CarbonModel

/// What one reading of a consumer comes to (methodology sections 4 and 5).
public struct ReadingFigures: Sendable, Hashable {
    /// `matched_wh`: energy matched with certificates.
    public var matchedWh: Int64
    /// Location-based emissions, ug.
    public var locUg: Int64
    /// Market-based emissions, ug.
    public var mktUg: Int64
}

/// One consumer's readings accounted one at a time, with certificate matching carried
/// from reading to reading: the figures behind an emissions time series.
///
/// Feed it the consumer's readings in `(start, meter)` order, starting at an instant
/// where `usedBeforeWh` is the use of each certificate so far.
public struct ConsumerEmissions: Sendable {
    private let zone: String
    private let factors: FactorSet
    private let starts: [Int64]
    private let ends: [Int64]
    private var remaining: [Int64]
    private var queue: CertificateQueue
    private let ids: [String]
    private let whs: [Int64]
    /// The zone's timeline over the window readings are expected in, when shared ones were given.
    private let timeline: ZoneTimeline?

    /// Wh of each certificate (by id) used so far, by earlier readings and by the
    /// readings added: the `usedBeforeWh` of whatever comes next.
    public var usedWh: [String: Int64] {
        var used: [String: Int64] = [:]
        for i in ids.indices { used[ids[i]] = whs[i] - remaining[i] }
        return used
    }

    /// - Parameters:
    ///   - consumer: the consumer.
    ///   - certificates: its certificates (others are refused).
    ///   - usedBeforeWh: Wh of each certificate (by id) used by earlier readings; absent means 0.
    ///   - factors: every factor dataset loaded, with the zone tree and program time zone.
    ///   - timelines: zone timelines shared over `factors`; with `window`, readings of
    ///     one segment there are accounted from the zone's timeline instead of
    ///     resolving their factors one by one.
    public init(
        consumer: Consumer, certificates: [Certificate], usedBeforeWh: [String: Int64], factors: FactorSet,
        timelines: ZoneTimelineCache? = nil, window: Range<Int64>? = nil
    ) throws(AccountingError) {
        try checkCertificates(certificates, usedBeforeWh: usedBeforeWh)
        if let stranger = certificates.first(where: { $0.consumer != consumer.id }) {
            throw .invalidCertificate(id: stranger.id, reason: "it belongs to \(stranger.consumer), not \(consumer.id)")
        }
        zone = consumer.zone
        self.factors = factors
        starts = certificates.map(\.start)
        ends = certificates.map(\.end)
        remaining = certificates.map { $0.wh - (usedBeforeWh[$0.id] ?? 0) }
        ids = certificates.map(\.id)
        whs = certificates.map(\.wh)
        if let timelines, let window, let zone = factors.zoneNumber(consumer.zone), !window.isEmpty,
            !window.upperBound.addingReportingOverflow(86_400).overflow
        {
            timeline = timelines.timeline(
                factors: factors, zone: zone, from: window.lowerBound, to: window.upperBound + 86_400)
        } else {
            timeline = nil
        }
        queue = CertificateQueue(
            order: certificates.indices.sorted { Certificate.precedes(certificates[$0], certificates[$1]) }.map(Int32.init))
    }

    /// Matches and accounts the consumer's next reading.
    public mutating func add(_ reading: Reading) throws(AccountingError) -> ReadingFigures {
        try reading.checkAccountable()
        let matched =
            reading.importWh > 0
            ? queue.take(reading.importWh, at: reading.start, starts: starts, ends: ends, remaining: &remaining) : 0
        if let figures = fromTimeline(reading, matchedWh: matched) { return figures }
        let emissions = try factors.emissions(of: reading, zone: zone, matchedWh: matched)
        return ReadingFigures(matchedWh: matched, locUg: emissions.locUg, mktUg: emissions.mktUg)
    }

    /// A reading inside one segment of the timeline is one piece: its figures are its
    /// energy times the segment's factors. Nil for any other reading (several pieces,
    /// outside the window, a missing factor, a product beyond Int64): those take the
    /// reference path, which reports what is wrong.
    private func fromTimeline(_ reading: Reading, matchedWh: Int64) -> ReadingFigures? {
        guard let timeline, reading.start >= timeline.start else { return nil }
        let (end, late) = reading.start.addingReportingOverflow(reading.durationS)
        guard !late, end <= timeline.end else { return nil }
        let segment = timeline.segment(containing: reading.start)
        guard end <= timeline.cuts[segment + 1], timeline.flags[segment] & ZoneTimeline.missingAverage == 0 else {
            return nil
        }
        let piece = timeline.onePiece(importWh: reading.importWh, matchedWh: matchedWh, segment: segment)
        return piece.overflow ? nil : ReadingFigures(matchedWh: matchedWh, locUg: piece.locUg, mktUg: piece.mktUg)
    }
}
