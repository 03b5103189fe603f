import CarbonModel

/// What a score's explanation needs besides the figures: the inputs the figures were
/// computed from, and the circumstances its sentences name.
public struct ScoreBasis: Sendable, Hashable {
    /// The inputs of `cl-score/1` for this score; nil when they cannot be recovered (the
    /// explanation then says only what the figures say, and proposes no change).
    public var inputs: ScoreInputs?
    /// The period scored.
    public var period: Period
    /// The period R compares with.
    public var baselinePeriod: Period
    /// The consumer's zone and class as scored.
    public var zone: String
    public var consumerClass: ConsumerClass
    /// The weights of P, R, T, G the period was scored with.
    public var weights: ScoreWeights
    /// `min_peers` of the program.
    public var minPeers: Int
    /// Members of the consumer's peer group (its zone and class) in the period, also
    /// when fewer than `min_peers`; 0 for none; nil when not known.
    public var peerGroupSize: Int?
    /// Whether the average factor of the zone can differ between hours of the period.
    public var gridVaries: Bool

    /// A basis with the given values.
    public init(
        inputs: ScoreInputs?, period: Period, baselinePeriod: Period, zone: String, consumerClass: ConsumerClass,
        weights: ScoreWeights, minPeers: Int, peerGroupSize: Int?, gridVaries: Bool
    ) {
        self.inputs = inputs
        self.period = period
        self.baselinePeriod = baselinePeriod
        self.zone = zone
        self.consumerClass = consumerClass
        self.weights = weights
        self.minPeers = minPeers
        self.peerGroupSize = peerGroupSize
        self.gridVaries = gridVaries
    }

    /// The basis of a consumer's figures, from what they do not carry: its peer group in
    /// the period (any size), its baseline figures, the program parameters the period was
    /// scored with and the factors. The benchmark follows by the method's rule; the
    /// recovered inputs are kept only when they give exactly `figures` again.
    ///
    /// - Parameter peerGroups: the period's peer groups; nil when they are not known.
    public init(
        recorded figures: ScoreFigures, consumer: Consumer, period: Period, parameters: ProgramParameters,
        peerGroups: [PeerBenchmark]?, baseline: BaselineFigures?, factors: FactorSet
    ) {
        let group = peerGroups?.first { $0.zone == consumer.zone && $0.consumerClass == consumer.consumerClass }
        let benchmark = parameters.benchmark(
            energyWh: figures.energyWh, peerGroup: group, zone: consumer.zone, consumerClass: consumer.consumerClass,
            zoneTree: factors.zoneTree)
        let inputs = ScoreInputs(
            recorded: figures, consumer: consumer, benchmark: benchmark, baseline: baseline, period: period,
            parameters: parameters)
        let (start, end) = (period.start(in: factors.calendar), period.end(in: factors.calendar))
        self.init(
            inputs: (try? ScoreFigures(inputs)) == figures ? inputs : nil, period: period,
            baselinePeriod: parameters.baseline.baselinePeriod(of: period), zone: consumer.zone,
            consumerClass: consumer.consumerClass, weights: parameters.weights, minPeers: parameters.minPeers,
            peerGroupSize: peerGroups == nil ? nil : group?.n ?? 0,
            gridVaries: !factors.cutPoints(zone: consumer.zone, from: start, to: end).isEmpty)
    }
}
