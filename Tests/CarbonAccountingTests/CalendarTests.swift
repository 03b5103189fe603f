import CarbonModel
import Foundation
import Testing

@testable import CarbonAccounting

@Suite("Program calendar")
struct CalendarTests {
    let plus8 = FixedOffsetCalendar(offsetSeconds: 8 * 3600)

    @Test("a fixed offset: years and days start at local midnight")
    func fixedOffset() {
        #expect(plus8.identifier == "UTC+08:00")
        #expect(FixedOffsetCalendar(offsetSeconds: -(5 * 3600 + 30 * 60)).identifier == "UTC-05:30")
        #expect(plus8.startOfYear(2023) == at("2022-12-31T16:00:00Z"))
        #expect(plus8.year(of: at("2022-12-31T15:59:59Z")) == 2022)
        #expect(plus8.year(of: at("2022-12-31T16:00:00Z")) == 2023)
        #expect(plus8.localDate(of: at("1969-12-31T15:59:59Z")) == CivilDate(year: 1969, month: 12, day: 31))
        #expect(plus8.start(of: CivilDate(year: 1960, month: 2, day: 29)) == at("1960-02-29T00:00:00+08:00"))
    }

    @Test("Asia/Shanghai from TZif agrees with +08:00 since 1992 and with Foundation always")
    func shanghaiTZif() throws {
        let tz = try TZifCalendar(identifier: "Asia/Shanghai", tzif: try #require(tzif("Asia/Shanghai"), "tzdata is not installed"))
        for year in Int64(1992)...2100 {
            #expect(tz.startOfYear(year) == plus8.startOfYear(year))
        }
        // China observed DST 1986-1991: the TZif data knows, nothing is hard-coded.
        #expect(tz.utcOffset(at: at("1988-07-01T00:00:00Z")) == 9 * 3600)
    }

    @Test(
        "TZif offsets equal Foundation's for several zones, past and future",
        arguments: [
            "Asia/Shanghai", "America/New_York", "Europe/Berlin", "Australia/Sydney", "Asia/Kathmandu",
            "America/Sao_Paulo", "Europe/Dublin",
        ])
    func tzifAgainstFoundation(zone: String) throws {
        let bytes = try #require(tzif(zone), "tzdata is not installed")
        let foundationZone = try #require(TimeZone(identifier: zone))
        let tz = try TZifCalendar(identifier: zone, tzif: bytes)
        let reference = FoundationCalendar(foundationZone)
        var rng = SeededGenerator(seed: 7)
        for _ in 0..<3000 {
            let t = Int64.random(in: at("1975-01-01T00:00:00Z")...at("2090-01-01T00:00:00Z"), using: &rng)
            #expect(tz.utcOffset(at: t) == reference.utcOffset(at: t), "\(zone) at \(Timestamp.format(t))")
        }
        // Every transition's neighbourhood, including rule-generated future ones.
        var t = at("1990-01-01T00:00:00Z")
        var transitions = 0
        while let next = tz.nextOffsetChange(after: t), next < at("2060-01-01T00:00:00Z") {
            #expect(tz.utcOffset(at: next - 1) == reference.utcOffset(at: next - 1))
            #expect(tz.utcOffset(at: next) == reference.utcOffset(at: next))
            t = next
            transitions += 1
        }
        if zone == "America/New_York" { #expect(transitions == 140) }
    }

    @Test("a transition that skips midnight: the day starts at the transition")
    func midnightGap() throws {
        let tz = try TZifCalendar(identifier: "America/Sao_Paulo", tzif: try #require(tzif("America/Sao_Paulo"), "tzdata is not installed"))
        // 2018-11-04 00:00 -03 did not exist: clocks went to 01:00 -02.
        #expect(tz.start(of: CivilDate(year: 2018, month: 11, day: 4)) == at("2018-11-04T03:00:00Z"))
        #expect(Period("2018-11-04")!.end(in: tz) - Period("2018-11-04")!.start(in: tz) == 23 * 3600)
        // 2019-02-17 00:00 -02 became 2019-02-16 23:00 -03: the day starts at 00:00 -03.
        #expect(tz.start(of: CivilDate(year: 2019, month: 2, day: 17)) == at("2019-02-17T00:00:00-03:00"))
        #expect(Period("2019-02-16")!.end(in: tz) - Period("2019-02-16")!.start(in: tz) == 25 * 3600)
        #expect(Period.containing(at("2019-02-17T02:30:00Z"), granularity: .day, in: tz) == Period("2019-02-16"))
        #expect(Period.containing(at("2018-11-04T03:00:00Z"), granularity: .day, in: tz) == Period("2018-11-04"))
        #expect(Period.containing(at("2018-11-04T02:59:59Z"), granularity: .day, in: tz) == Period("2018-11-03"))
    }

    @Test("POSIX TZ rules of TZif footers")
    func posixRules() throws {
        let ny = try POSIXTimeZoneRule(parsing: "EST5EDT,M3.2.0,M11.1.0")
        #expect(ny.utcOffset(at: at("2030-01-15T12:00:00Z")) == -5 * 3600)
        #expect(ny.utcOffset(at: at("2030-07-01T12:00:00Z")) == -4 * 3600)
        #expect(ny.utcOffset(at: at("2030-03-10T06:59:59Z")) == -5 * 3600)
        #expect(ny.utcOffset(at: at("2030-03-10T07:00:00Z")) == -4 * 3600)
        #expect(ny.nextChange(after: at("2030-01-01T00:00:00Z")) == at("2030-03-10T07:00:00Z"))
        #expect(ny.nextChange(after: at("2030-03-10T07:00:00Z")) == at("2030-11-03T06:00:00Z"))

        let sydney = try POSIXTimeZoneRule(parsing: "AEST-10AEDT,M10.1.0,M4.1.0/3")
        #expect(sydney.utcOffset(at: at("2030-01-15T00:00:00Z")) == 11 * 3600)
        #expect(sydney.utcOffset(at: at("2030-07-01T00:00:00Z")) == 10 * 3600)

        let dublin = try POSIXTimeZoneRule(parsing: "IST-1GMT0,M10.5.0,M3.5.0/1")
        #expect(dublin.utcOffset(at: at("2030-01-15T00:00:00Z")) == 0)
        #expect(dublin.utcOffset(at: at("2030-07-01T00:00:00Z")) == 3600)

        #expect(try POSIXTimeZoneRule(parsing: "<+0545>-5:45").utcOffset(at: 0) == 5 * 3600 + 45 * 60)
        #expect(try POSIXTimeZoneRule(parsing: "CST-8").daylight == nil)
        #expect(
            try POSIXTimeZoneRule(parsing: "EST5EDT,0/0,J365/25").utcOffset(at: at("2030-06-01T00:00:00Z")) == -4 * 3600
        )
        for bad in ["", "E5", "EST", "EST5EDT,M13.1.0,M11.1.0", "EST5EDT,M3.2.0", "<EST5"] {
            #expect(throws: TZifError.self, "\(bad)") { try POSIXTimeZoneRule(parsing: bad) }
        }
    }

    @Test("TZif bytes that are not TZif are refused")
    func badTZif() {
        #expect(throws: TZifError.self) { try TZifCalendar(identifier: "x", tzif: Array("not a zone".utf8)) }
        #expect(throws: TZifError.self) {
            try TZifCalendar(identifier: "x", tzif: Array("TZif2".utf8) + [UInt8](repeating: 0, count: 10))
        }
        if let bytes = tzif("Asia/Shanghai") {
            #expect(throws: TZifError.self) {
                try TZifCalendar(identifier: "x", tzif: Array(bytes.prefix(bytes.count - 20)))
            }
        }
    }
}

