import CarbonModel
import FuzzSupport

/// A readings body as CSV: never traps; the batch keeps its bookkeeping, and every good
/// reading survives being written back in each format.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let body = UnsafeRawBufferPointer(start: data, count: size)
    guard let batch = try? ReadingParser.parse(body, format: .csv, maxRecords: 100) else { return 0 }
    check(batch.count <= 100, "more records than maxRecords")
    checkReadings(batch)
    return 0
}
