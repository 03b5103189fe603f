import CarbonAccounting
import CarbonModel
import FuzzSupport

/// The Electricity Maps hourly CSV export: never traps; every row is one hour of
/// `average` for the requested zone, and written back as an export it reads the same.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let text = fuzzText(data, size)
    let parsed = FactorFile.parse(text, format: .csv, dataset: "em", electricityMapsZone: "CN-ZJ", calendar: fuzzCalendar)
    checkFactorRows(parsed, dataset: "em")
    guard text.hasPrefix("Datetime (UTC)"), !parsed.rows.isEmpty else { return 0 }
    let prefix = "electricitymaps:"
    var export = ["Datetime (UTC),Zone Id,Carbon Intensity gCO₂eq/kWh (direct)"]
    for row in parsed.rows {
        check(row.end == row.start + 3600 && row.kind == .average && row.zone == "CN-ZJ", "not an hour of average: \(row)")
        check(row.source.hasPrefix(prefix), "source without \(prefix): \(row)")
        let fraction = String(row.mgPerKWh % 1000)
        let grams = "\(row.mgPerKWh / 1000).\(String(repeating: "0", count: 3 - fraction.count))\(fraction)"
        check(FactorFile.milligrams(fromGrams: grams) == row.mgPerKWh, "\(grams) g/kWh does not read back")
        let datetime = String(Timestamp.format(row.start).dropLast())  // the export has no "Z"
        export.append(csvRow([datetime, String(row.source.dropFirst(prefix.count)), grams], byCharacter: true))
    }
    checkReparses(export.joined(separator: "\r\n"), format: .csv, zone: "CN-ZJ", to: parsed.rows, dataset: "em")
    return 0
}
