import CarbonAccounting
import CarbonModel

/// The program calendar the factor targets use (China's fixed UTC+08:00).
public let fuzzCalendar = FixedOffsetCalendar(offsetSeconds: 8 * 3600)

/// Checks what a factor file gave: bookkeeping, and every row within the rules.
public func checkFactorRows(_ parsed: FactorFile.Parsed, dataset: String) {
    checkIndexes(rows: parsed.rows.count, recordIndex: parsed.recordIndex, errors: parsed.errors)
    for row in parsed.rows { checkFactorRow(row, dataset: dataset) }
}

/// One row within the rules every layout shares.
public func checkFactorRow(_ row: FactorRow, dataset: String) {
    check(row.start < row.end, "a row ends before it starts: \(row)")
    check((0...100_000_000).contains(row.mgPerKWh), "mg_per_kwh out of range: \(row)")
    check(!row.zone.isEmpty && !row.source.isEmpty, "a row without zone or source: \(row)")
    check(row.dataset == dataset, "a row of another dataset: \(row)")
}

/// The rows as native NDJSON, one object a line with integer times.
public func ndjson(_ rows: [FactorRow]) -> String {
    rows.map { row in
        JSONValue.object([
            "zone": .string(row.zone), "kind": .string(row.kind.rawValue), "start": .int(row.start),
            "end": .int(row.end), "mg_per_kwh": .int(row.mgPerKWh), "source": .string(row.source),
        ]).canonicalString
    }.joined(separator: "\n")
}

/// The rows as native CSV; times as Unix seconds, or RFC 3339 before 1970 (no sign in digits).
public func nativeCSV(_ rows: [FactorRow]) -> String {
    func time(_ t: Int64) -> String { t >= 0 ? String(t) : Timestamp.format(t) }
    return (["zone,kind,start,end,mg_per_kwh,source"] + rows.map { row in
        csvRow([row.zone, row.kind.rawValue, time(row.start), time(row.end), String(row.mgPerKWh), row.source], byCharacter: true)
    }).joined(separator: "\n")
}

/// Parses `text` again and checks it gives exactly `rows`, without errors.
public func checkReparses(_ text: String, format: FactorFile.Format, zone: String? = nil, to rows: [FactorRow], dataset: String) {
    let again = FactorFile.parse(text, format: format, dataset: dataset, electricityMapsZone: zone, calendar: fuzzCalendar)
    check(again.errors.isEmpty, "rows written back are refused: \(again.errors.first.map(String.init(describing:)) ?? "")")
    check(again.rows == rows, "rows change when written back as \(format)")
}
