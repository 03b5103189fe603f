/// Which emission factor: the grid average (location-based) or the residual mix
/// (market-based; MEE's "excluding market-traded non-fossil" factor).
public enum FactorKind: String, Sendable, Hashable, CaseIterable, Comparable {
    /// The grid average (location-based).
    case average
    /// The residual mix (market-based).
    case residual

    public static func < (a: FactorKind, b: FactorKind) -> Bool { a.rawValue < b.rawValue }
}

/// One emission factor of one zone over `[start, end)` (methodology section 2).
///
/// A row whose span is exactly one calendar year of the program time zone is an
/// annual row for that year; every other row is sub-annual (an hourly series, for
/// instance) and covers its own `[start, end)`.
public struct FactorRow: Sendable, Hashable {
    /// The zone of the zone tree the factor is for.
    public var zone: String
    /// Average or residual.
    public var kind: FactorKind
    /// First instant covered (Unix seconds).
    public var start: Int64
    /// First instant no longer covered (Unix seconds).
    public var end: Int64
    /// The factor, mg CO2e per kWh (= ug per Wh).
    public var mgPerKWh: Int64
    /// Where the figure comes from (`electricitymaps:CN-ZJ`, an MEE announcement).
    public var source: String
    /// The name of the dataset the row was loaded with (`cn-mee-annual`).
    public var dataset: String

    /// A row with the given fields.
    public init(
        zone: String, kind: FactorKind, start: Int64, end: Int64, mgPerKWh: Int64, source: String, dataset: String
    ) {
        self.zone = zone
        self.kind = kind
        self.start = start
        self.end = end
        self.mgPerKWh = mgPerKWh
        self.source = source
        self.dataset = dataset
    }

    /// The annual row for `year`: `[Y-01-01T00:00, (Y+1)-01-01T00:00)` in `calendar`.
    public static func annual(
        zone: String, kind: FactorKind, year: Int64, mgPerKWh: Int64, source: String, dataset: String,
        calendar: some ProgramCalendar
    ) -> FactorRow {
        FactorRow(
            zone: zone, kind: kind, start: calendar.startOfYear(year), end: calendar.startOfYear(year + 1),
            mgPerKWh: mgPerKWh, source: source, dataset: dataset)
    }
}
