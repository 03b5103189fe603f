/// A step of factor resolution (methodology section 3): the sub-annual rows of a zone,
/// or its annual row of one year.
public struct FactorStep: Sendable, Hashable, CustomStringConvertible {
    /// The zone looked at.
    public var zone: String
    /// The kind looked for.
    public var kind: FactorKind
    /// The year of the annual row looked for; nil for the zone's sub-annual rows.
    public var year: Int64?

    /// A step with the given fields.
    public init(zone: String, kind: FactorKind, year: Int64?) {
        self.zone = zone
        self.kind = kind
        self.year = year
    }

    /// `CN-ZJ average 2022` or `CN-ZJ average sub-annual`.
    public var description: String {
        "\(zone) \(kind.rawValue) \(year.map { String($0) } ?? "sub-annual")"
    }
}

/// The factor that applies to a zone at an instant, and how it was found.
public struct FactorResolution: Sendable, Hashable {
    /// The factor, mg CO2e per kWh.
    public var mgPerKWh: Int64 { row.mgPerKWh }
    /// The row that supplied it (its `dataset` names the dataset).
    public var row: FactorRow
    /// The row's position in `FactorSet.rows`.
    public var rowIndex: Int
    /// True when a residual factor was asked for, none exists, and the average
    /// factor is used instead (the score is flagged `residual_fallback`).
    public var residualFallback: Bool
    /// Every step tried, in order, the last one being the one that found `row`.
    public var path: [FactorStep]

    /// The dataset that supplied the factor.
    public var dataset: String { row.dataset }
}
