import CarbonModel

/// Everything `cl-score/1` scores one consumer's period from (methodology section 6):
/// its sums, and what they are measured against. `ScoreFigures(inputs)` is the method;
/// the same inputs always give the same figures, so altered inputs answer "what if".
public struct ScoreInputs: Sendable, Hashable {
    /// The consumer's id, for errors.
    public var consumer: String
    /// Its sums over the period's readings.
    public var totals: ConsumerTotals
    /// `norm_c` (positive).
    public var normalizer: Int64
    /// Its peer group or static benchmark; nil for none.
    public var benchmark: Benchmark?
    /// Its figures in the baseline period; nil or zero energy for none.
    public var baseline: BaselineFigures?
    /// `days` of the period.
    public var days: Int64
    /// `days_b` of the baseline period.
    public var baselineDays: Int64
    /// `zone_flat_mg` of its zone in the period.
    public var zoneFlatMg: Int64
    /// The weights of P, R, T, G.
    public var weights: ScoreWeights
    /// Incentive points per kg CO2e avoided.
    public var pointsPerKg: Int64
    /// Whether the period is still open.
    public var provisional: Bool

    /// Inputs with the given values.
    public init(
        consumer: String, totals: ConsumerTotals, normalizer: Int64, benchmark: Benchmark?, baseline: BaselineFigures?,
        days: Int64, baselineDays: Int64, zoneFlatMg: Int64, weights: ScoreWeights, pointsPerKg: Int64,
        provisional: Bool
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

    /// The inputs behind recorded figures. The figures carry the sums, `zone_flat_mg`
    /// and the flags verbatim; what they do not carry is given. Whether these are the
    /// inputs the figures came from is for `ScoreFigures(inputs) == figures` to say.
    public init(
        recorded figures: ScoreFigures, consumer: Consumer, benchmark: Benchmark?, baseline: BaselineFigures?,
        period: Period, parameters: ProgramParameters
    ) {
        self.init(
            consumer: consumer.id,
            totals: ConsumerTotals(
                energyWh: figures.energyWh, exportWh: figures.exportWh, locUg: figures.locUg, mktUg: figures.mktUg,
                matchedWh: figures.matchedWh, estimatedWh: figures.estimatedWh,
                residualFallback: figures.flags.contains(.residualFallback)),
            normalizer: consumer.normalizer, benchmark: benchmark, baseline: baseline, days: period.days,
            baselineDays: parameters.baseline.baselinePeriod(of: period).days, zoneFlatMg: figures.zoneFlatMg,
            weights: parameters.weights, pointsPerKg: parameters.pointsPerKg,
            provisional: figures.flags.contains(.provisional))
    }
}

extension ProgramParameters {
    /// What a consumer's grade is measured against (section 6.1): its peer group when it
    /// is a member (`energy_wh > 0`) and the group has at least `min_peers` members, else
    /// the static benchmark of the nearest zone of its chain that has one, else none.
    ///
    /// - Parameter peerGroup: the group of its zone and class in the period, if any.
    public func benchmark(
        energyWh: Int64, peerGroup: PeerBenchmark?, zone: String, consumerClass: ConsumerClass, zoneTree: ZoneTree
    ) -> Benchmark? {
        if energyWh > 0, let peerGroup, peerGroup.n >= minPeers { return .peers(peerGroup) }
        return staticBenchmark(chain: zoneTree.chain(from: zone), consumerClass: consumerClass).map(Benchmark.fixed)
    }
}
