/// A consumer's sums over its readings of one period (methodology section 6).
public struct ConsumerTotals: Sendable, Hashable {
    /// `energy_wh`: imported energy.
    public var energyWh: Int64 = 0
    /// `export_wh`: exported energy (reported, never netted).
    public var exportWh: Int64 = 0
    /// `loc_ug`: location-based emissions.
    public var locUg: Int64 = 0
    /// `mkt_ug`: market-based emissions.
    public var mktUg: Int64 = 0
    /// `matched_wh`: energy matched with certificates.
    public var matchedWh: Int64 = 0
    /// `estimated_wh`: import of readings of quality `estimated`.
    public var estimatedWh: Int64 = 0
    /// Whether a residual factor was missing and the average one used.
    public var residualFallback = false

    /// Totals with the given values.
    public init(
        energyWh: Int64 = 0, exportWh: Int64 = 0, locUg: Int64 = 0, mktUg: Int64 = 0, matchedWh: Int64 = 0,
        estimatedWh: Int64 = 0, residualFallback: Bool = false
    ) {
        self.energyWh = energyWh
        self.exportWh = exportWh
        self.locUg = locUg
        self.mktUg = mktUg
        self.matchedWh = matchedWh
        self.estimatedWh = estimatedWh
        self.residualFallback = residualFallback
    }
}
