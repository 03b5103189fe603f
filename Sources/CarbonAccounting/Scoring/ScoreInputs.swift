/// Everything `cl-score/1` computes a consumer's figures from (methodology section
/// 6): the score's inputs, so that a change to them can be scored by the method
/// itself (`ScoreExplanation`).
public struct ScoreInputs: Sendable, Hashable {
    /// The consumer's id, for errors.
    public var consumer: String
    public var totals: ConsumerTotals
    /// `norm_c`.
    public var normalizer: Int64
    /// Its peer group (which it belongs to) or static benchmark; nil for none.
    public var benchmark: Benchmark?
    /// Its figures in the baseline period; nil or zero energy for none.
    public var baseline: BaselineFigures?
    /// `days` of the period and `days_b` of the baseline period.
    public var days: Int64
    public var baselineDays: Int64
    /// `zone_flat_mg` of its zone in the period.
    public var zoneFlatMg: Int64
    public var weights: ScoreWeights
    public var pointsPerKg: Int64
    public var provisional: Bool

    public init(
        consumer: String, totals: ConsumerTotals, normalizer: Int64, benchmark: Benchmark?, baseline: BaselineFigures?,
        days: Int64, baselineDays: Int64, zoneFlatMg: Int64, weights: ScoreWeights, pointsPerKg: Int64, provisional: Bool
    ) {
        self.consumer = consumer
        self.totals = totals
        self.normalizer = normalizer
        self.benchmark = benchmark
        self.baseline = baseline
        self.days = days
        self.baselineDays = baselineDays
        self.zoneFlatMg = zoneFlatMg
        self.weights = weights
        self.pointsPerKg = pointsPerKg
        self.provisional = provisional
    }

    /// The figures `cl-score/1` gives for these inputs.
    public func figures() throws(AccountingError) -> ScoreFigures {
        try ScoreFigures(
            consumer: consumer, totals: totals, normalizer: normalizer, benchmark: benchmark, baseline: baseline,
            days: days, baselineDays: baselineDays, zoneFlatMg: zoneFlatMg, weights: weights, pointsPerKg: pointsPerKg,
            provisional: provisional)
    }
}
