import CarbonModel

/// Every figure of methodology section 6 for one consumer and period. Property names
/// are the method's field names in camel case (`energy_wh` -> `energyWh`, `P` -> `p`).
public struct ScoreFigures: Sendable, Hashable {
    /// `energy_wh`.
    public var energyWh: Int64
    /// `export_wh`.
    public var exportWh: Int64
    /// `loc_ug`.
    public var locUg: Int64
    /// `mkt_ug`.
    public var mktUg: Int64
    /// `matched_wh`.
    public var matchedWh: Int64
    /// `estimated_wh`.
    public var estimatedWh: Int64
    /// `k_milli`; nil without a benchmark.
    public var kMilli: Int64?
    /// `grade` (its `label` too); nil without a benchmark.
    public var grade: PeerGrade?
    /// `P`, 0...1000.
    public var p: Int64
    /// `q_milli`; nil without a baseline.
    public var qMilli: Int64?
    /// `R`, 0...1000.
    public var r: Int64
    /// `zone_flat_mg`: mean average factor of the consumer's zone over the period's hours.
    public var zoneFlatMg: Int64
    /// `s_milli`; nil when `energy_wh = 0` or `zone_flat_mg = 0`.
    public var sMilli: Int64?
    /// `T`, 0...1000.
    public var t: Int64
    /// `G`, 0...1000.
    public var g: Int64
    /// `score`, 0...1000.
    public var score: Int64
    /// `bench_ug`; nil without a benchmark.
    public var benchUg: Int64?
    /// `avoided_ug`.
    public var avoidedUg: Int64
    /// `points`.
    public var points: Int64
    /// `flags`, ascending.
    public var flags: [ScoreFlag]

    /// The grade's label (`dark-green` ... `red`); nil without a benchmark.
    public var label: String? { grade?.label }

    /// Figures as stored (read back from the database or the ledger); the grade
    /// follows from `kMilli`. Computes nothing: use the other initializer to score.
    public init(
        energyWh: Int64, exportWh: Int64, locUg: Int64, mktUg: Int64, matchedWh: Int64, estimatedWh: Int64,
        kMilli: Int64?, p: Int64, qMilli: Int64?, r: Int64, zoneFlatMg: Int64, sMilli: Int64?, t: Int64, g: Int64,
        score: Int64, benchUg: Int64?, avoidedUg: Int64, points: Int64, flags: [ScoreFlag]
    ) {
        self.energyWh = energyWh
        self.exportWh = exportWh
        self.locUg = locUg
        self.mktUg = mktUg
        self.matchedWh = matchedWh
        self.estimatedWh = estimatedWh
        self.kMilli = kMilli
        self.grade = kMilli.map(PeerGrade.init(kMilli:))
        self.p = p
        self.qMilli = qMilli
        self.r = r
        self.zoneFlatMg = zoneFlatMg
        self.sMilli = sMilli
        self.t = t
        self.g = g
        self.score = score
        self.benchUg = benchUg
        self.avoidedUg = avoidedUg
        self.points = points
        self.flags = flags.sorted()
    }

    /// Computes every figure from a consumer's totals, per methodology sections 6.1-6.7.
    ///
    /// - Parameters:
    ///   - consumer: the consumer's id, for errors.
    ///   - normalizer: `norm_c` (positive).
    ///   - benchmark: its peer group or static benchmark; nil for none.
    ///   - baseline: its figures in the baseline period; nil or zero energy for none.
    ///   - days: `days` of the period; `baselineDays`: `days_b`.
    ///   - zoneFlatMg: `zone_flat_mg` of its zone in the period.
    ///   - provisional: whether the period is still open.
    public init(
        consumer: String, totals: ConsumerTotals, normalizer: Int64, benchmark: Benchmark?, baseline: BaselineFigures?,
        days: Int64, baselineDays: Int64, zoneFlatMg: Int64, weights: ScoreWeights, pointsPerKg: Int64,
        provisional: Bool
    ) throws(AccountingError) {
        try self.init(
            ScoreInputs(
                consumer: consumer, totals: totals, normalizer: normalizer, benchmark: benchmark, baseline: baseline,
                days: days, baselineDays: baselineDays, zoneFlatMg: zoneFlatMg, weights: weights,
                pointsPerKg: pointsPerKg, provisional: provisional))
    }

