import CarbonModel

/// A POSIX TZ rule (`CST-8`, `EST5EDT,M3.2.0,M11.1.0`, `<+0545>-5:45`), as found in the
/// footer of TZif version 2+ files, with the version 3 extensions (hours up to ±167 in
/// transition times). It gives the offsets after a zone's last listed transition.
struct POSIXTimeZoneRule: Sendable, Equatable {
    /// A day of the year in a rule.
    enum RuleDay: Sendable, Equatable {
        /// `Jn`: 1...365, February 29 never counted.
        case julianNoLeap(Int)
        /// `n`: 0...365, February 29 counted.
        case zeroBased(Int)
        /// `Mm.w.d`: day `d` (0 = Sunday) of week `w` (5 = last) of month `m`.
        case monthWeekDay(month: Int, week: Int, weekday: Int)

        /// Days since 1970-01-01 of this rule day in `year`.
        func days(in year: Int64) -> Int64 {
            let january1 = Timestamp.days(year: year, month: 1, day: 1)
            switch self {
            case .julianNoLeap(let n):
                return january1 + Int64(n - 1) + (Timestamp.isLeapYear(year) && n >= 60 ? 1 : 0)
            case .zeroBased(let n):
                return january1 + Int64(n)
            case .monthWeekDay(let month, let week, let weekday):
                let first = Timestamp.days(year: year, month: month, day: 1)
                // 1970-01-01 was a Thursday (weekday 4).
                let firstWeekday = Int((first + 4) % 7 + 7) % 7
                var day = first + Int64((weekday - firstWeekday + 7) % 7) + Int64(7 * (week - 1))
                let length = Int64(Timestamp.daysInMonth(year: year, month: month))
                while day >= first + length { day -= 7 }
                return day
            }
        }
    }

    /// Daylight saving time: its offset and when it starts and ends each year.
    struct Daylight: Sendable, Equatable {
        var offset: Int64
        var start: RuleDay
        /// Seconds after local (standard) midnight of the start day.
        var startTime: Int64
        var end: RuleDay
        /// Seconds after local (daylight) midnight of the end day.
        var endTime: Int64
    }

    /// Seconds east of UTC outside daylight saving time.
    var standardOffset: Int64
    var daylight: Daylight?

    /// The offset at `instant`.
    func utcOffset(at instant: Int64) -> Int64 {
        guard let daylight else { return standardOffset }
        let year = Timestamp.civil(fromDays: IntegerMath.floorDiv(instant + standardOffset, 86_400)).year
        let (start, end) = transitions(in: year, daylight)
        let inDaylight = start < end ? (start <= instant && instant < end) : !(end <= instant && instant < start)
        return inDaylight ? daylight.offset : standardOffset
    }

    /// The first rule transition after `instant`.
    func nextChange(after instant: Int64) -> Int64? {
        guard let daylight else { return nil }
        let year = Timestamp.civil(fromDays: IntegerMath.floorDiv(instant, 86_400)).year
        var best: Int64? = nil
        for y in (year - 1)...(year + 1) {
            let (start, end) = transitions(in: y, daylight)
            for t in [start, end] where t > instant && t < (best ?? .max) { best = t }
        }
        return best
    }

    /// The UTC instants at which daylight time starts and ends in `year`.
    private func transitions(in year: Int64, _ d: Daylight) -> (start: Int64, end: Int64) {
        (
            d.start.days(in: year) * 86_400 + d.startTime - standardOffset,
            d.end.days(in: year) * 86_400 + d.endTime - d.offset
        )
    }

