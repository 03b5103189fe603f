import CarbonModel

/// The program parameters of methodology section 2 that scoring uses. The program time
/// zone is the `calendar` of the `FactorSet` (one calendar gives periods and annual
/// factor rows their meaning).
public struct ProgramParameters: Sendable, Hashable {
    /// Smallest peer group that gives a peer benchmark (default 5).
    public var minPeers: Int
    /// Weights of P, R, T, G in the score.
    public var weights: ScoreWeights
    /// Incentive points per kg CO2e avoided (default 1).
    public var pointsPerKg: Int64
    /// Which period is the baseline of reduction R.
    public var baseline: BaselineMode
    /// Directory eligibility: grade at most this (default 2).
    public var eligibleMaxGrade: Int
    /// Static benchmarks, for consumers without a large enough peer group.
    public var staticBenchmarks: [StaticBenchmark]

    /// The parameters, with the method's defaults.
    public init(
        minPeers: Int = 5, weights: ScoreWeights = ScoreWeights(), pointsPerKg: Int64 = 1,
        baseline: BaselineMode = .previous, eligibleMaxGrade: Int = 2, staticBenchmarks: [StaticBenchmark] = []
    ) {
        self.minPeers = minPeers
        self.weights = weights
        self.pointsPerKg = pointsPerKg
        self.baseline = baseline
        self.eligibleMaxGrade = eligibleMaxGrade
        self.staticBenchmarks = staticBenchmarks
    }

    /// Refuses parameters that make a formula undefined.
    public func validate() throws(AccountingError) {
        guard minPeers >= 1 else { throw .invalidParameters("min_peers must be at least 1, got \(minPeers)") }
        let w = [weights.peer, weights.reduction, weights.timing, weights.green]
        guard w.allSatisfy({ (0...1_000_000).contains($0) }), w.reduce(0, +) > 0 else {
            throw .invalidParameters("weights must be within 0...1000000 and not all 0")
        }
        guard (0...1_000_000_000).contains(pointsPerKg) else {
            throw .invalidParameters("points_per_kg must be within 0...1000000000, got \(pointsPerKg)")
        }
        var seen: Set<[String]> = []
        for b in staticBenchmarks {
            guard b.ugPerDay > 0 else {
                throw .invalidParameters(
                    "the static benchmark of \(b.zone) \(b.consumerClass.rawValue) must be positive")
            }
            guard seen.insert([b.zone, b.consumerClass.rawValue]).inserted else {
                throw .invalidParameters("two static benchmarks for \(b.zone) \(b.consumerClass.rawValue)")
            }
        }
    }

    /// The static benchmark for a consumer of `consumerClass` whose zone chain is `chain`
    /// (nearest first): the nearest zone's wins.
    public func staticBenchmark(chain: [String], consumerClass: ConsumerClass) -> StaticBenchmark? {
        for zone in chain {
            if let b = staticBenchmarks.first(where: { $0.zone == zone && $0.consumerClass == consumerClass }) {
                return b
            }
        }
        return nil
    }
}

/// Weights of the score's parts (default 40, 30, 15, 15).
public struct ScoreWeights: Sendable, Hashable {
    /// Weight of P (peer grade).
    public var peer: Int64
    /// Weight of R (reduction).
    public var reduction: Int64
    /// Weight of T (timing).
    public var timing: Int64
    /// Weight of G (green coverage).
    public var green: Int64

    /// Weights with the method's defaults.
    public init(peer: Int64 = 40, reduction: Int64 = 30, timing: Int64 = 15, green: Int64 = 15) {
        self.peer = peer
        self.reduction = reduction
        self.timing = timing
        self.green = green
    }
}
