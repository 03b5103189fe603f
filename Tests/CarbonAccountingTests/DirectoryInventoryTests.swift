import CarbonModel
import Testing

@testable import CarbonAccounting

@Suite("Incentive directory and zone inventory (methodology sections 7 and 8)")
struct DirectoryInventoryTests {
    let period = Period("2026-10")!

    func scored(
        _ id: String, zone: String = "CN-ZJ", _ consumerClass: ConsumerClass = .residential, score: Int64,
        grade: PeerGrade?, points: Int64,
        energyWh: Int64 = 0, locUg: Int64 = 0, mktUg: Int64 = 0
    ) -> ConsumerScore {
        let f = ScoreFigures(
            energyWh: energyWh, exportWh: 0, locUg: locUg, mktUg: mktUg, matchedWh: 0, estimatedWh: 0,
            kMilli: grade.map { [1: 0, 2: 700, 3: 1000, 4: 1500, 5: 3000][$0.rawValue]! }, p: 0, qMilli: nil, r: 500,
            zoneFlatMg: 0, sMilli: nil, t: 500, g: 0, score: score, benchUg: nil, avoidedUg: 0, points: points,
            flags: grade == nil ? [.noBenchmark] : [])
        #expect(f.grade == grade)
        return ConsumerScore(
            consumer: consumer(id, zone: zone, consumerClass), period: period, readings: 1, figures: f,
            factorDatasets: [], certificates: [])
    }

    @Test("ordered by score descending then id; eligible by grade or points")
    func directory() {
        let scores = [
            scored("b", score: 700, grade: .lightGreen, points: 0),
            scored("a", score: 700, grade: .yellow, points: 0),
            scored("c", zone: "CN-GD", score: 900, grade: nil, points: 3),
            scored("d", score: 100, grade: .darkGreen, points: 0),
            scored("e", zone: "CN-EAST", .commercial, score: 500, grade: .red, points: 0),
        ]
        let all = IncentiveDirectory.entries(scores, zoneTree: testZones, eligibleMaxGrade: 2)
        #expect(all.map(\.consumer) == ["c", "a", "b", "e", "d"])
        #expect(all.map(\.eligible) == [true, false, true, false, true])
        let east = IncentiveDirectory.entries(scores, zone: "CN-EAST", zoneTree: testZones, eligibleMaxGrade: 3)
        #expect(east.map(\.consumer) == ["a", "b", "e", "d"])
        #expect(east.map(\.eligible) == [true, true, false, true])
        let residentialZJ = IncentiveDirectory.entries(
            scores, zone: "CN-ZJ", consumerClass: .residential, zoneTree: testZones, eligibleMaxGrade: 2)
        #expect(residentialZJ.map(\.consumer) == ["a", "b", "d"])
    }

    @Test("inventory: sub-zones included, grams rounded down from ug, intensity, grade counts")
    func inventory() {
        let scores = [
            scored("a", score: 1, grade: .yellow, points: 0, energyWh: 1000, locUg: 1_999_999, mktUg: 2_500_000),
            scored("b", zone: "CN-JS", score: 1, grade: .yellow, points: 0, energyWh: 3000, locUg: 1_000_002, mktUg: 0),
            scored("c", zone: "CN-EAST", score: 1, grade: nil, points: 0, energyWh: 0),
            scored("d", zone: "CN-GD", score: 1, grade: .red, points: 0, energyWh: 5000, locUg: 9_000_000),
        ]
        let east = ZoneInventory.period(period, zone: "CN-EAST", scores: scores, zoneTree: testZones)
        #expect(east.energyWh == 4000)
        #expect(east.locG == 3)  // 3_000_001 ug
        #expect(east.mktG == 2)
        #expect(east.consumers == 3)
        #expect(east.intensityMgPerKWh == 750)  // floor(3_000_001 / 4000)
        #expect(east.grades[.yellow] == 2)
        #expect(east.grades[nil] == 1)
        #expect(east.grades[.red] == 0)
        let cn = ZoneInventory.periods([period, Period("2026-11")!], zone: "CN", scores: scores, zoneTree: testZones)
        #expect(cn.map(\.consumers) == [4, 0])
        #expect(cn[1].intensityMgPerKWh == nil)
        #expect(cn[0].grades[.red] == 1)
    }

    /// Consumers `prefix0...` in `zone`, one score each.
    func many(_ count: Int, in zone: String, _ prefix: String) -> [ConsumerScore] {
        (0..<count).map { scored("\(prefix)\($0)", zone: zone, score: 1, grade: nil, points: 0, energyWh: 10, locUg: 7) }
    }

    func suppressed(_ zone: String, _ scores: [ConsumerScore], minPeers: Int = 3) -> Bool {
        ZoneInventory.period(period, zone: zone, scores: scores, zoneTree: testZones, minPeers: minPeers).suppressed
    }

    @Test("small groups: a row of fewer than min_peers consumers is suppressed, leaves and parents alike")
    func smallRows() {
        #expect(suppressed("CN-ZJ", many(2, in: "CN-ZJ", "z")))
        #expect(!suppressed("CN-ZJ", many(3, in: "CN-ZJ", "z")))
        #expect(!suppressed("CN-ZJ", []), "an empty row reveals nobody")
        #expect(suppressed("CN", many(1, in: "CN-GD", "g")))
        #expect(!suppressed("CN-ZJ", many(1, in: "CN-ZJ", "z"), minPeers: 1), "min_peers 1 suppresses nothing")
    }

    @Test("small groups: a parent minus a published sub-zone must not give fewer than min_peers consumers")
    func differencing() {
        // CN-EAST = CN-ZJ (3, published) + 1 in CN-JS: CN-EAST minus CN-ZJ is one consumer.
        let scores = many(3, in: "CN-ZJ", "z") + many(1, in: "CN-JS", "j")
        #expect(!suppressed("CN-ZJ", scores))
        #expect(suppressed("CN-JS", scores))
        #expect(suppressed("CN-EAST", scores))
        // One consumer directly in CN-EAST beside three in CN-ZJ: the same.
        #expect(suppressed("CN-EAST", many(3, in: "CN-ZJ", "z") + many(1, in: "CN-EAST", "e")))
        // Two suppressed sub-zones of one each hide two consumers together, fewer than three.
        let hidden = many(3, in: "CN-GD", "g") + many(1, in: "CN-ZJ", "z") + many(1, in: "CN-JS", "j")
        #expect(suppressed("CN-EAST", hidden))
        #expect(suppressed("CN", hidden), "CN minus CN-SOUTH is the two of CN-EAST")
        // Enough everywhere: nothing is suppressed.
        let enough = many(3, in: "CN-ZJ", "z") + many(3, in: "CN-JS", "j") + many(3, in: "CN-GD", "g")
        for zone in ["CN", "CN-EAST", "CN-ZJ", "CN-JS", "CN-SOUTH", "CN-GD"] { #expect(!suppressed(zone, enough), "\(zone)") }
    }
}
