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
    public init(
        consumer: Consumer, certificates: [Certificate], usedBeforeWh: [String: Int64], factors: FactorSet
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
        queue = CertificateQueue(
            order: certificates.indices.sorted { Certificate.precedes(certificates[$0], certificates[$1]) }.map(Int32.init))
    }

    /// Matches and accounts the consumer's next reading.
    public mutating func add(_ reading: Reading) throws(AccountingError) -> ReadingFigures {
        try reading.checkAccountable()
        let matched =
            reading.importWh > 0
            ? queue.take(reading.importWh, at: reading.start, starts: starts, ends: ends, remaining: &remaining) : 0
        let emissions = try factors.emissions(of: reading, zone: zone, matchedWh: matched)
        return ReadingFigures(matchedWh: matched, locUg: emissions.locUg, mktUg: emissions.mktUg)
    }
}
