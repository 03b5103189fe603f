import CarbonModel

/// One piece of a reading between two cut points, with its share of the energy and
/// the factors that apply to it.
public struct ReadingPiece: Sendable, Hashable {
    /// First instant of the piece.
    public var start: Int64
    /// End of the piece (exclusive).
    public var end: Int64
    /// The piece's share of `import_wh`.
    public var importWh: Int64
    /// The piece's share of the reading's unmatched Wh (apportioned the same way).
    public var unmatchedWh: Int64
    /// The `average` factor of the piece.
    public var average: FactorResolution
    /// The `residual` factor of the piece (the average one when `residualFallback`).
    public var residual: FactorResolution
}

/// A reading's emissions, piece by piece (methodology section 4).
public struct ReadingEmissions: Sendable, Hashable {
    /// The pieces in time order.
    public var pieces: [ReadingPiece]
    /// Location-based emissions, ug: `sum(wh_p * average_p)`.
    public var locUg: Int64
    /// Market-based emissions, ug: `sum(unmatched_wh_p * residual_p)`.
    public var mktUg: Int64
    /// Whether a piece had no residual factor and used the average one.
    public var residualFallback: Bool { pieces.contains { $0.residual.residualFallback } }
}

extension FactorSet {
    /// The emissions of one reading of a consumer in `zone`, of which `matchedWh` Wh were
    /// matched with certificates (section 5): the reference form of what
    /// `PeriodComputation` does per reading, with every piece and factor spelled out.
    public func emissions(of reading: Reading, zone: String, matchedWh: Int64 = 0) throws(AccountingError)
        -> ReadingEmissions
    {
        try reading.checkAccountable(matchedWh: matchedWh)
        let start = reading.start
        let end = reading.start + reading.durationS
        let bounds = [start] + cutPoints(zone: zone, from: start, to: end) + [end]
        let overlaps = (0..<(bounds.count - 1)).map { bounds[$0 + 1] - bounds[$0] }
        let shares = Apportionment.apportion(reading.importWh, overlaps: overlaps, durationS: reading.durationS)
        let unmatched = Apportionment.apportion(
            reading.importWh - matchedWh, overlaps: overlaps, durationS: reading.durationS)
        var pieces: [ReadingPiece] = []
        var missing: [MissingFactor] = []
        var loc: Int64 = 0
        var mkt: Int64 = 0
        for p in overlaps.indices {
            guard let average = resolve(kind: .average, zone: zone, at: bounds[p]),
                let residual = resolve(kind: .residual, zone: zone, at: bounds[p])
            else {
                missing.append(MissingFactor(zone: zone, start: bounds[p], end: bounds[p + 1]))
                continue
            }
            let (l, lo) = shares[p].multipliedReportingOverflow(by: average.mgPerKWh)
            let (m, mo) = unmatched[p].multipliedReportingOverflow(by: residual.mgPerKWh)
            let (loc2, lo2) = loc.addingReportingOverflow(l)
            let (mkt2, mo2) = mkt.addingReportingOverflow(m)
            guard !(lo || mo || lo2 || mo2) else {
                throw .overflow(consumer: reading.consumer, figure: "the emissions of one reading")
            }
            loc = loc2
            mkt = mkt2
            pieces.append(
                ReadingPiece(
                    start: bounds[p], end: bounds[p + 1], importWh: shares[p], unmatchedWh: unmatched[p],
                    average: average, residual: residual))
        }
        guard missing.isEmpty else { throw .missingFactors(missing) }
        return ReadingEmissions(pieces: pieces, locUg: loc, mktUg: mkt)
    }
}

extension Reading {
    /// Refuses a reading whose figures the method cannot account: a non-positive
    /// duration, negative energy, an end beyond Int64, matched Wh outside
    /// `0...import_wh`.
    func checkAccountable(matchedWh: Int64 = 0) throws(AccountingError) {
        func refuse(_ reason: String) -> AccountingError {
            .invalidReading(consumer: consumer, meter: meter, start: start, reason: reason)
        }
        guard durationS > 0 else { throw refuse("duration_s must be positive, got \(durationS)") }
        guard importWh >= 0 else { throw refuse("import_wh must not be negative, got \(importWh)") }
        guard exportWh >= 0 else { throw refuse("export_wh must not be negative, got \(exportWh)") }
        guard !start.addingReportingOverflow(durationS).overflow else { throw refuse("start + duration_s overflows") }
        guard (0...importWh).contains(matchedWh) else {
            throw refuse("matched Wh \(matchedWh) is not within 0...import_wh")
        }
    }
}
