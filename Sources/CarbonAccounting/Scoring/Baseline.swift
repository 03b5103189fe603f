/// Which period R compares with.
public enum BaselineMode: String, Sendable, Hashable, CaseIterable {
    /// The previous period of the same kind (default).
    case previous
    /// The same period one year earlier.
    case yearAgo = "year_ago"

    /// The baseline period of `period`.
    public func baselinePeriod(of period: Period) -> Period {
        switch self {
        case .previous: period.previous
        case .yearAgo: period.yearAgo
        }
    }
}

/// A consumer's figures in its baseline period.
public struct BaselineFigures: Sendable, Hashable {
    /// `energy_b`, Wh.
    public var energyWh: Int64
    /// `loc_b`, ug.
    public var locUg: Int64

    /// Figures with the given values.
    public init(energyWh: Int64, locUg: Int64) {
        self.energyWh = energyWh
        self.locUg = locUg
    }
}