    /// Parses a TZ rule string.
    init(parsing text: String) throws(TZifError) {
        var p = Parser(bytes: Array(text.utf8))
        try p.name()
        standardOffset = -(try p.offset(maxHours: 24))
        if p.atEnd {
            daylight = nil
            return
        }
        try p.name()
        var dstOffset = standardOffset + 3600
        if let c = p.peek, c != UInt8(ascii: ",") {
            dstOffset = -(try p.offset(maxHours: 24))
        }
        var start = RuleDay.monthWeekDay(month: 3, week: 2, weekday: 0)
        var end = RuleDay.monthWeekDay(month: 11, week: 1, weekday: 0)
        var startTime: Int64 = 7200
        var endTime: Int64 = 7200
        if p.peek == UInt8(ascii: ",") {
            p.position += 1
            start = try p.ruleDay()
            if p.peek == UInt8(ascii: "/") {
                p.position += 1
                startTime = try p.offset(maxHours: 167)
            }
            try p.expect(UInt8(ascii: ","))
            end = try p.ruleDay()
            if p.peek == UInt8(ascii: "/") {
                p.position += 1
                endTime = try p.offset(maxHours: 167)
            }
        }
        guard p.atEnd else { throw TZifError("unexpected text in TZ rule \"\(text)\"") }
        daylight = Daylight(offset: dstOffset, start: start, startTime: startTime, end: end, endTime: endTime)
    }

    private struct Parser {
        let bytes: [UInt8]
        var position = 0

        var atEnd: Bool { position >= bytes.count }
        var peek: UInt8? { atEnd ? nil : bytes[position] }

        mutating func expect(_ c: UInt8) throws(TZifError) {
            guard peek == c else { throw TZifError("malformed TZ rule \"\(String(decoding: bytes, as: UTF8.self))\"") }
            position += 1
        }

        /// A zone abbreviation: three or more letters, or `<...>`.
        mutating func name() throws(TZifError) {
            if peek == UInt8(ascii: "<") {
                guard let close = bytes[position...].firstIndex(of: UInt8(ascii: ">")) else {
                    throw TZifError("unterminated <...> name in TZ rule")
                }
                position = close + 1
                return
            }
            let start = position
            while let c = peek, (c | 0x20) >= UInt8(ascii: "a"), (c | 0x20) <= UInt8(ascii: "z") { position += 1 }
            guard position - start >= 3 else { throw TZifError("a TZ rule zone name has at least three letters") }
        }

        mutating func number(maxDigits: Int) throws(TZifError) -> Int64 {
            var value: Int64 = 0
            var digits = 0
            while let c = peek, c >= UInt8(ascii: "0"), c <= UInt8(ascii: "9"), digits < maxDigits {
                value = value * 10 + Int64(c - UInt8(ascii: "0"))
                position += 1
                digits += 1
            }
            guard digits > 0 else { throw TZifError("a number is missing in a TZ rule") }
            return value
        }

        /// `[+-]hh[:mm[:ss]]` in seconds (sign as written).
        mutating func offset(maxHours: Int64) throws(TZifError) -> Int64 {
            var sign: Int64 = 1
            if peek == UInt8(ascii: "+") {
                position += 1
            } else if peek == UInt8(ascii: "-") {
                sign = -1
                position += 1
            }
            let hours = try number(maxDigits: 3)
            guard hours <= maxHours else { throw TZifError("hour \(hours) is out of range in a TZ rule") }
            var seconds = hours * 3600
            if peek == UInt8(ascii: ":") {
                position += 1
                seconds += try number(maxDigits: 2) * 60
                if peek == UInt8(ascii: ":") {
                    position += 1
                    seconds += try number(maxDigits: 2)
                }
            }
            return sign * seconds
        }

        mutating func ruleDay() throws(TZifError) -> RuleDay {
            if peek == UInt8(ascii: "J") {
                position += 1
                let n = try number(maxDigits: 3)
                guard (1...365).contains(n) else { throw TZifError("J\(n) is out of range in a TZ rule") }
                return .julianNoLeap(Int(n))
            }
            if peek == UInt8(ascii: "M") {
                position += 1
                let m = try number(maxDigits: 2)
                try expect(UInt8(ascii: "."))
                let w = try number(maxDigits: 1)
                try expect(UInt8(ascii: "."))
                let d = try number(maxDigits: 1)
                guard (1...12).contains(m), (1...5).contains(w), (0...6).contains(d) else {
                    throw TZifError("M\(m).\(w).\(d) is out of range in a TZ rule")
                }
                return .monthWeekDay(month: Int(m), week: Int(w), weekday: Int(d))
            }
            let n = try number(maxDigits: 3)
            guard (0...365).contains(n) else { throw TZifError("day \(n) is out of range in a TZ rule") }
            return .zeroBased(Int(n))
        }
    }
}
