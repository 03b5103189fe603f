import CarbonModel
import Testing

@testable import CarbonAccounting

@Suite("Factor resolution (methodology section 3)")
struct FactorResolutionTests {
    func set(_ rows: [FactorRow]) throws -> FactorSet {
        try FactorSet(rows: rows, zoneTree: testZones, calendar: shanghai)
    }

    @Test("a sub-annual row comes before the annual one")
    func subAnnualFirst() throws {
        let t = at("2023-06-01T10:00:00Z")
        let factors = try set([annual("CN-ZJ", .average, 2023, 500_000), span("CN-ZJ", .average, t, t + 3600, 420_000)])
        #expect(factors.resolve(kind: .average, zone: "CN-ZJ", at: t)?.mgPerKWh == 420_000)
        #expect(factors.resolve(kind: .average, zone: "CN-ZJ", at: t + 3599)?.mgPerKWh == 420_000)
        #expect(factors.resolve(kind: .average, zone: "CN-ZJ", at: t + 3600)?.mgPerKWh == 500_000)
        #expect(factors.resolve(kind: .average, zone: "CN-ZJ", at: t - 1)?.mgPerKWh == 500_000)
        // A child's annual row beats a parent's sub-annual row: the zone comes first.
        let parentHourly = try set([
            annual("CN-ZJ", .average, 2023, 500_000), span("CN-EAST", .average, t, t + 3600, 1),
        ])
        #expect(parentHourly.resolve(kind: .average, zone: "CN-ZJ", at: t)?.mgPerKWh == 500_000)
    }

    @Test("the year of t is the program time zone's")
    func localYear() throws {
        let factors = try set([annual("CN-ZJ", .average, 2022, 500_000), annual("CN-ZJ", .average, 2023, 600_000)])
        // 2022-12-31T16:30Z is already 2023 in Shanghai.
        #expect(factors.resolve(kind: .average, zone: "CN-ZJ", at: at("2022-12-31T16:30:00Z"))?.mgPerKWh == 600_000)
        #expect(factors.resolve(kind: .average, zone: "CN-ZJ", at: at("2022-12-31T15:59:59Z"))?.mgPerKWh == 500_000)
    }

    @Test("the latest earlier year, at most 5 years back, then the parent")
    func yearsBack() throws {
        let factors = try set([
            annual("CN-ZJ", .average, 2018, 518_000), annual("CN-ZJ", .average, 2016, 516_000),
            annual("CN", .average, 2017, 617_000),
        ])
        let in2023 = at("2023-05-01T00:00:00Z")
        let r2023 = try #require(factors.resolve(kind: .average, zone: "CN-ZJ", at: in2023))
        #expect(r2023.mgPerKWh == 518_000)
        #expect(r2023.path.map(\.year) == [nil, 2023, 2022, 2021, 2020, 2019, 2018])
        // 2024: 2018 is 6 years back: not used; CN-EAST has nothing; CN's 2017 is 7 back.
        #expect(factors.resolve(kind: .average, zone: "CN-ZJ", at: at("2024-05-01T00:00:00Z")) == nil)
        // 2022 at CN: 2017 is exactly 5 back.
        #expect(factors.resolve(kind: .average, zone: "CN-GD", at: at("2022-05-01T00:00:00Z"))?.mgPerKWh == 617_000)
        // Rows of later years are never used for earlier ones.
        #expect(factors.resolve(kind: .average, zone: "CN-ZJ", at: at("2015-05-01T00:00:00Z")) == nil)
    }

