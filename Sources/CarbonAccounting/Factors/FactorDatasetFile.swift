import CarbonModel

extension FactorRow {
    /// The factor row leaf of the ledger: canonical `{"end","kind","mg_per_kwh","source","start","zone"}`.
    public var leafBytes: [UInt8] {
        JSONValue.object([
            "end": .int(end), "kind": .string(kind.rawValue), "mg_per_kwh": .int(mgPerKWh),
            "source": .string(source), "start": .int(start), "zone": .string(zone),
        ]).canonicalBytes()
    }

    /// The order of a dataset's leaves in its `factors` entry: zone, kind, start.
    public static func ledgerOrder(_ a: FactorRow, _ b: FactorRow) -> Bool {
        if a.zone != b.zone { return a.zone.utf8.lexicographicallyPrecedes(b.zone.utf8) }
        if a.kind != b.kind { return a.kind < b.kind }
        return a.start < b.start
    }
}

/// The bundled annual dataset format: `zone,kind,year,mg_per_kwh,source,confidence`
/// (methodology section 2). The dataset is named after its file; `confidence` is shown
/// to users but is not part of a row.
public enum AnnualFactorCSV {
    /// Parses the file's text into annual rows of `dataset`, in file order.
    public static func parse(_ text: String, dataset: String, calendar: some ProgramCalendar) throws(FactorSetError) -> [FactorRow] {
        var lines = text.split(omittingEmptySubsequences: true) { $0 == "\n" || $0 == "\r\n" }
        guard let header = lines.first,
            header.split(separator: ",", omittingEmptySubsequences: false).prefix(5).map(String.init)
                == ["zone", "kind", "year", "mg_per_kwh", "source"]
        else {
            throw FactorSetError(row: -1, dataset: dataset, message: "the header must start zone,kind,year,mg_per_kwh,source")
        }
        lines.removeFirst()
        var rows: [FactorRow] = []
        for (index, line) in lines.enumerated() {
            guard !line.contains("\"") else {
                throw FactorSetError(row: index, dataset: dataset, message: "quoted cells are not supported in this format")
            }
            let cells = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            guard cells.count >= 5, !cells[0].isEmpty else {
                throw FactorSetError(row: index, dataset: dataset, message: "expected zone,kind,year,mg_per_kwh,source")
            }
            guard let kind = FactorKind(rawValue: cells[1]) else {
                throw FactorSetError(row: index, dataset: dataset, message: "kind must be average or residual, got \"\(cells[1])\"")
            }
            guard let year = Int64(cells[2]), (1900...2200).contains(year) else {
                throw FactorSetError(row: index, dataset: dataset, message: "year must be a year, got \"\(cells[2])\"")
            }
            guard let mg = Int64(cells[3]), (0...100_000_000).contains(mg) else {
                throw FactorSetError(
                    row: index, dataset: dataset, message: "mg_per_kwh must be an integer from 0 to 100000000, got \"\(cells[3])\"")
            }
            rows.append(.annual(
                zone: cells[0], kind: kind, year: year, mgPerKWh: mg, source: cells[4], dataset: dataset, calendar: calendar))
        }
        return rows
    }
}
