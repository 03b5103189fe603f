/// A time zone that is always a fixed offset from UTC (`UTC+08:00`).
public struct FixedOffsetCalendar: ProgramCalendar, Equatable {
    /// Seconds east of UTC.
    public let offsetSeconds: Int64
    /// The name recorded in the program parameters.
    public let identifier: String

    /// The zone `offsetSeconds` east of UTC; `identifier` defaults to `UTC+HH:MM`.
    public init(offsetSeconds: Int64, identifier: String? = nil) {
        precondition(abs(offsetSeconds) < maximumOffsetSeconds, "a UTC offset is less than two days")
        self.offsetSeconds = offsetSeconds
        if let identifier {
            self.identifier = identifier
        } else {
            let m = abs(offsetSeconds) / 60
            let hh = m / 60
            let mm = m % 60
            self.identifier =
                "UTC" + (offsetSeconds < 0 ? "-" : "+") + (hh < 10 ? "0" : "") + String(hh) + ":"
                + (mm < 10 ? "0" : "") + String(mm)
        }
    }

    /// UTC itself.
    public static let utc = FixedOffsetCalendar(offsetSeconds: 0, identifier: "UTC")

    public func utcOffset(at instant: Int64) -> Int64 { offsetSeconds }

    public func nextOffsetChange(after instant: Int64) -> Int64? { nil }
}
