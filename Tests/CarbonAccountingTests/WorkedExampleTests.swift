import CarbonModel
import Testing

@testable import CarbonAccounting

/// Methodology section 9, figure by figure.
@Suite("Worked example (methodology section 9)")
struct WorkedExampleTests {
    let factors = try! FactorSet(
        rows: [annual("CN-ZJ", .average, 2022, 515_300), annual("CN", .residual, 2022, 585_600)],
        zoneTree: testZones, calendar: shanghai)
    let march = Period("2023-03")!
    let february = Period("2023-02")!
    let c1 = consumer("c1")

    @Test("reproduces every figure")
    func everyFigure() throws {
        #expect(march.days == 31)
        #expect(february.days == 28)
        #expect(march.start(in: shanghai) == at("2023-03-01T00:00:00+08:00"))

        // February first: its energy and emissions are March's baseline.
        let feb = try PeriodComputation.compute(
            period: february, consumers: [c1],
            readings: [reading(start: february.start(in: shanghai), duration: 28 * 86_400, importWh: 95_000)],
            factors: factors)
        let fc1 = try #require(figures(feb, "c1"))
        #expect(fc1.energyWh == 95_000)
        #expect(fc1.locUg == 48_953_500_000)

        let certificate = Certificate(
            id: "gec-2023-03-c1", consumer: "c1", start: march.start(in: shanghai), end: march.end(in: shanghai),
            wh: 20_000, technology: "wind", issuer: "GEC")
        let result = try PeriodComputation.compute(
            period: march, consumers: [c1],
            readings: [reading(start: march.start(in: shanghai), duration: 31 * 86_400, importWh: 100_000)],
            certificates: [certificate], factors: factors,
            baseline: ["c1": BaselineFigures(energyWh: fc1.energyWh, locUg: fc1.locUg)])
        #expect(result.method == "cl-score/1")
        #expect(result.baselinePeriod == february)
        let f = try #require(figures(result, "c1"))
        #expect(f.energyWh == 100_000)
        #expect(f.locUg == 51_530_000_000)
        #expect(f.matchedWh == 20_000)
        #expect(f.mktUg == 46_848_000_000)
        #expect(f.kMilli == nil)
        #expect(f.grade == nil)
        #expect(f.p == 500)
        #expect(f.qMilli == 950)
        #expect(f.r == 550)
        #expect(f.zoneFlatMg == 515_300)
        #expect(f.sMilli == 1000)
        #expect(f.t == 500)
        #expect(f.g == 200)
        #expect(f.score == 470)
        #expect(f.benchUg == nil)
        #expect(f.avoidedUg == 2_668_517_857)
        #expect(f.points == 2)
        #expect(f.flags == [.noBenchmark])

        let score = try #require(result.scores.first)
        #expect(score.certificates == ["gec-2023-03-c1"])
        #expect(score.factorDatasets == ["cn-mee-annual"])
        #expect(result.certificates.map(\.usedWh) == [20_000])
        #expect(
            result.benchmarks == [
                PeerBenchmark(zone: "CN-ZJ", consumerClass: .residential, n: 1, sumLocUg: 51_530_000_000, sumNorm: 1)
            ])
    }

    @Test("2023 has no row: the average comes from 2022, the residual from the parent chain")
    func resolutionPaths() throws {
        let t = at("2023-03-15T12:00:00+08:00")
        let average = try #require(factors.resolve(kind: .average, zone: "CN-ZJ", at: t))
        #expect(average.mgPerKWh == 515_300)
        #expect(!average.residualFallback)
        #expect(
            average.path.map(\.description) == ["CN-ZJ average sub-annual", "CN-ZJ average 2023", "CN-ZJ average 2022"])

        let residual = try #require(factors.resolve(kind: .residual, zone: "CN-ZJ", at: t))
        #expect(residual.mgPerKWh == 585_600)
        #expect(residual.row.zone == "CN")
        #expect(!residual.residualFallback)
        #expect(residual.path.count == 7 + 7 + 3)
        #expect(residual.path.last == FactorStep(zone: "CN", kind: .residual, year: 2022))
    }
}
