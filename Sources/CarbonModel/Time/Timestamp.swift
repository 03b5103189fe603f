/// Times as the interface writes them: RFC 3339 with an offset, or Unix seconds.
/// Pure civil-calendar arithmetic (proleptic Gregorian, no leap seconds), no clock
/// and no time-zone database.
public enum Timestamp {
    /// Unix seconds from RFC 3339 text with an offset or from all-digit Unix seconds;
    /// nil when the text is neither.
    ///
    /// Accepted: `2026-10-01T00:00:00+08:00`, `2026-09-30T16:00:00Z`, `t`/`z` in lower
    /// case, a space instead of `T` (RFC 3339 section 5.6 note), a fraction of seconds
    /// only when it is all zeros (`00:00:00.000Z`: readings are whole seconds), offsets
    /// `-00:00` ... `+23:59`; `1790812800` (digits only, no sign, no leading zeros).
    /// Refused: a missing offset, month 13, February 30, hour 24, second 60 (a leap
    /// second has no Unix time), and any instant outside `supportedRange`.
    public static func parse(_ text: some StringProtocol) -> Int64? {
        let result = text.utf8.withContiguousStorageIfAvailable { buffer in
            try? check(UnsafeRawBufferPointer(buffer)).get()
        }
        if let result { return result }
        return Array(text.utf8).withUnsafeBytes { try? check($0).get() }
    }

    /// The instants a parsed time may name: the UTC years 0000 to 9999, as RFC 3339
    /// writes them. Bounding every time that comes from outside here keeps all the
    /// civil-time arithmetic done on it (offsets, days, periods) far from Int64's ends.
    public static let supportedRange: ClosedRange<Int64> = -62_167_219_200...253_402_300_799

    /// RFC 3339 in UTC with whole seconds: `2026-10-01T00:00:00Z`. Years outside
    /// 0000...9999 are written with as many digits as needed and a `-` when negative.
    public static func format(_ unix: Int64) -> String {
        let (days, secondOfDay) = floorDivide(unix, 86_400)
        let date = civil(fromDays: days)
        var out: [UInt8] = []
        out.reserveCapacity(20)
        if date.year < 0 { out.append(UInt8(ascii: "-")) }
        let year = String(date.year.magnitude)
        out.append(contentsOf: repeatElement(UInt8(ascii: "0"), count: max(0, 4 - year.utf8.count)))
        out.append(contentsOf: year.utf8)
        appendTwoDigits(date.month, separator: "-", to: &out)
        appendTwoDigits(date.day, separator: "-", to: &out)
        appendTwoDigits(Int(secondOfDay / 3600), separator: "T", to: &out)
        appendTwoDigits(Int(secondOfDay / 60 % 60), separator: ":", to: &out)
        appendTwoDigits(Int(secondOfDay % 60), separator: ":", to: &out)
        out.append(UInt8(ascii: "Z"))
        return String(decoding: out, as: UTF8.self)
    }

    /// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's
    /// `days_from_civil`). The date is not checked: use `daysInMonth` first.
    public static func days(year: Int64, month: Int, day: Int) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let m = Int64(month)
        let dayOfYear = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + Int64(day) - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    /// The proleptic Gregorian date of a day counted from 1970-01-01 (`civil_from_days`).
    public static func civil(fromDays days: Int64) -> (year: Int64, month: Int, day: Int) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let mp = (5 * dayOfYear + 2) / 153
        let day = Int(dayOfYear - (153 * mp + 2) / 5 + 1)
        let month = Int(mp < 10 ? mp + 3 : mp - 9)
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    /// Whether `year` is a Gregorian leap year.
    public static func isLeapYear(_ year: Int64) -> Bool {
        year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
    }

