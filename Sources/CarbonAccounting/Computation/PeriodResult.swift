import CarbonModel

/// One consumer's score for a period, with what an auditor needs to recompute it.
public struct ConsumerScore: Sendable, Hashable {
    /// The consumer as registered.
    public var consumer: Consumer
    /// The period.
    public var period: Period
    /// Readings accounted.
    public var readings: Int
    /// Every figure of section 6.
    public var figures: ScoreFigures
    /// Names of the datasets that supplied a factor for a piece of its readings (either
    /// kind) or for `zone_flat_mg`, ascending.
    public var factorDatasets: [String]
    /// Ids of the certificates matched with any of its readings of the period, ascending.
    public var certificates: [String]

    /// A score with the given fields (the computation makes them; the shell may rebuild
    /// them from storage for the directory and the inventory).
    public init(
        consumer: Consumer, period: Period, readings: Int, figures: ScoreFigures, factorDatasets: [String],
        certificates: [String]
    ) {
        self.consumer = consumer
        self.period = period
        self.readings = readings
        self.figures = figures
        self.factorDatasets = factorDatasets
        self.certificates = certificates
    }
}

/// Everything a period's computation gives.
public struct PeriodResult: Sendable, Hashable {
    /// The period.
    public var period: Period
    /// `cl-score/1`.
    public var method: String
    /// The baseline period used for R.
    public var baselinePeriod: Period
    /// Every consumer with a reading in the period, by id ascending.
    public var scores: [ConsumerScore]
    /// Every peer group with at least one member (whether or not it reached
    /// `min_peers`), by zone then class.
    public var benchmarks: [PeerBenchmark]
    /// Every certificate given, in the order given, with its use up to the period's end.
    public var certificates: [CertificateUse]
    /// `zone_flat_mg` of every zone of a scored consumer.
    public var zoneFlatMg: [String: Int64]
}