    /// Computes every figure from a consumer's score inputs, per methodology sections 6.1-6.7.
    public init(_ inputs: ScoreInputs) throws(AccountingError) {
        let (consumer, totals, normalizer, benchmark, baseline) = (
            inputs.consumer, inputs.totals, inputs.normalizer, inputs.benchmark, inputs.baseline
        )
        let (days, baselineDays, zoneFlatMg, weights, pointsPerKg, provisional) = (
            inputs.days, inputs.baselineDays, inputs.zoneFlatMg, inputs.weights, inputs.pointsPerKg,
            inputs.provisional
        )
        func fit(_ x: Int128?, _ figure: String) throws(AccountingError) -> Int128 {
            guard let x else { throw .overflow(consumer: consumer, figure: figure) }
            return x
        }
        func int64(_ x: Int128, _ figure: String) throws(AccountingError) -> Int64 {
            guard let v = Int64(exactly: x) else { throw .overflow(consumer: consumer, figure: figure) }
            return v
        }
        guard normalizer > 0, days > 0, baselineDays > 0 else {
            throw .invalidParameters("normalizer, days and baseline days must be positive")
        }
        if case .peers(let group) = benchmark, group.sumNorm <= 0 || group.sumLocUg < 0 {
            throw .invalidParameters("a peer group's normalizers must sum to a positive number")
        }
        if case .fixed(let b) = benchmark, b.ugPerDay <= 0 {
            throw .invalidParameters("a static benchmark must be positive")
        }
        let loc = Int128(totals.locUg)
        let energy = Int128(totals.energyWh)
        let norm = Int128(normalizer)
        let d = Int128(days)
        var flags: [ScoreFlag] = []

        // 6.1 Peer benchmark and grade.
        var kMilli: Int128? = nil
        var bench: Int128? = nil
        switch benchmark {
        case .peers(let group):
            kMilli =
                group.sumLocUg == 0
                ? 1000
                : try fit(IntegerMath.floorRatio([1000, loc, group.sumNorm], [norm, group.sumLocUg]), "k_milli")
            bench = try fit(IntegerMath.floorRatio([norm, group.sumLocUg], [group.sumNorm]), "bench_ug")
        case .fixed(let b):
            // The denominator exceeding Int128 means it exceeds the numerator: k = 0.
            kMilli = IntegerMath.floorRatio([1000, loc], [norm, Int128(b.ugPerDay), d]) ?? 0
            bench = try fit(IntegerMath.product([norm, Int128(b.ugPerDay), d]), "bench_ug")
        case nil:
            flags.append(.noBenchmark)
        }
        // K beyond Int64 grades 5 with P = 0 all the same.
        let k = kMilli.map(IntegerMath.saturating)
        let p: Int64 = k.map { IntegerMath.clamp(1000 - IntegerMath.floorDiv($0, 2), 0, 1000) } ?? 500

        // 6.2 Reduction against the baseline (energy).
        let hasBaseline = (baseline?.energyWh ?? 0) > 0
        var qMilli: Int64? = nil
        let r: Int64
        if let baseline, hasBaseline {
            let q = try fit(
                IntegerMath.floorRatio([1000, energy, Int128(baselineDays)], [Int128(baseline.energyWh), d]), "q_milli")
            qMilli = IntegerMath.saturating(q)
            r = Int64(IntegerMath.clamp(500 + 1000 - q, 0, 1000))
        } else {
            flags.append(.noBaseline)
            r = 500
        }

        // 6.3 Timing against the grid.
        var sMilli: Int64? = nil
        let t: Int64
        if totals.energyWh == 0 || zoneFlatMg == 0 {
            t = 500
        } else {
            let s = try fit(IntegerMath.floorRatio([1000, loc], [energy, Int128(zoneFlatMg)]), "s_milli")
            sMilli = IntegerMath.saturating(s)
            t = Int64(IntegerMath.clamp(500 + IntegerMath.floorDiv(5 * (1000 - s), 2), 0, 1000))
        }

        // 6.4 Green coverage.
        let g: Int64 = totals.energyWh == 0 ? 0 : Int64(1000 * Int128(totals.matchedWh) / energy)

        // 6.5 Score.
        let w = weights
        let score = Int64(
            IntegerMath.floorDiv(
                Int128(w.peer) * Int128(p) + Int128(w.reduction) * Int128(r) + Int128(w.timing) * Int128(t)
                    + Int128(w.green) * Int128(g),
                Int128(w.peer) + Int128(w.reduction) + Int128(w.timing) + Int128(w.green)))

        // 6.6 Incentive points.
        var avoided: Int128 = 0
        if let bench, loc < bench {
            avoided = bench - loc
        } else if let baseline, hasBaseline {
            let expected = try fit(
                IntegerMath.floorRatio([Int128(baseline.locUg), d], [Int128(baselineDays)]), "the baseline's emissions")
            avoided = max(0, expected - loc)
        }
        let points = try int64(
            try fit(IntegerMath.floorRatio([avoided, Int128(pointsPerKg)], [1_000_000_000]), "points"), "points")

        // 6.7 Flags.
        if provisional { flags.append(.provisional) }
        if totals.residualFallback { flags.append(.residualFallback) }
        if totals.estimatedWh > 0 { flags.append(.estimatedData) }

        let benchUg = try bench.map { x throws(AccountingError) in try int64(x, "bench_ug") }
        self.init(
            energyWh: totals.energyWh, exportWh: totals.exportWh, locUg: totals.locUg, mktUg: totals.mktUg,
            matchedWh: totals.matchedWh, estimatedWh: totals.estimatedWh, kMilli: k, p: p, qMilli: qMilli, r: r,
            zoneFlatMg: zoneFlatMg, sMilli: sMilli, t: t, g: g, score: score, benchUg: benchUg,
            avoidedUg: try int64(avoided, "avoided_ug"), points: points, flags: flags)
    }
}
