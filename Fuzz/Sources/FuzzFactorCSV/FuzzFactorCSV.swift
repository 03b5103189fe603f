import CarbonAccounting
import FuzzSupport

/// Factor CSV (native and the MEE annual layout), through both readers: never traps,
/// rows keep the rules, and every good row written back as CSV and NDJSON reads the same.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let text = fuzzText(data, size)
    let parsed = FactorFile.parse(text, format: .csv, dataset: "d", electricityMapsZone: nil, calendar: fuzzCalendar)
    checkFactorRows(parsed, dataset: "d")
    // An Electricity Maps header takes the other path; its rows are the other target's.
    if !parsed.rows.isEmpty && !text.hasPrefix("Datetime (UTC)") {
        checkReparses(nativeCSV(parsed.rows), format: .csv, to: parsed.rows, dataset: "d")
        checkReparses(ndjson(parsed.rows), format: .ndjson, to: parsed.rows, dataset: "d")
    }
    if let annual = try? AnnualFactorCSV.parse(text, dataset: "d", calendar: fuzzCalendar) {
        for row in annual {
            check(row.start < row.end && (0...100_000_000).contains(row.mgPerKWh), "a bad annual row: \(row)")
            check(!row.zone.isEmpty && row.dataset == "d", "an annual row without zone: \(row)")
        }
    }
    return 0
}
