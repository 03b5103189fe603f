import CarbonModel
import Testing

@testable import CarbonAccounting

@Suite("Period computation (methodology section 6)")
struct PeriodComputationTests {
    let factors = try! FactorSet(
        rows: [
            annual("CN", .average, 2026, 530_000), annual("CN", .residual, 2026, 600_000),
            annual("CN-ZJ", .average, 2026, 500_000),
        ], zoneTree: testZones, calendar: shanghai)
    let period = Period("2026-10")!
    var start: Int64 { period.start(in: shanghai) }

    @Test("peer group of five: k, grade, bench and the period's benchmarks")
    func peerGroup() throws {
        let consumers =
            (1...5).map { consumer("r\($0)", normalizer: Int64($0)) } + [
                consumer("shop", .commercial), consumer("js", zone: "CN-JS"), consumer("idle"),
            ]
        let energies: [String: Int64] = [
            "r1": 100_000, "r2": 150_000, "r3": 330_000, "r4": 200_000, "r5": 900_000, "shop": 5000, "js": 7000,
            "idle": 0,
        ]
        let readings = consumers.map { reading($0.id, start: start, importWh: energies[$0.id]!) }
        let result = try PeriodComputation.compute(
            period: period, consumers: consumers, readings: readings, factors: factors)

        let sumLoc = Int128(100_000 + 150_000 + 330_000 + 200_000 + 900_000) * 500_000
        #expect(
            result.benchmarks == [
                PeerBenchmark(zone: "CN-JS", consumerClass: .residential, n: 1, sumLocUg: 7000 * 530_000, sumNorm: 1),
                PeerBenchmark(zone: "CN-ZJ", consumerClass: .commercial, n: 1, sumLocUg: 5000 * 500_000, sumNorm: 1),
                PeerBenchmark(zone: "CN-ZJ", consumerClass: .residential, n: 5, sumLocUg: sumLoc, sumNorm: 15),
            ])
        for (i, id) in ["r1", "r2", "r3", "r4", "r5"].enumerated() {
            let f = try #require(figures(result, id))
            let loc = Int128(energies[id]!) * 500_000
            let norm = Int128(i + 1)
            #expect(f.kMilli == Int64(1000 * loc * 15 / (norm * sumLoc)))
            #expect(f.benchUg == Int64(norm * sumLoc / 15))
            #expect(!f.flags.contains(.noBenchmark))
        }
        // k: r1 = 1000*100000*15/(1*1680000) = 892 (yellow); r2: 669 (light green); r3: 982
        // (yellow); r4: 446 (dark green); r5: 1607 (orange).
        #expect(["r1", "r2", "r3", "r4", "r5"].map { figures(result, $0)!.kMilli } == [892, 669, 982, 446, 1607])
        #expect(
            ["r1", "r2", "r3", "r4", "r5"].map { figures(result, $0)!.grade } == [
                .yellow, .lightGreen, .yellow, .darkGreen, .orange,
            ])
        #expect(figures(result, "r5")?.p == 197)
        // Groups under min_peers, and a consumer without energy (in no group): no benchmark.
        for id in ["shop", "js", "idle"] {
            #expect(figures(result, id)?.grade == nil)
            #expect(figures(result, id)?.flags.contains(.noBenchmark) == true)
        }
        // min_peers 6: nobody has a benchmark.
        let strict = try PeriodComputation.compute(
            period: period, consumers: consumers, readings: readings, factors: factors,
            parameters: ProgramParameters(minPeers: 6))
        #expect(strict.scores.allSatisfy { $0.figures.grade == nil })
    }

    @Test("static benchmark: the nearest zone of the chain wins; peers come first")
    func staticBenchmarks() throws {
        let parameters = ProgramParameters(staticBenchmarks: [
            StaticBenchmark(zone: "CN", consumerClass: .residential, ugPerDay: 1_000_000_000),
            StaticBenchmark(zone: "CN-EAST", consumerClass: .residential, ugPerDay: 2_000_000_000),
            StaticBenchmark(zone: "CN-EAST", consumerClass: .commercial, ugPerDay: 9),
        ])
        let consumers = [consumer("zj", normalizer: 2), consumer("gd", zone: "CN-GD")]
        let readings = [reading("zj", start: start, importWh: 100_000), reading("gd", start: start, importWh: 100_000)]
        let result = try PeriodComputation.compute(
            period: period, consumers: consumers, readings: readings, factors: factors, parameters: parameters)
        let zj = try #require(figures(result, "zj"))
        #expect(zj.benchUg == Int64(124_000_000_000))  // 2 persons x 2 g/day (CN-EAST's, not CN's) x 31 days
        #expect(zj.kMilli == Int64(403))  // floor(1000 x 50 g / 124 g)
        let gd = try #require(figures(result, "gd"))
        #expect(gd.benchUg == Int64(31_000_000_000))
        #expect(gd.kMilli == Int64(1709))  // floor(1000 x 53 g / 31 g)
        #expect(gd.grade == .orange)
    }

    @Test("consumers with zero energy have a score, without a peer group")
    func zeroEnergy() throws {
        let consumers = (1...6).map { consumer("c\($0)") }
        let readings = consumers.map { reading($0.id, start: start, importWh: $0.id == "c6" ? 0 : 1000, exportWh: 5) }
        let result = try PeriodComputation.compute(
            period: period, consumers: consumers + [consumer("silent")], readings: readings, factors: factors,
            parameters: ProgramParameters(staticBenchmarks: [
                StaticBenchmark(zone: "CN", consumerClass: .residential, ugPerDay: 1)
            ]))
        #expect(result.scores.count == 6)  // "silent" has no reading, so no score
        #expect(result.benchmarks.first?.n == 5)
        let f = try #require(figures(result, "c6"))
        #expect(f.energyWh == 0)
        #expect(f.exportWh == 5)
        #expect(f.g == 0)
        #expect(f.t == 500)
        #expect(f.sMilli == nil)
        // Not in the peer group: the static benchmark grades it (k = 0).
        #expect(f.kMilli == 0)
        #expect(f.grade == .darkGreen)
        #expect(f.benchUg == 31)
        #expect(f.points == 0)
        #expect(figures(result, "c1")?.kMilli == 1000)
    }

    @Test("baseline figures: previous and year_ago")
    func baselines() throws {
        let consumers = [consumer("c1")]
        let readings = [reading(start: start, importWh: 62_000)]
        let previous = try PeriodComputation.compute(
            period: period, consumers: consumers, readings: readings, factors: factors,
            baseline: ["c1": BaselineFigures(energyWh: 60_000, locUg: 1)])
        #expect(previous.baselinePeriod == Period("2026-09"))
        // 62000/31 against 60000/30 per day: unchanged.
        #expect(figures(previous, "c1")?.qMilli == 1000)
        let yearAgo = try PeriodComputation.compute(
            period: period, consumers: consumers, readings: readings, factors: factors,
            parameters: ProgramParameters(baseline: .yearAgo),
            baseline: ["c1": BaselineFigures(energyWh: 62_000 * 2, locUg: 1)])
        #expect(yearAgo.baselinePeriod == Period("2025-10"))
        #expect(figures(yearAgo, "c1")?.qMilli == 500)
        #expect(figures(yearAgo, "c1")?.r == 1000)
        let none = try PeriodComputation.compute(
            period: period, consumers: consumers, readings: readings, factors: factors)
        #expect(figures(none, "c1")?.flags == [.noBaseline, .noBenchmark])
    }

    @Test("day periods")
    func dayPeriod() throws {
        let day = Period("2026-10-15")!
        let readings = (0..<24).map { reading(start: day.start(in: shanghai) + Int64($0) * 3600, importWh: 100) }
        let result = try PeriodComputation.compute(
            period: day, consumers: [consumer("c1")], readings: readings, factors: factors,
            baseline: ["c1": BaselineFigures(energyWh: 4800, locUg: 0)], provisional: true)
        let f = try #require(figures(result, "c1"))
        #expect(result.baselinePeriod == Period("2026-10-14"))
        #expect(f.energyWh == 2400)
        #expect(f.r == 1000)
        #expect(f.flags == [.noBenchmark, .provisional])
        #expect(result.scores[0].readings == 24)
    }

    @Test("estimated readings are summed and flagged")
    func estimated() throws {
        let readings = [
            reading(start: start, importWh: 100), reading(meter: "m2", start: start, importWh: 40, quality: .estimated),
        ]
        let result = try PeriodComputation.compute(
            period: period, consumers: [consumer("c1")], readings: readings, factors: factors)
        #expect(figures(result, "c1")?.estimatedWh == 40)
        #expect(figures(result, "c1")?.flags.first == .estimatedData)
    }

    @Test("readings the stream refuses, leaving the computation as it was")
    func refusedReadings() throws {
        let day = start
        let certificate = Certificate(id: "x", consumer: "c1", start: day, end: day + 86_400, wh: 10_000)
        var computation = try PeriodComputation(
            period: period, consumers: [consumer("c1")], certificates: [certificate], factors: factors)
        try computation.add(reading(meter: "m2", start: day + 3600, importWh: 10))
        #expect(
            throws: AccountingError.readingsOutOfOrder(
                consumer: "c1", meter: "m1", start: day + 3600, previousMeter: "m2", previousStart: day + 3600)
        ) {
            try computation.add(reading(meter: "m1", start: day + 3600, importWh: 999))
        }
        #expect(throws: AccountingError.self) {
            try computation.add(reading(meter: "m2", start: day + 3600, importWh: 999))
        }
        #expect(throws: AccountingError.self) { try computation.add(reading(meter: "m9", start: day, importWh: 999)) }
        #expect(throws: AccountingError.unknownConsumer("c9")) {
            try computation.add(reading("c9", start: day, importWh: 1))
        }
        #expect(
            throws: AccountingError.readingOutsidePeriod(consumer: "c1", meter: "m3", start: day - 1, period: period)
        ) {
            try computation.add(reading(meter: "m3", start: day - 1, importWh: 1))
        }
        #expect(throws: AccountingError.self) {
            try computation.add(reading(meter: "m3", start: period.end(in: shanghai), importWh: 1))
        }
        #expect(throws: AccountingError.self) {
            try computation.add(reading(meter: "m3", start: day + 7200, duration: 0, importWh: 1))
        }
        #expect(throws: AccountingError.self) {
            try computation.add(reading(meter: "m3", start: day + 7200, importWh: -1))
        }
        try computation.add(reading(meter: "m3", start: day + 3600, importWh: 5))
        let result = try computation.finish()
        let f = try #require(figures(result, "c1"))
        #expect(f.energyWh == 15)
        #expect(f.matchedWh == 15)
        // The certificate's energy left over is reported (its window closed in the period).
        #expect(result.certificates[0].usedNowWh == 15)
        #expect(result.certificates[0].unusedWh == 9985)
        #expect(result.certificates[0].end <= period.end(in: shanghai))
    }

    @Test("registries and parameters the computation refuses")
    func refusedSetups() {
        #expect(throws: AccountingError.self) {
            try PeriodComputation(period: period, consumers: [consumer("c1"), consumer("c1")], factors: factors)
        }
        #expect(throws: AccountingError.self) {
            try PeriodComputation(period: period, consumers: [consumer("c1", zone: "XX")], factors: factors)
        }
        #expect(throws: AccountingError.self) {
            try PeriodComputation(period: period, consumers: [consumer("c1", normalizer: 0)], factors: factors)
        }
        #expect(throws: AccountingError.self) {
            try PeriodComputation(
                period: period, consumers: [], factors: factors, parameters: ProgramParameters(minPeers: 0))
        }
    }

    @Test("a period with no readings has no scores")
    func empty() throws {
        let result = try PeriodComputation.compute(
            period: period, consumers: [consumer("c1")], readings: [], factors: factors)
        #expect(result.scores.isEmpty)
        #expect(result.benchmarks.isEmpty)
    }
}
