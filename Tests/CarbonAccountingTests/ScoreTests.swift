import CarbonModel
import Testing

@testable import CarbonAccounting

/// The formulas of section 6 one by one, at and around every bound.
@Suite("Score figures (methodology section 6)")
struct ScoreTests {
    /// Figures from totals, with everything else neutral unless given.
    func score(
        _ totals: ConsumerTotals = ConsumerTotals(energyWh: 1000, locUg: 500_000_000), normalizer: Int64 = 1,
        benchmark: Benchmark? = nil, baseline: BaselineFigures? = nil, days: Int64 = 31, baselineDays: Int64 = 30,
        zoneFlatMg: Int64 = 500_000, weights: ScoreWeights = ScoreWeights(), pointsPerKg: Int64 = 1,
        provisional: Bool = false
    ) throws -> ScoreFigures {
        try ScoreFigures(
            consumer: "c", totals: totals, normalizer: normalizer, benchmark: benchmark, baseline: baseline, days: days,
            baselineDays: baselineDays, zoneFlatMg: zoneFlatMg, weights: weights, pointsPerKg: pointsPerKg,
            provisional: provisional)
    }

    /// Totals and a peer group giving exactly `kMilli` to a consumer with normalizer 1:
    /// k = floor(1000 * loc * sumNorm / sumLoc) with loc = 1000, sumLoc = 10^6, sumNorm = k
    /// (loc = 0 for k = 0).
    func peers(kMilli: Int64) -> (ConsumerTotals, Benchmark) {
        (
            ConsumerTotals(energyWh: 1, locUg: kMilli == 0 ? 0 : 1000),
            .peers(
                PeerBenchmark(
                    zone: "CN-ZJ", consumerClass: .residential, n: 5, sumLocUg: 1_000_000,
                    sumNorm: Int128(max(kMilli, 1))))
        )
    }

    @Test(
        "grade thresholds, at and one above each limit",
        arguments: [
            (Int64(600), PeerGrade.darkGreen), (601, .lightGreen), (800, .lightGreen), (801, .yellow),
            (1200, .yellow), (1201, .orange), (2000, .orange), (2001, .red), (0, .darkGreen), (Int64.max, .red),
        ])
    func gradeThresholds(k: Int64, grade: PeerGrade) throws {
        #expect(PeerGrade(kMilli: k) == grade)
        guard k < 1_000_000 else { return }
        let (totals, benchmark) = peers(kMilli: k)
        let f = try score(totals, benchmark: benchmark)
        #expect(f.kMilli == k)
        #expect(f.grade == grade)
    }

    @Test("labels")
    func labels() {
        #expect(PeerGrade.allCases.map(\.label) == ["dark-green", "light-green", "yellow", "orange", "red"])
    }

    @Test("P: clamp(1000 - floorDiv(k, 2), 0, 1000) and both bounds")
    func peerScore() throws {
        let cases: [(Int64, Int64)] = [
            (0, 1000), (1, 1000), (2, 999), (1000, 500), (1999, 1), (2000, 0), (2001, 0), (5000, 0),
        ]
        for (k, p) in cases {
            let (totals, benchmark) = peers(kMilli: k)
            #expect(try score(totals, benchmark: benchmark).p == p, "k=\(k)")
        }
        #expect(try score(benchmark: nil).p == 500)
    }

    @Test("k with a peer group whose emissions sum to 0 is 1000")
    func zeroPeerEmissions() throws {
        let f = try score(
            ConsumerTotals(energyWh: 10, locUg: 0),
            benchmark: .peers(PeerBenchmark(zone: "CN-ZJ", consumerClass: .residential, n: 5, sumLocUg: 0, sumNorm: 5)))
        #expect(f.kMilli == 1000)
        #expect(f.grade == .yellow)
        #expect(f.benchUg == 0)
    }

    @Test("R: q_milli, both clamp bounds, no baseline")
    func reduction() throws {
        func r(_ energyWh: Int64, days: Int64 = 30) throws -> ScoreFigures {
            try score(
                ConsumerTotals(energyWh: energyWh), baseline: BaselineFigures(energyWh: 3000, locUg: 0), days: days,
                baselineDays: 30)
        }
        // Unchanged per day: q = 1000, R = 500 (31 days against 30).
        #expect(try r(3100, days: 31).qMilli == 1000)
        #expect(try r(3100, days: 31).r == 500)
        // Half: R = 1000 exactly; one less per mille: 1001 clamped to 1000.
        #expect(try r(1500).qMilli == 500)
        #expect(try r(1500).r == 1000)
        #expect(try r(1497).qMilli == 499)
        #expect(try r(1497).r == 1000)
        #expect(try r(0).r == 1000)
        // 1.5x: R = 0 exactly; q = 1501: -1 clamped to 0.
        #expect(try r(4500).r == 0)
        #expect(try r(4503).qMilli == 1501)
        #expect(try r(4503).r == 0)
        #expect(try r(45_000).r == 0)
        // q rounds down: 1000 * 3001 / 3000 = 1000.33.
        #expect(try r(3001).qMilli == 1000)
        #expect(try r(3004).qMilli == 1001)
        #expect(try r(3004).r == 499)
        for baseline in [nil, BaselineFigures(energyWh: 0, locUg: 7)] {
            let f = try score(baseline: baseline)
            #expect(f.r == 500)
            #expect(f.qMilli == nil)
            #expect(f.flags.contains(.noBaseline))
        }
    }

