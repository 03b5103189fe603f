import CarbonModel
import FuzzSupport

/// A consumers body as CSV (the form `carbonctl consumers add` sends): never traps; the
/// batch keeps its bookkeeping, and every good consumer survives a JSON and a CSV round trip.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let body = UnsafeRawBufferPointer(start: data, count: size)
    guard let batch = try? ConsumerParser.parse(body, format: .csv, maxRecords: 100) else { return 0 }
    check(batch.count <= 100, "more records than maxRecords")
    checkConsumers(batch)
    return 0
}
