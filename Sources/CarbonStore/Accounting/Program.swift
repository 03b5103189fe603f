import CarbonAccounting
import CarbonModel

/// The incentive program the store accounts for: its time zone, the kind of period it
/// scores and closes, and the parameters of `cl-score/1`.
public struct Program: Sendable {
    /// The program time zone: periods, steps and annual factor rows are read in it.
    public var calendar: any ProgramCalendar
    /// Months (the default) or days: the periods that are closed and scored.
    public var granularity: Period.Granularity
    /// The method's parameters, recorded in every `period` entry.
    public var parameters: ProgramParameters

    public init(
        calendar: any ProgramCalendar = FixedOffsetCalendar(offsetSeconds: 8 * 3_600, identifier: "Etc/GMT-8"),
        granularity: Period.Granularity = .month, parameters: ProgramParameters = ProgramParameters()
    ) {
        self.calendar = calendar
        self.granularity = granularity
        self.parameters = parameters
    }

    /// The scored period that contains `instant`.
    public func period(containing instant: Int64) -> Period {
        Period.containing(instant, granularity: granularity, in: calendar)
    }

    /// `[start, end)` of `period` in Unix seconds.
    public func span(of period: Period) -> (start: Int64, end: Int64) {
        (period.start(in: calendar), period.end(in: calendar))
    }
}