    @Test("T: floorDiv of negative values, both clamp bounds, the 500 cases")
    func timing() throws {
        func t(_ sMilli: Int64) throws -> ScoreFigures {
            // loc = s * energy * flat / 1000 with energy 1000, flat 1000.
            try score(ConsumerTotals(energyWh: 1000, locUg: sMilli * 1000), zoneFlatMg: 1000)
        }
        #expect(try t(1000).t == 500)
        #expect(try t(1001).t == 497)  // 500 + floorDiv(-5, 2) = 500 - 3; truncation would say 498
        #expect(try t(999).t == 502)
        #expect(try t(800).t == 1000)
        #expect(try t(700).t == 1000)
        #expect(try t(0).t == 1000)
        #expect(try t(1200).t == 0)
        #expect(try t(1300).t == 0)
        #expect(try t(1001).sMilli == 1001)
        #expect(try score(ConsumerTotals(energyWh: 0, locUg: 0)).t == 500)
        #expect(try score(zoneFlatMg: 0).t == 500)
        #expect(try score(zoneFlatMg: 0).sMilli == nil)
    }

    @Test("G and the weighted score")
    func greenAndScore() throws {
        #expect(try score(ConsumerTotals(energyWh: 3, matchedWh: 1)).g == 333)
        #expect(try score(ConsumerTotals(energyWh: 3, matchedWh: 3)).g == 1000)
        #expect(try score(ConsumerTotals(energyWh: 0, matchedWh: 0)).g == 0)
        // P 500, R 500, T 500, G 333 with weights 1,1,1,0 and 0,0,0,1.
        let f = try score(
            ConsumerTotals(energyWh: 3, locUg: 1_500_000, matchedWh: 1),
            weights: ScoreWeights(peer: 1, reduction: 1, timing: 1, green: 1))
        #expect(f.score == (500 + 500 + 500 + 333) / 4)
        #expect(
            try score(
                ConsumerTotals(energyWh: 3, matchedWh: 1),
                weights: ScoreWeights(peer: 0, reduction: 0, timing: 0, green: 1)
            ).score == 333)
    }

    @Test("static benchmark: k, bench and points")
    func staticBenchmark() throws {
        let b = StaticBenchmark(zone: "CN", consumerClass: .residential, ugPerDay: 2_500_000_000)
        // 3 persons, 31 days: bench = 232.5 kg; loc = 200 kg.
        let f = try score(
            ConsumerTotals(energyWh: 400_000, locUg: 200_000_000_000), normalizer: 3, benchmark: .fixed(b))
        #expect(f.benchUg == 232_500_000_000)
        #expect(f.kMilli == 860)  // floor(1000 * 200 / 232.5)
        #expect(f.grade == .yellow)
        #expect(f.avoidedUg == 32_500_000_000)
        #expect(f.points == 32)
        #expect(
            try score(
                ConsumerTotals(energyWh: 400_000, locUg: 200_000_000_000), normalizer: 3, benchmark: .fixed(b),
                pointsPerKg: 10
            ).points == 325)
    }

    @Test("points: above the benchmark, the baseline decides; no baseline, none")
    func points() throws {
        let b = StaticBenchmark(zone: "CN", consumerClass: .residential, ugPerDay: 1_000_000)
        let above = ConsumerTotals(energyWh: 1000, locUg: 100_000_000_000)
        #expect(try score(above, benchmark: .fixed(b)).points == 0)
        // Baseline 31 kg over 30 days, 31 days now: expected 32.0333 kg.
        let f = try score(
            above, benchmark: .fixed(b), baseline: BaselineFigures(energyWh: 1, locUg: 31_000_000_000_000))
        #expect(f.avoidedUg == 32_033_333_333_333 - 100_000_000_000)
        #expect(f.points == 31_933)
        // More than expected: max(0, ...).
        #expect(try score(above, baseline: BaselineFigures(energyWh: 1, locUg: 1)).avoidedUg == 0)
    }

    @Test("flags, all at once, in ascending order")
    func flags() throws {
        let f = try score(
            ConsumerTotals(energyWh: 10, locUg: 1, estimatedWh: 1, residualFallback: true), provisional: true)
        #expect(f.flags == [.estimatedData, .noBaseline, .noBenchmark, .provisional, .residualFallback])
        #expect(
            f.flags.map(\.rawValue) == [
                "estimated_data", "no_baseline", "no_benchmark", "provisional", "residual_fallback",
            ])
    }

    @Test("parameters that make a formula undefined are refused")
    func badParameters() {
        for p in [
            ProgramParameters(minPeers: 0),
            ProgramParameters(weights: ScoreWeights(peer: 0, reduction: 0, timing: 0, green: 0)),
            ProgramParameters(weights: ScoreWeights(peer: -1)), ProgramParameters(pointsPerKg: -1),
            ProgramParameters(staticBenchmarks: [StaticBenchmark(zone: "CN", consumerClass: .public, ugPerDay: 0)]),
            ProgramParameters(staticBenchmarks: [
                StaticBenchmark(zone: "CN", consumerClass: .public, ugPerDay: 1),
                StaticBenchmark(zone: "CN", consumerClass: .public, ugPerDay: 2),
            ]),
        ] {
            #expect(throws: AccountingError.self) { try p.validate() }
        }
        #expect(throws: Never.self) { try ProgramParameters().validate() }
    }
}
