import CarbonModel

/// A peer group of one period: consumers of one zone and class with `energy_wh > 0`.
public struct PeerBenchmark: Sendable, Hashable {
    /// The zone (exactly; sub-zones form their own groups).
    public var zone: String
    /// The class.
    public var consumerClass: ConsumerClass
    /// Members.
    public var n: Int
    /// `sum(loc_peers)`, ug.
    public var sumLocUg: Int128
    /// `sum(norm_peers)`.
    public var sumNorm: Int128

    /// A group with the given fields.
    public init(zone: String, consumerClass: ConsumerClass, n: Int, sumLocUg: Int128, sumNorm: Int128) {
        self.zone = zone
        self.consumerClass = consumerClass
        self.n = n
        self.sumLocUg = sumLocUg
        self.sumNorm = sumNorm
    }
}

/// What a consumer's grade and `bench_ug` come from.
public enum Benchmark: Sendable, Hashable {
    /// Its peer group (it is a member, and the group has at least `min_peers`).
    case peers(PeerBenchmark)
    /// A configured static benchmark.
    case fixed(StaticBenchmark)
}

/// A configured benchmark: `ugPerDay` ug CO2e per normalizer unit per day for
/// consumers of `consumerClass` in `zone` and its sub-zones.
public struct StaticBenchmark: Sendable, Hashable {
    /// The zone it applies to (and its sub-zones).
    public var zone: String
    /// The class it applies to.
    public var consumerClass: ConsumerClass
    /// ug CO2e per normalizer unit per day.
    public var ugPerDay: Int64

    /// A benchmark with the given fields.
    public init(zone: String, consumerClass: ConsumerClass, ugPerDay: Int64) {
        self.zone = zone
        self.consumerClass = consumerClass
        self.ugPerDay = ugPerDay
    }
}
