import CarbonModel
import Testing

@testable import CarbonAccounting

@Suite("Certificate matching (methodology section 5)")
struct CertificateTests {
    let day = at("2026-10-05T00:00:00+08:00")

    func hourly(_ hours: Int, wh: Int64, consumer: String = "c1", meter: String = "m1") -> [Reading] {
        (0..<hours).map { reading(consumer, meter: meter, start: day + Int64($0) * 3600, importWh: wh) }
    }

    @Test("one certificate spans several readings until spent")
    func spansReadings() throws {
        let c = Certificate(id: "day", consumer: "c1", start: day, end: day + 86_400, wh: 5500)
        let result = try CertificateMatching.match(certificates: [c], readings: hourly(8, wh: 1000))
        #expect(result.matchedWh == [1000, 1000, 1000, 1000, 1000, 500, 0, 0])
        #expect(result.certificates[0].usedWh == 5500)
        #expect(result.certificates[0].unusedWh == 0)
    }

    @Test("unused energy is reported, not carried")
    func unused() throws {
        let c = Certificate(id: "day", consumer: "c1", start: day, end: day + 3 * 3600, wh: 10_000)
        let result = try CertificateMatching.match(certificates: [c], readings: hourly(5, wh: 1000))
        #expect(result.matchedWh == [1000, 1000, 1000, 0, 0])
        #expect(result.certificates[0].unusedWh == 7000)
    }

    @Test("certificates in (start, id) order; only windows containing the reading's start")
    func order() throws {
        let certificates = [
            Certificate(id: "b", consumer: "c1", start: day, end: day + 86_400, wh: 1500),
            Certificate(id: "a", consumer: "c1", start: day, end: day + 86_400, wh: 700),
            Certificate(id: "0-later", consumer: "c1", start: day + 1800, end: day + 86_400, wh: 10_000),
            Certificate(id: "other", consumer: "c2", start: day, end: day + 86_400, wh: 10_000),
            Certificate(id: "ends", consumer: "c1", start: day - 3600, end: day, wh: 10_000),
        ]
        let result = try CertificateMatching.match(certificates: certificates, readings: hourly(2, wh: 1000))
        // Hour 0: "a" (700) then "b" (300); "0-later" starts after the reading's start;
        // "ends" ended exactly at it. Hour 1: "b" (1000).
        #expect(result.matchedWh == [1000, 1000])
        #expect(result.certificates.map(\.usedWh) == [1300, 700, 0, 0, 0])
    }

    @Test("readings are taken in (start, meter) order whatever order they come in")
    func readingOrder() throws {
        let c = Certificate(id: "x", consumer: "c1", start: day, end: day + 86_400, wh: 1500)
        let readings = [
            reading("c1", meter: "m2", start: day, importWh: 1000),
            reading("c1", meter: "m1", start: day, importWh: 1000),
        ]
        #expect(try CertificateMatching.match(certificates: [c], readings: readings).matchedWh == [500, 1000])
    }

    @Test("a certificate spanning two periods is never spent twice")
    func acrossPeriods() throws {
        let factors = try FactorSet(
            rows: [annual("CN-ZJ", .average, 2026, 500_000), annual("CN", .residual, 2026, 600_000)],
            zoneTree: testZones, calendar: shanghai)
        let sep = Period("2026-09")!
        let oct = Period("2026-10")!
        let c = Certificate(
            id: "q", consumer: "c1", start: sep.start(in: shanghai), end: oct.end(in: shanghai), wh: 3000)
        let first = try PeriodComputation.compute(
            period: sep, consumers: [consumer("c1")],
            readings: [reading(start: oct.start(in: shanghai) - 3600, importWh: 2000)], certificates: [c],
            factors: factors)
        #expect(figures(first, "c1")?.matchedWh == 2000)
        #expect(first.certificates[0].usedWh == 2000)
        #expect(first.scores[0].certificates == ["q"])
        let used = Dictionary(uniqueKeysWithValues: first.certificates.map { ($0.id, $0.usedWh) })
        let second = try PeriodComputation.compute(
            period: oct, consumers: [consumer("c1")],
            readings: [reading(start: oct.start(in: shanghai), importWh: 2000)], certificates: [c],
            certificateUsedBeforeWh: used, factors: factors)
        #expect(figures(second, "c1")?.matchedWh == 1000)
        #expect(second.certificates[0].usedWh == 3000)
        #expect(second.certificates[0].usedNowWh == 1000)
        #expect(second.certificates[0].unusedWh == 0)
        // A third look with it spent matches nothing and lists no certificate.
        let third = try PeriodComputation.compute(
            period: oct, consumers: [consumer("c1")],
            readings: [reading(start: oct.start(in: shanghai), importWh: 2000)], certificates: [c],
            certificateUsedBeforeWh: ["q": 3000], factors: factors)
        #expect(figures(third, "c1")?.matchedWh == 0)
        #expect(third.scores[0].certificates == [])
    }

    @Test("certificates that cannot be matched as given")
    func badCertificates() {
        let ok = Certificate(id: "x", consumer: "c1", start: day, end: day + 1, wh: 1)
        #expect(throws: AccountingError.invalidCertificate(id: "x", reason: "the id is given twice")) {
            try CertificateMatching.match(certificates: [ok, ok], readings: [])
        }
        var backwards = ok
        backwards.end = day
        #expect(throws: AccountingError.self) { try CertificateMatching.match(certificates: [backwards], readings: []) }
        var negative = ok
        negative.wh = -1
        #expect(throws: AccountingError.self) { try CertificateMatching.match(certificates: [negative], readings: []) }
        let factors = try! FactorSet(rows: [], zoneTree: testZones, calendar: shanghai)
        #expect(throws: AccountingError.unknownConsumer("c9")) {
            try PeriodComputation(
                period: Period("2026-10")!, consumers: [consumer("c1")],
                certificates: [Certificate(id: "y", consumer: "c9", start: day, end: day + 1, wh: 1)], factors: factors)
        }
        #expect(throws: AccountingError.self) {
            try PeriodComputation(
                period: Period("2026-10")!, consumers: [consumer("c1")], certificates: [ok],
                certificateUsedBeforeWh: ["x": 2], factors: factors)
        }
    }
}