@Suite("Periods")
struct PeriodTests {
    @Test("parse and print")
    func parse() {
        #expect(Period("2026-10") == .month(year: 2026, month: 10))
        #expect(Period("2026-10-15") == .day(year: 2026, month: 10, day: 15))
        #expect(Period("2024-02-29") != nil)
        for bad in [
            "2023-02-29", "2026-13", "2026-00", "2026-1", "26-10", "2026-10-32", "2026/10", "2026-10-1", "",
            "2026-10-15T",
        ] {
            #expect(Period(bad) == nil, "\(bad)")
        }
        #expect(Period("2026-10")!.description == "2026-10")
        #expect(Period("2026-01-05")!.description == "2026-01-05")
    }

    @Test("days, previous, a year ago, next")
    func arithmetic() {
        #expect(Period("2024-02")!.days == 29)
        #expect(Period("2023-02")!.days == 28)
        #expect(Period("2026-10-15")!.days == 1)
        #expect(Period("2026-01")!.previous == Period("2025-12"))
        #expect(Period("2026-03-01")!.previous == Period("2026-02-28"))
        #expect(Period("2025-12-31")!.next == Period("2026-01-01"))
        #expect(Period("2023-03")!.yearAgo == Period("2022-03"))
        #expect(Period("2024-02-29")!.yearAgo == Period("2023-02-28"))
        #expect(BaselineMode.previous.baselinePeriod(of: Period("2023-03")!) == Period("2023-02"))
        #expect(BaselineMode.yearAgo.baselinePeriod(of: Period("2023-03")!) == Period("2022-03"))
        #expect(Period("2023-03")! < Period("2023-03-01")!)
    }

    @Test("instants in the program time zone")
    func instants() {
        let p = Period("2026-10")!
        #expect(p.start(in: shanghai) == at("2026-10-01T00:00:00+08:00"))
        #expect(p.end(in: shanghai) == at("2026-11-01T00:00:00+08:00"))
        #expect(Period.containing(at("2026-09-30T16:00:00Z"), granularity: .month, in: shanghai) == p)
        #expect(Period.containing(at("2026-09-30T15:59:59Z"), granularity: .month, in: shanghai) == Period("2026-09"))
        #expect(Period.containing(at("2026-10-15T16:00:00Z"), granularity: .day, in: shanghai) == Period("2026-10-16"))
    }
}
