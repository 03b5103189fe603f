import CarbonModel

/// Checks a parsed readings body: its bookkeeping, and that every good reading written
/// back as a JSON array, as NDJSON and as CSV parses to itself with the same leaf bytes.
public func checkReadings(_ batch: ParsedBatch<Reading>) {
    checkInvariants(batch)
    guard !batch.records.isEmpty else { return }
    let readings = batch.records
    for reading in readings {
        check(reading.leafBytes == reading.json.canonicalBytes(), "leafBytes differ from json.canonicalBytes()")
    }
    let json = Array(("[" + readings.map(\.json.canonicalString).joined(separator: ",") + "]").utf8)
    let ndjson = Array(readings.map(\.json.canonicalString).joined(separator: "\n").utf8)
    let header = "utility,meter,consumer,start,duration_s,import_wh,export_wh,quality,id"
    let rows = readings.map { r in
        csvRow([r.utility, r.meter, r.consumer, String(r.start), String(r.durationS), String(r.importWh),
                String(r.exportWh), r.quality.rawValue, r.id ?? ""])
    }
    let csv = Array(([header] + rows).joined(separator: "\r\n").utf8)
    for (format, body) in [(BodyFormat.json, json), (.ndjson, ndjson), (.csv, csv)] {
        let again = try? ReadingParser.parse(body, format: format, maxRecords: readings.count)
        check(again?.records == readings && again?.isClean == true, "readings do not survive a \(format) round trip")
        check(again?.records.map(\.leafBytes) == readings.map(\.leafBytes), "leaf bytes change in a \(format) round trip")
    }
}
