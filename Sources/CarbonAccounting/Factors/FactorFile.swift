import CarbonModel

/// A factor dataset sent to `POST /v1/factors`, in one of three layouts:
///
/// - native CSV, header `zone,kind,start,end,mg_per_kwh,source` (start and end as Unix
///   seconds or RFC 3339 with an offset) or the annual layout of the bundled files,
///   `zone,kind,year,mg_per_kwh,source[,confidence]`;
/// - native NDJSON, one object a line with the same fields;
/// - the Electricity Maps hourly CSV export (both header versions): rows of kind
///   `average` for the zone given with the request, `start` = `Datetime (UTC)`,
///   `end` = start + 1 h, the "direct" intensity converted exactly from g to mg per
///   kWh (at most 3 decimals), `source` = `electricitymaps:<Zone Id>`.
///
/// Every bad row is reported, with its 0-based index (the first row after a header is 0).
public enum FactorFile {
    public enum Format: Sendable { case csv, ndjson }

    /// What a file held.
    public struct Parsed: Sendable {
        public var rows: [FactorRow] = []
        /// The 0-based record index of each row.
        public var recordIndex: [Int] = []
        public var errors: [RecordError] = []

        mutating func append(_ row: FactorRow, index: Int) {
            rows.append(row)
            recordIndex.append(index)
        }
    }

    public static func parse(
        _ text: String, format: Format, dataset: String, electricityMapsZone: String?, calendar: some ProgramCalendar
    ) -> Parsed {
        switch format {
        case .ndjson: return parseNDJSON(text, dataset: dataset, calendar: calendar)
        case .csv:
            var lines = text.split(omittingEmptySubsequences: true) { $0 == "\n" || $0 == "\r\n" }.map(String.init)
            guard !lines.isEmpty else { return Parsed(errors: [RecordError(index: 0, field: "", message: "the file is empty")]) }
            let header = cells(of: lines.removeFirst())
            if header.first == "Datetime (UTC)" {
                return parseElectricityMaps(header: header, lines: lines, dataset: dataset, zone: electricityMapsZone)
            }
            return parseNativeCSV(header: header, lines: lines, dataset: dataset, calendar: calendar)
        }
    }

    // MARK: Native

    private static func parseNativeCSV(header: [String], lines: [String], dataset: String, calendar: some ProgramCalendar) -> Parsed {
        let known: Set<String> = ["zone", "kind", "start", "end", "year", "mg_per_kwh", "source", "confidence"]
        var parsed = Parsed()
        if let unknown = header.first(where: { !known.contains($0) }) {
            parsed.errors.append(RecordError(index: 0, field: unknown, message: "unknown column \"\(unknown)\""))
            return parsed
        }
        for (index, line) in lines.enumerated() {
            guard let values = cells(of: line, index: index, header: header, into: &parsed) else { continue }
            var fields: [String: Field] = [:]
            for (name, value) in zip(header, values) where !value.isEmpty && name != "confidence" { fields[name] = .text(value) }
            record(fields, index: index, dataset: dataset, calendar: calendar, into: &parsed)
        }
        return parsed
    }

    private static func parseNDJSON(_ text: String, dataset: String, calendar: some ProgramCalendar) -> Parsed {
        var parsed = Parsed()
        let lines = text.split(omittingEmptySubsequences: true) { $0 == "\n" || $0 == "\r\n" }
            .filter { !$0.allSatisfy(\.isWhitespace) }
        for (index, line) in lines.enumerated() {
            guard case .object(let object)? = try? JSONValue.parse(String(line)) else {
                parsed.errors.append(RecordError(index: index, field: "", message: "the line is not a JSON object"))
                continue
            }
            var fields: [String: Field] = [:]
            for (name, value) in object {
                switch value {
                case .string(let text): fields[name] = .text(text)
                case .int(let number): fields[name] = .number(number)
                case .null: break
                default: fields[name] = .text("\(value)")
                }
            }
            record(fields, index: index, dataset: dataset, calendar: calendar, into: &parsed)
        }
        return parsed
    }

    private enum Field {
        case text(String)
        case number(Int64)

        var integer: Int64? {
            switch self {
            case .number(let value): value
            case .text(let text): Int64(text)
            }
        }

        var instant: Int64? {
            switch self {
            case .number(let value): value
            case .text(let text): Timestamp.parse(text)
            }
        }

        var text: String {
            switch self {
            case .number(let value): String(value)
            case .text(let text): text
            }
        }
    }

