/// Figures as people read them: fixed decimals computed from the integers, rounded
/// half away from zero, no floating point. For sentences only; nothing is computed
/// from them.
enum DisplayNumber {
    /// `numerator / denominator` with `places` decimals. `denominator` must be positive.
    static func decimal(_ numerator: Int128, over denominator: Int128, places: Int) -> String {
        var unit: Int128 = 1
        for _ in 0..<places { unit *= 10 }
        let magnitude = numerator < 0 ? -numerator : numerator
        let (scaled, overflow) = magnitude.multipliedReportingOverflow(by: unit)
        // Beyond Int128 only for figures no reading gives; whole units are then enough.
        guard !overflow else { return (numerator < 0 ? "-" : "") + String(magnitude / denominator) }
        let rounded = (scaled + denominator / 2) / denominator
        let whole = String(rounded / unit)
        let sign = numerator < 0 && rounded != 0 ? "-" : ""
        guard places > 0 else { return sign + whole }
        let fraction = String(rounded % unit)
        return sign + whole + "." + String(repeating: "0", count: places - fraction.count) + fraction
    }

    /// Wh as kWh, 2 decimals.
    static func kWh(_ wh: Int64) -> String { decimal(Int128(wh), over: 1_000, places: 2) }

    /// Wh over `days` as kWh a day, 2 decimals.
    static func kWhPerDay(_ wh: Int64, days: Int64) -> String {
        decimal(Int128(wh), over: 1_000 * Int128(days), places: 2)
    }

    /// ug CO2e as kg, 2 decimals.
    static func kg(_ ug: Int64) -> String { decimal(Int128(ug), over: 1_000_000_000, places: 2) }

    /// mg per kWh as g per kWh, 1 decimal.
    static func gramsPerKWh(_ mg: Int128) -> String { decimal(mg, over: 1_000, places: 1) }

    /// Thousandths as a ratio, 3 decimals (exact): 850 -> "0.850".
    static func ratio(_ milli: Int64) -> String { decimal(Int128(milli), over: 1_000, places: 3) }

    /// Thousandths as a percentage, 1 decimal (exact): 50 -> "5.0".
    static func percent(_ milli: Int64) -> String { decimal(Int128(milli), over: 10, places: 1) }
}
