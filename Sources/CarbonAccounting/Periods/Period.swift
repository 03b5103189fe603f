import CarbonModel

/// A scoring period: a calendar month or day in the program time zone
/// (methodology section 6), written `2026-10` or `2026-10-15`.
public enum Period: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// A calendar month.
    case month(year: Int64, month: Int)
    /// A calendar day.
    case day(year: Int64, month: Int, day: Int)

    /// Whether a period is a month or a day.
    public enum Granularity: String, Sendable, Hashable, CaseIterable {
        /// Calendar months.
        case month
        /// Calendar days.
        case day
    }

    /// Parses `YYYY-MM` or `YYYY-MM-DD` (four-digit year, two-digit month and day);
    /// nil for anything else, including dates that do not exist.
    public init?(_ text: some StringProtocol) {
        let b = Array(text.utf8)
        func digits(_ from: Int, _ count: Int) -> Int? {
            var v = 0
            for i in from..<(from + count) {
                guard b[i] >= UInt8(ascii: "0"), b[i] <= UInt8(ascii: "9") else { return nil }
                v = v * 10 + Int(b[i] - UInt8(ascii: "0"))
            }
            return v
        }
        guard b.count == 7 || b.count == 10, let y = digits(0, 4), b[4] == UInt8(ascii: "-"), let m = digits(5, 2),
            (1...12).contains(m)
        else { return nil }
        if b.count == 7 {
            self = .month(year: Int64(y), month: m)
            return
        }
        guard b[7] == UInt8(ascii: "-"), let d = digits(8, 2),
            (1...Timestamp.daysInMonth(year: Int64(y), month: m)).contains(d)
        else { return nil }
        self = .day(year: Int64(y), month: m, day: d)
    }

    /// The period of `granularity` whose span contains `instant` in `calendar`
    /// ("a reading belongs to the period that contains its start").
    public static func containing(
        _ instant: Int64, granularity: Granularity, in calendar: some ProgramCalendar
    ) -> Period {
        let date = calendar.localDate(of: instant)
        var period: Period =
            switch granularity {
            case .month: .month(year: date.year, month: date.month)
            case .day: .day(year: date.year, month: date.month, day: date.day)
            }
        // Period bounds are where local time first reaches midnight; around a transition
        // that skips or repeats midnight the local date alone can be one period off.
        while instant < period.start(in: calendar) { period = period.previous }
        while instant >= period.end(in: calendar) { period = period.next }
        return period
    }

    /// Month or day.
    public var granularity: Granularity {
        switch self {
        case .month: .month
        case .day: .day
        }
    }

    /// The first calendar day of the period.
    public var firstDate: CivilDate {
        switch self {
        case .month(let y, let m): CivilDate(year: y, month: m, day: 1)
        case .day(let y, let m, let d): CivilDate(year: y, month: m, day: d)
        }
    }

    /// `days` of the method: the calendar days in the period.
    public var days: Int64 {
        switch self {
        case .month(let y, let m): Int64(Timestamp.daysInMonth(year: y, month: m))
        case .day: 1
        }
    }

    /// The first instant of the period (Unix seconds).
    public func start(in calendar: some ProgramCalendar) -> Int64 {
        calendar.start(of: firstDate)
    }

    /// The instant just after the period (the next period's start).
    public func end(in calendar: some ProgramCalendar) -> Int64 {
        next.start(in: calendar)
    }

    /// The following period of the same granularity.
    public var next: Period {
        switch self {
        case .month(let y, let m): m == 12 ? .month(year: y + 1, month: 1) : .month(year: y, month: m + 1)
        case .day:
            Period(date: CivilDate(daysSinceEpoch: firstDate.daysSinceEpoch + 1))
        }
    }

    /// The preceding period of the same granularity (`baseline = "previous"`).
    public var previous: Period {
        switch self {
        case .month(let y, let m): m == 1 ? .month(year: y - 1, month: 12) : .month(year: y, month: m - 1)
        case .day:
            Period(date: CivilDate(daysSinceEpoch: firstDate.daysSinceEpoch - 1))
        }
    }

    /// The same period one year earlier (`baseline = "year_ago"`). February 29 maps to
    /// February 28 of a common year.
    public var yearAgo: Period {
        switch self {
        case .month(let y, let m): .month(year: y - 1, month: m)
        case .day(let y, let m, let d):
            .day(year: y - 1, month: m, day: min(d, Timestamp.daysInMonth(year: y - 1, month: m)))
        }
    }

    private init(date: CivilDate) {
        self = .day(year: date.year, month: date.month, day: date.day)
    }

    /// `YYYY-MM` or `YYYY-MM-DD`.
    public var description: String {
        let date = firstDate.description
        switch self {
        case .month: return String(date.prefix(date.count - 3))
        case .day: return date
        }
    }

    /// Chronological, months before days when they start on the same date.
    public static func < (a: Period, b: Period) -> Bool {
        (a.firstDate, a.granularity == .month ? 0 : 1) < (b.firstDate, b.granularity == .month ? 0 : 1)
    }
}