    /// One native row from its fields; every problem of the row is reported.
    private static func record(
        _ fields: [String: Field], index: Int, dataset: String, calendar: some ProgramCalendar, into parsed: inout Parsed
    ) {
        var problems: [(String, String)] = []
        for name in fields.keys where !["zone", "kind", "start", "end", "year", "mg_per_kwh", "source"].contains(name) {
            problems.append((name, "unknown field \"\(name)\""))
        }
        let zone = fields["zone"]?.text ?? ""
        if zone.isEmpty { problems.append(("zone", "zone is required")) }
        let kind = fields["kind"].flatMap { FactorKind(rawValue: $0.text) }
        if kind == nil { problems.append(("kind", "kind must be average or residual")) }
        let mg = fields["mg_per_kwh"]?.integer
        if mg == nil || !(0...100_000_000).contains(mg!) {
            problems.append(("mg_per_kwh", "mg_per_kwh must be an integer from 0 to 100000000"))
        }
        let source = fields["source"]?.text ?? ""
        if source.isEmpty { problems.append(("source", "source is required")) }
        var span: (start: Int64, end: Int64)?
        if let year = fields["year"] {
            if fields["start"] != nil || fields["end"] != nil {
                problems.append(("year", "give either year or start and end, not both"))
            } else if let y = year.integer, (1900...2200).contains(y) {
                span = (calendar.startOfYear(y), calendar.startOfYear(y + 1))
            } else {
                problems.append(("year", "year must be a year from 1900 to 2200"))
            }
        } else {
            let start = fields["start"]?.instant
            let end = fields["end"]?.instant
            if start == nil { problems.append(("start", "start must be Unix seconds or RFC 3339 with an offset")) }
            if end == nil { problems.append(("end", "end must be Unix seconds or RFC 3339 with an offset")) }
            if let start, let end {
                if end > start { span = (start, end) } else { problems.append(("end", "end must be after start")) }
            }
        }
        guard problems.isEmpty, let kind, let mg, let span else {
            parsed.errors.append(RecordError(
                index: index, field: problems.first?.0 ?? "", message: problems.map(\.1).joined(separator: "; ")))
            return
        }
        parsed.append(FactorRow(
            zone: zone, kind: kind, start: span.start, end: span.end, mgPerKWh: mg, source: source, dataset: dataset),
            index: index)
    }

    // MARK: Electricity Maps

    private static func parseElectricityMaps(header: [String], lines: [String], dataset: String, zone: String?) -> Parsed {
        var parsed = Parsed()
        guard let zone, !zone.isEmpty else {
            parsed.errors.append(RecordError(
                index: 0, field: "zone", message: "an Electricity Maps export needs the carbonledger zone: add ?zone="))
            return parsed
        }
        guard let direct = header.firstIndex(where: { $0.lowercased().contains("(direct)") }),
            let zoneID = header.firstIndex(where: { $0.lowercased() == "zone id" })
        else {
            parsed.errors.append(RecordError(
                index: 0, field: "", message: "the export has no \"Zone Id\" or no \"(direct)\" intensity column"))
            return parsed
        }
        for (index, line) in lines.enumerated() {
            guard let values = cells(of: line, index: index, header: header, into: &parsed) else { continue }
            guard let start = Timestamp.parse(values[0] + "Z") else {
                parsed.errors.append(RecordError(
                    index: index, field: header[0], message: "\"\(values[0])\" is not a UTC date and time"))
                continue
            }
            guard let mg = milligrams(fromGrams: values[direct]) else {
                parsed.errors.append(RecordError(
                    index: index, field: header[direct],
                    message: "\"\(values[direct])\" is not a decimal number of g/kWh from 0 to 100000 with at most 3 decimals"))
                continue
            }
            parsed.append(FactorRow(
                zone: zone, kind: .average, start: start, end: start + 3600, mgPerKWh: mg,
                source: "electricitymaps:\(values[zoneID])", dataset: dataset),
                index: index)
        }
        return parsed
    }

    /// Exact conversion of decimal text in g/kWh to integer mg/kWh (no floating point);
    /// nil past 100000 g/kWh, the 100000000 mg/kWh every other layout allows.
    public static func milligrams(fromGrams text: String) -> Int64? {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count), !parts[0].isEmpty, parts[0].allSatisfy(\.isASCIIDigit),
            let whole = Int64(parts[0]), whole <= 100_000
        else { return nil }
        var fraction: Int64 = 0
        if parts.count == 2 {
            let digits = parts[1]
            guard !digits.isEmpty, digits.count <= 3, digits.allSatisfy(\.isASCIIDigit), let value = Int64(digits) else {
                return nil
            }
            fraction = value * [100, 10, 1][digits.count - 1]
        }
        // `whole <= 100_000` alone let 100000.001 ... 100000.999 through.
        let mg = whole * 1000 + fraction
        return mg <= 100_000_000 ? mg : nil
    }

    /// The cells of a data row, or nil (an error noted) when they do not match the header.
    private static func cells(of line: String, index: Int, header: [String], into parsed: inout Parsed) -> [String]? {
        let values = cells(of: line)
        guard values.count == header.count else {
            parsed.errors.append(RecordError(
                index: index, field: "", message: "the row has \(values.count) cells, the header \(header.count)"))
            return nil
        }
        return values
    }

    /// The cells of one CSV line (RFC 4180 quotes, `""` inside them; no newline inside a cell).
    static func cells(of line: String) -> [String] {
        let characters = Array(line)
        var cells: [String] = []
        var current = ""
        var quoted = false
        var i = 0
        while i < characters.count {
            let character = characters[i]
            if quoted && character == "\"" {
                if i + 1 < characters.count && characters[i + 1] == "\"" {
                    current.append("\"")
                    i += 1
                } else {
                    quoted = false
                }
            } else if !quoted && character == "\"" && current.isEmpty {
                quoted = true
            } else if !quoted && character == "," {
                cells.append(current)
                current = ""
            } else if quoted || character != "\r" {
                current.append(character)
            }
            i += 1
        }
        cells.append(current)
        return cells
    }
}

extension Character {
    fileprivate var isASCIIDigit: Bool { isASCII && isNumber }
}
