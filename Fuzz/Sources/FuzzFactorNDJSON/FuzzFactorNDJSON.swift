import CarbonAccounting
import FuzzSupport

/// Factor NDJSON: never traps, rows keep the rules, and every good row written back as
/// NDJSON reads the same.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let text = fuzzText(data, size)
    let parsed = FactorFile.parse(text, format: .ndjson, dataset: "d", electricityMapsZone: nil, calendar: fuzzCalendar)
    checkFactorRows(parsed, dataset: "d")
    if !parsed.rows.isEmpty {
        checkReparses(ndjson(parsed.rows), format: .ndjson, to: parsed.rows, dataset: "d")
    }
    return 0
}
