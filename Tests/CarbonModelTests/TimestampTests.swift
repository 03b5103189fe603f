import Testing

@testable import CarbonModel

@Suite("Timestamps")
struct TimestampTests {
    @Test("known instants (checked with Python's datetime)")
    func knownValues() {
        let known: [(String, Int64)] = [
            ("2026-10-01T00:00:00+08:00", 1_790_784_000), ("2026-09-30T16:00:00Z", 1_790_784_000),
            ("2000-01-01T00:00:00Z", 946_684_800), ("2100-01-01T00:00:00Z", 4_102_444_800),
            ("2024-02-29T12:34:56-05:30", 1_709_229_896), ("1969-12-31T23:59:59Z", -1),
            ("0001-01-01T00:00:00Z", -62_135_596_800), ("9999-12-31T23:59:59Z", 253_402_300_799),
            ("1970-01-01T00:00:00Z", 0),
        ]
        for (text, unix) in known {
            #expect(Timestamp.parse(text) == unix, "\(text)")
        }
        #expect(Timestamp.format(1_790_784_000) == "2026-09-30T16:00:00Z")
        #expect(Timestamp.format(0) == "1970-01-01T00:00:00Z")
        #expect(Timestamp.format(-1) == "1969-12-31T23:59:59Z")
        #expect(Timestamp.format(253_402_300_800) == "10000-01-01T00:00:00Z")
        #expect(Timestamp.format(-62_135_596_801) == "0000-12-31T23:59:59Z")
        #expect(Timestamp.format(-62_167_219_201) == "-0001-12-31T23:59:59Z")
        // The extremes format without trapping.
        #expect(Timestamp.format(.max).hasSuffix("Z"))
        #expect(Timestamp.format(.min).hasPrefix("-"))
    }

    @Test("accepted spellings: offsets, lower case, space separator, zero fractions, Unix seconds")
    func spellings() {
        let base: Int64 = 1_790_784_000
        let same = [
            "2026-10-01T00:00:00+08:00", "2026-09-30T16:00:00Z", "2026-09-30t16:00:00z", "2026-09-30 16:00:00Z",
            "2026-09-30T16:00:00.000Z", "2026-09-30T16:00:00.0+00:00", "2026-09-30T16:00:00-00:00",
            "2026-09-30T10:30:00-05:30", "2026-10-01T15:59:00+23:59", "1790784000",
        ]
        for text in same { #expect(Timestamp.parse(text) == base, "\(text)") }
        #expect(Timestamp.parse(Substring("x1790784000x").dropFirst().dropLast()) == base)
        #expect(Timestamp.parse("0") == 0)
    }

    @Test("refused: impossible dates and times, missing or bad offsets, fractions, bad digits")
    func refusals() {
        let bad = [
            "2026-13-01T00:00:00Z", "2026-00-01T00:00:00Z", "2026-02-30T00:00:00Z", "2026-04-31T00:00:00Z",
            "2026-01-00T00:00:00Z", "2026-01-32T00:00:00Z", "2026-01-01T24:00:00Z", "2026-01-01T23:60:00Z",
            "2026-01-01T23:59:60Z", "2026-01-01T23:59:61Z", "2026-10-01T00:00:00", "2026-10-01T00:00:00+8:00",
            "2026-10-01T00:00:00+24:00", "2026-10-01T00:00:00+08:60", "2026-10-01T00:00:00+0800",
            "2026-10-01T00:00:00.5Z", "2026-10-01T00:00:00.Z", "2026-10-01T00:00:00ZZ", "2026-10-01",
            "2026-10-01X00:00:00Z", "26-10-01T00:00:00Z", "2026-1-01T00:00:00Z", "", " 1790784000", "01790784000",
            "-5", "+5", "1.5", "99999999999999999999", "2026-10-01T00:00:00 Z", "２０２６-10-01T00:00:00Z",
        ]
        for text in bad { #expect(Timestamp.parse(text) == nil, "\(text)") }
    }

    @Test("leap years: 2000 and 2024 have Feb 29; 1900, 2023 and 2100 do not")
    func leapYears() {
        #expect(Timestamp.parse("2000-02-29T00:00:00Z") != nil)
        #expect(Timestamp.parse("2024-02-29T00:00:00Z") != nil)
        #expect(Timestamp.parse("1900-02-29T00:00:00Z") == nil)
        #expect(Timestamp.parse("2023-02-29T00:00:00Z") == nil)
        #expect(Timestamp.parse("2100-02-29T00:00:00Z") == nil)
        #expect(Timestamp.parse("2024-03-01T00:00:00Z")! - Timestamp.parse("2024-02-28T00:00:00Z")! == 2 * 86_400)
        #expect(Timestamp.parse("2100-03-01T00:00:00Z")! - Timestamp.parse("2100-02-28T00:00:00Z")! == 86_400)
    }

    @Test("days and civil dates agree for every day from 1600 to 2400")
    func civilRoundTrip() {
        var days = Timestamp.days(year: 1600, month: 1, day: 1)
        var mismatches: [String] = []
        for year in Int64(1600)...2400 {
            for month in 1...12 {
                for day in 1...Timestamp.daysInMonth(year: year, month: month) {
                    let civil = Timestamp.civil(fromDays: days)
                    if Timestamp.days(year: year, month: month, day: day) != days || civil.year != year
                        || civil.month != month || civil.day != day
                    {
                        mismatches.append("\(year)-\(month)-\(day)")
                    }
                    days += 1
                }
            }
        }
        #expect(mismatches.isEmpty)
        #expect(Timestamp.days(year: 1970, month: 1, day: 1) == 0)
    }

    @Test("format then parse gives the same instant across years 0 to 9999")
    func formatRoundTrip() {
        var rng = SeededGenerator(seed: 7)
        let range = Int64(-62_167_219_200)...253_402_300_799
        let failures = (0..<20_000).map { _ in Int64.random(in: range, using: &rng) }
            .filter { Timestamp.parse(Timestamp.format($0)) != $0 }
        #expect(failures.isEmpty)
    }
}