    /// The number of days in `month` (1...12) of `year`.
    public static func daysInMonth(year: Int64, month: Int) -> Int {
        switch month {
        case 2: isLeapYear(year) ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    // MARK: Parsing with reasons

    /// Why a text is not a time; `reason` completes "start must be ..., got X (reason)".
    enum Problem: Error, Equatable {
        case notATime
        case missingOffset
        case badOffset
        case month(Int)
        case day(year: Int64, month: Int, day: Int)
        case hour(Int)
        case minute(Int)
        case leapSecond
        case second(Int)
        case nonZeroFraction
        case leadingZero
        case outOfRange
        case beyondSupportedYears

        var reason: String {
            switch self {
            case .notATime: "not RFC 3339 (YYYY-MM-DDTHH:MM:SS+HH:MM) nor Unix seconds"
            case .missingOffset: "the UTC offset is missing: end it with Z or an offset such as +08:00"
            case .badOffset: "the UTC offset must be Z or +HH:MM / -HH:MM with HH up to 23 and MM up to 59"
            case .month(let m): "there is no month \(m)"
            case .day(let y, let m, let d): "\(y)-\(m < 10 ? "0" : "")\(m) has no day \(d)"
            case .hour(let h): "hour \(h) does not exist (00 to 23)"
            case .minute(let m): "minute \(m) does not exist (00 to 59)"
            case .leapSecond: "second 60 (a leap second) has no Unix time"
            case .second(let s): "second \(s) does not exist (00 to 59)"
            case .nonZeroFraction: "readings are whole seconds, so a fraction of a second must be zero"
            case .leadingZero: "Unix seconds are written without leading zeros"
            case .outOfRange: "the number is too large for Unix seconds"
            case .beyondSupportedYears: "times must lie in the UTC years 0000 to 9999"
            }
        }
    }

    /// Unix seconds of `text`, or why it is not a time.
    static func check(_ text: UnsafeRawBufferPointer) -> Result<Int64, Problem> {
        guard !text.isEmpty else { return .failure(.notATime) }
        if text.allSatisfy(IntegerText.isDigit) {
            switch IntegerText.parse(text) {
            case .value(let v): return supportedRange.contains(v) ? .success(v) : .failure(.beyondSupportedYears)
            case .leadingZero: return .failure(.leadingZero)
            default: return .failure(.outOfRange)
            }
        }
        return checkRFC3339(text)
    }

    private static func checkRFC3339(_ t: UnsafeRawBufferPointer) -> Result<Int64, Problem> {
        // YYYY-MM-DDTHH:MM:SS is 19 bytes; an offset follows.
        guard t.count >= 19,
            let year = digits(t, 0, 4), t[4] == UInt8(ascii: "-"),
            let month = digits(t, 5, 2), t[7] == UInt8(ascii: "-"),
            let day = digits(t, 8, 2),
            t[10] == UInt8(ascii: "T") || t[10] == UInt8(ascii: "t") || t[10] == UInt8(ascii: " "),
            let hour = digits(t, 11, 2), t[13] == UInt8(ascii: ":"),
            let minute = digits(t, 14, 2), t[16] == UInt8(ascii: ":"),
            let second = digits(t, 17, 2)
        else { return .failure(.notATime) }
        var i = 19
        if i < t.count && t[i] == UInt8(ascii: ".") {
            i += 1
            let fractionStart = i
            var allZero = true
            while i < t.count && IntegerText.isDigit(t[i]) {
                if t[i] != UInt8(ascii: "0") { allZero = false }
                i += 1
            }
            guard i > fractionStart else { return .failure(.notATime) }
            if !allZero { return .failure(.nonZeroFraction) }
        }
        guard i < t.count else { return .failure(.missingOffset) }
        let offsetSeconds: Int64
        switch t[i] {
        case UInt8(ascii: "Z"), UInt8(ascii: "z"):
            guard i + 1 == t.count else { return .failure(.badOffset) }
            offsetSeconds = 0
        case UInt8(ascii: "+"), UInt8(ascii: "-"):
            guard i + 6 == t.count, let oh = digits(t, i + 1, 2), t[i + 3] == UInt8(ascii: ":"),
                let om = digits(t, i + 4, 2), oh <= 23, om <= 59
            else { return .failure(.badOffset) }
            let magnitude = Int64(oh * 3600 + om * 60)
            offsetSeconds = t[i] == UInt8(ascii: "-") ? -magnitude : magnitude
        default:
            return .failure(.badOffset)
        }
        let y = Int64(year)
        guard (1...12).contains(month) else { return .failure(.month(month)) }
        guard (1...daysInMonth(year: y, month: month)).contains(day) else {
            return .failure(.day(year: y, month: month, day: day))
        }
        guard hour <= 23 else { return .failure(.hour(hour)) }
        guard minute <= 59 else { return .failure(.minute(minute)) }
        guard second != 60 else { return .failure(.leapSecond) }
        guard second <= 59 else { return .failure(.second(second)) }
        let local = days(year: y, month: month, day: day) * 86_400 + Int64(hour * 3600 + minute * 60 + second)
        let instant = local - offsetSeconds
        return supportedRange.contains(instant) ? .success(instant) : .failure(.beyondSupportedYears)
    }

    /// `count` decimal digits at `offset`.
    private static func digits(_ t: UnsafeRawBufferPointer, _ offset: Int, _ count: Int) -> Int? {
        var value = 0
        for k in offset..<(offset + count) {
            guard IntegerText.isDigit(t[k]) else { return nil }
            value = value * 10 + Int(t[k] - UInt8(ascii: "0"))
        }
        return value
    }

    private static func appendTwoDigits(_ value: Int, separator: Unicode.Scalar, to out: inout [UInt8]) {
        out.append(UInt8(ascii: separator))
        out.append(UInt8(truncatingIfNeeded: value / 10) + UInt8(ascii: "0"))
        out.append(UInt8(truncatingIfNeeded: value % 10) + UInt8(ascii: "0"))
    }

    /// Quotient rounded toward minus infinity, and the remainder that goes with it.
    static func floorDivide(_ a: Int64, _ b: Int64) -> (quotient: Int64, remainder: Int64) {
        let q = a / b
        let r = a % b
        return r < 0 ? (q - 1, r + b) : (q, r)
    }
}
