import CarbonModel
import Testing

@testable import CarbonAccounting

@Suite("Emissions of a reading (methodology section 4)")
struct EmissionsTests {
    @Test("largest remainder: floors, then one Wh each to the largest remainders, ties to the earlier piece")
    func apportioning() {
        #expect(Apportionment.apportion(1001, overlaps: [1800, 1800], durationS: 3600) == [501, 500])
        #expect(Apportionment.apportion(3, overlaps: [1, 2, 1], durationS: 4) == [1, 1, 1])
        #expect(Apportionment.apportion(5, overlaps: [1, 3], durationS: 4) == [1, 4])
        #expect(Apportionment.apportion(1, overlaps: [1, 1, 1], durationS: 3) == [1, 0, 0])
        #expect(Apportionment.apportion(2, overlaps: [1, 1, 1], durationS: 3) == [1, 1, 0])
        #expect(Apportionment.apportion(0, overlaps: [5, 5], durationS: 10) == [0, 0])
        #expect(Apportionment.apportion(7, overlaps: [10], durationS: 10) == [7])
        // No overflow at the limits: 10^12 Wh over 31 days.
        #expect(
            Apportionment.apportion(1_000_000_000_000, overlaps: [1, 2_678_399], durationS: 2_678_400).reduce(0, +)
                == 1_000_000_000_000)
    }

    @Test("a reading across an hour boundary of an hourly series")
    func hourBoundary() throws {
        let h = at("2026-10-05T10:00:00Z")
        let factors = try FactorSet(
            rows: [
                annual("CN", .residual, 2026, 600_000), annual("CN", .average, 2026, 530_000),
                span("CN-ZJ", .average, h, h + 3600, 400_000, dataset: "em-zj"),
                span("CN-ZJ", .average, h + 3600, h + 7200, 600_000, dataset: "em-zj"),
            ], zoneTree: testZones, calendar: shanghai)
        let r = reading(start: h + 1800, duration: 3600, importWh: 1001)
        let e = try factors.emissions(of: r, zone: "CN-ZJ", matchedWh: 1)
        #expect(e.pieces.map(\.importWh) == [501, 500])
        #expect(e.pieces.map(\.unmatchedWh) == [500, 500])
        #expect(e.locUg == 501 * 400_000 + 500 * 600_000)
        #expect(e.mktUg == 1000 * 600_000)

        // The streaming computation gives the same.
        let period = Period("2026-10")!
        let c = Certificate(id: "x", consumer: "c1", start: h, end: h + 7200, wh: 1)
        let result = try PeriodComputation.compute(
            period: period, consumers: [consumer("c1")], readings: [r], certificates: [c], factors: factors)
        let f = try #require(figures(result, "c1"))
        #expect(f.locUg == e.locUg)
        #expect(f.mktUg == e.mktUg)
        #expect(result.scores[0].factorDatasets == ["cn-mee-annual", "em-zj"])
    }

    @Test("a reading across a new year of the program time zone (not UTC's)")
    func yearBoundary() throws {
        let factors = try FactorSet(
            rows: [
                annual("CN-ZJ", .average, 2022, 500_000), annual("CN-ZJ", .average, 2023, 600_000),
                annual("CN", .residual, 2022, 700_000),
            ], zoneTree: testZones, calendar: shanghai)
        let r = reading(start: at("2022-12-31T23:00:00+08:00"), duration: 7200, importWh: 3)
        let e = try factors.emissions(of: r, zone: "CN-ZJ")
        #expect(e.pieces.map(\.start) == [r.start, at("2023-01-01T00:00:00+08:00")])
        #expect(e.pieces.map(\.importWh) == [2, 1])
        #expect(e.locUg == 2 * 500_000 + 1 * 600_000)
        // 2023 residual: none for 2023, so CN's 2022 (one year back).
        #expect(e.mktUg == 3 * 700_000)
        #expect(e.pieces[1].residual.row.zone == "CN")

        let result = try PeriodComputation.compute(
            period: Period("2022-12")!, consumers: [consumer("c1")], readings: [r], factors: factors)
        #expect(figures(result, "c1")?.locUg == 1_600_000)
        #expect(figures(result, "c1")?.mktUg == 2_100_000)
    }

    @Test("a month-long reading over an hourly series: the stream and the reference agree")
    func manyPieces() throws {
        let period = Period("2026-10")!
        let start = period.start(in: shanghai)
        var rows = [annual("CN", .average, 2026, 530_000), annual("CN", .residual, 2026, 600_000)]
        for k in 0..<(31 * 24) where k % 7 != 3 {
            rows.append(
                span("CN-ZJ", .average, start + Int64(k) * 3600, start + Int64(k + 1) * 3600, Int64(300_000 + k * 97)))
        }
        let factors = try FactorSet(rows: rows, zoneTree: testZones, calendar: shanghai)
        let r = reading(start: start + 1234, duration: 31 * 86_400 - 1234, importWh: 987_654)
        let e = try factors.emissions(of: r, zone: "CN-ZJ")
        #expect(e.pieces.count == 31 * 24)
        #expect(e.pieces.map(\.importWh).reduce(0, +) == 987_654)
        let result = try PeriodComputation.compute(
            period: period, consumers: [consumer("c1")], readings: [r], factors: factors)
        #expect(figures(result, "c1")?.locUg == e.locUg)
        #expect(figures(result, "c1")?.mktUg == e.mktUg)
        // T rewards nothing here but the profile: s_milli compares with the flat mean.
        let f = try #require(figures(result, "c1"))
        #expect(f.zoneFlatMg > 0)
        #expect(f.sMilli == Int64(1000 * Int128(f.locUg) / (Int128(f.energyWh) * Int128(f.zoneFlatMg))))
    }

    @Test("a missing average factor fails the period, naming zones and spans")
    func missingFactor() throws {
        let period = Period("2023-03")!
        let factors = try FactorSet(
            rows: [annual("CN-EAST", .average, 2023, 550_000)], zoneTree: testZones, calendar: shanghai)
        let readings = [
            reading("c1", start: period.start(in: shanghai), importWh: 10),
            reading("c2", start: period.start(in: shanghai), importWh: 10),
        ]
        #expect(
            throws: AccountingError.missingFactors([
                MissingFactor(zone: "CN-GD", start: period.start(in: shanghai), end: period.end(in: shanghai) + 86_400)
            ])
        ) {
            try PeriodComputation.compute(
                period: period, consumers: [consumer("c1"), consumer("c2", zone: "CN-GD")], readings: readings,
                factors: factors)
        }
        #expect(throws: AccountingError.self) {
            try factors.emissions(of: readings[1], zone: "CN-GD")
        }
    }

    @Test("no residual anywhere: average used, flagged residual_fallback")
    func residualFallbackFlag() throws {
        let period = Period("2023-03")!
        let factors = try FactorSet(
            rows: [annual("CN-ZJ", .average, 2023, 500_000)], zoneTree: testZones, calendar: shanghai)
        let result = try PeriodComputation.compute(
            period: period, consumers: [consumer("c1")],
            readings: [reading(start: period.start(in: shanghai), importWh: 10)], factors: factors)
        let f = try #require(figures(result, "c1"))
        #expect(f.mktUg == 10 * 500_000)
        #expect(f.flags == [.noBaseline, .noBenchmark, .residualFallback])
    }
}
