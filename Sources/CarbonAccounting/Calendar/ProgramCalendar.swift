import CarbonModel

/// The program time zone (methodology section 2): periods are calendar days and months
/// in it, and annual factor rows cover its calendar years.
///
/// A conformance answers two questions about UTC offsets; every civil-time question the
/// method asks is derived from them here, the same way for every conformance. The module
/// ships `FixedOffsetCalendar` (tests, zones without transitions) and `TZifCalendar`
/// (an IANA zone from its compiled TZif bytes). A shell that prefers Foundation's
/// `TimeZone` can conform in a few lines with `secondsFromGMT(for:)` and
/// `nextDaylightSavingTimeTransition(after:)`.
public protocol ProgramCalendar: Sendable {
    /// The zone's name as the program parameters record it, e.g. `Asia/Shanghai`.
    var identifier: String { get }

    /// Seconds east of UTC in force at `instant` (Unix seconds).
    func utcOffset(at instant: Int64) -> Int64

    /// The first instant after `instant` at which the offset may change; nil when it
    /// never changes again. Returning an instant where it does not change is harmless.
    func nextOffsetChange(after instant: Int64) -> Int64?
}

/// A proleptic Gregorian calendar date.
public struct CivilDate: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// The year (may be negative; the method only meets 0000...9999).
    public var year: Int64
    /// The month, 1...12.
    public var month: Int
    /// The day of the month, 1...31.
    public var day: Int

    /// The date with the given fields (not checked).
    public init(year: Int64, month: Int, day: Int) {
        self.year = year
        self.month = month
        self.day = day
    }

    /// The date `days` days after 1970-01-01.
    public init(daysSinceEpoch days: Int64) {
        let civil = Timestamp.civil(fromDays: days)
        self.init(year: civil.year, month: civil.month, day: civil.day)
    }

    /// Days from 1970-01-01 to this date.
    public var daysSinceEpoch: Int64 { Timestamp.days(year: year, month: month, day: day) }

    /// Whether month and day exist (`2023-02-29` does not).
    public var isValid: Bool {
        (1...12).contains(month) && (1...Timestamp.daysInMonth(year: year, month: month)).contains(day)
    }

    public static func < (a: CivilDate, b: CivilDate) -> Bool {
        (a.year, a.month, a.day) < (b.year, b.month, b.day)
    }

    /// `YYYY-MM-DD`.
    public var description: String {
        let y = String(year.magnitude)
        let yy = (year < 0 ? "-" : "") + String(repeating: "0", count: max(0, 4 - y.count)) + y
        return yy + "-" + (month < 10 ? "0" : "") + String(month) + "-" + (day < 10 ? "0" : "") + String(day)
    }
}

/// The widest UTC offset a calendar may use (two days); real ones stay within ±26 h.
let maximumOffsetSeconds: Int64 = 172_800

extension ProgramCalendar {
    /// The local wall-clock time of `instant`, as seconds since 1970-01-01T00:00 local.
    public func localSeconds(of instant: Int64) -> Int64 {
        instant + utcOffset(at: instant)
    }

    /// The local calendar date of `instant`.
    public func localDate(of instant: Int64) -> CivilDate {
        CivilDate(daysSinceEpoch: IntegerMath.floorDiv(localSeconds(of: instant), 86_400))
    }

    /// The local calendar year of `instant` ("the year of t", methodology section 3).
    public func year(of instant: Int64) -> Int64 {
        localDate(of: instant).year
    }

    /// The instant at which `date` begins: the first instant whose local time reaches
    /// the date's midnight. Where a transition skips midnight, that is the transition.
    public func start(of date: CivilDate) -> Int64 {
        let midnight = date.daysSinceEpoch * 86_400
        // Walk the constant-offset stretches from well before the answer: in a stretch
        // [a, next) with offset o the local time t + o reaches `midnight` at
        // t = midnight - o; the first stretch where that lies inside gives the answer.
        var a = midnight - maximumOffsetSeconds
        var offset = utcOffset(at: a)
        while true {
            let candidate = max(a, midnight - offset)
            guard let next = nextOffsetChange(after: a), next > a, next <= candidate else { return candidate }
            a = next
            offset = utcOffset(at: a)
        }
    }

    /// The instant at which local year `year` begins (Y-01-01T00:00 local).
    public func startOfYear(_ year: Int64) -> Int64 {
        start(of: CivilDate(year: year, month: 1, day: 1))
    }
}