    @Test("residual falls back to average, flagged, with both walks in the path")
    func residualFallback() throws {
        let factors = try set([annual("CN-EAST", .average, 2023, 550_000)])
        let r = try #require(factors.resolve(kind: .residual, zone: "CN-ZJ", at: at("2023-05-01T00:00:00Z")))
        #expect(r.residualFallback)
        #expect(r.mgPerKWh == 550_000)
        #expect(r.row.kind == .average)
        #expect(r.path.filter { $0.kind == .residual }.count == 3 * 7)
        #expect(r.path.last == FactorStep(zone: "CN-EAST", kind: .average, year: 2023))
        #expect(factors.resolve(kind: .average, zone: "CN-GD", at: at("2023-05-01T00:00:00Z")) == nil)
        #expect(factors.resolve(kind: .residual, zone: "CN-GD", at: at("2023-05-01T00:00:00Z")) == nil)
        #expect(factors.resolve(kind: .average, zone: "XX", at: 0) == nil)
    }

    @Test("several rows for one step: the later dataset wins, then the later start")
    func precedence() throws {
        let t = at("2023-06-01T10:00:00Z")
        let factors = try set([
            annual("CN-ZJ", .average, 2023, 500_000, dataset: "old"),
            annual("CN-ZJ", .average, 2023, 510_000, dataset: "new"),
            span("CN-ZJ", .average, t, t + 7200, 400_000, dataset: "a"),
            span("CN-ZJ", .average, t + 1800, t + 3600, 300_000, dataset: "a"),
            span("CN-ZJ", .average, t + 5400, t + 9000, 200_000, dataset: "b"),
        ])
        #expect(factors.datasets == ["old", "new", "a", "b"])
        #expect(factors.resolve(kind: .average, zone: "CN-ZJ", at: t - 1)?.dataset == "new")
        #expect(factors.resolve(kind: .average, zone: "CN-ZJ", at: t)?.mgPerKWh == 400_000)
        #expect(factors.resolve(kind: .average, zone: "CN-ZJ", at: t + 1800)?.mgPerKWh == 300_000)
        #expect(factors.resolve(kind: .average, zone: "CN-ZJ", at: t + 3600)?.mgPerKWh == 400_000)
        #expect(factors.resolve(kind: .average, zone: "CN-ZJ", at: t + 5400)?.mgPerKWh == 200_000)
        #expect(factors.resolve(kind: .average, zone: "CN-ZJ", at: t + 7200)?.mgPerKWh == 200_000)
        #expect(factors.resolve(kind: .average, zone: "CN-ZJ", at: t + 9000)?.mgPerKWh == 510_000)
    }

    @Test("rows the set cannot take")
    func badRows() {
        #expect(throws: FactorSetError.self) { try set([annual("XX", .average, 2023, 1)]) }
        #expect(throws: FactorSetError.self) { try set([span("CN", .average, 10, 10, 1)]) }
        #expect(throws: FactorSetError.self) { try set([span("CN", .average, 10, 20, -1)]) }
        #expect(throws: FactorSetError.self) {
            try set([span("CN", .average, 10, 20, 1), span("CN", .average, 10, 20, 2)])
        }
        #expect(throws: Never.self) {
            try set([span("CN", .average, 10, 20, 1), span("CN", .average, 10, 20, 2, dataset: "other")])
        }
    }

    @Test("cut points: sub-annual rows of the zone and its ancestors, either kind, and new years")
    func cutPoints() throws {
        let h = at("2022-12-31T14:00:00Z")
        let factors = try set([
            span("CN-ZJ", .average, h, h + 3600, 1), span("CN", .residual, h + 1800, h + 5400, 2),
            span("CN-JS", .average, h + 600, h + 700, 3),  // a sibling: no cut
        ])
        #expect(
            factors.cutPoints(zone: "CN-ZJ", from: h - 100, to: h + 3 * 3600) == [
                h, h + 1800, h + 3600, h + 5400, at("2023-01-01T00:00:00+08:00"),
            ])
        #expect(factors.cutPoints(zone: "CN-ZJ", from: h, to: h + 1800) == [])
        #expect(
            factors.cutPoints(zone: "CN-ZJ", from: at("2021-06-01T00:00:00Z"), to: at("2023-06-01T00:00:00Z")).contains(
                at("2022-01-01T00:00:00+08:00")))
    }
}
