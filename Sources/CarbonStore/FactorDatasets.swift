import CarbonAccounting
import CarbonLedger
import CarbonModel
import GRDB

/// A factor dataset to record: its name and rows.
public struct FactorDataset: Sendable {
    public var name: String
    public var rows: [FactorRow]

    public init(name: String, rows: [FactorRow]) {
        self.name = name
        self.rows = rows
    }
}

/// Storing factor datasets and reading them back.
enum FactorDatasets {
    /// Stores `dataset` (rows in ledger order) and appends its `factors` entry.
    @discardableResult
    static func record(
        _ dataset: FactorDataset, appender: inout LedgerAppender, time: Int64, tables: some RecordTables
    ) throws -> UInt64 {
        let rows = dataset.rows.sorted(by: FactorRow.ledgerOrder)
        let entry = FactorsEntry(dataset: dataset.name, rowLeaves: rows.map(\.leafBytes))
        let index = try StoreError.mapping { try appender.append(.factors(entry), time: time, to: tables) }
        try tables.insertFactorDataset(dataset.name, entry: index, rows: rows)
        return index
    }

    /// Loads `dataset` unless one of that name is loaded already (a conflict).
    static func load(
        _ dataset: FactorDataset, appender: inout LedgerAppender, time: Int64, tables: some RecordTables
    ) throws -> BatchOutcome {
        guard try !tables.factorDatasetExists(dataset.name) else {
            return .rejected(kind: .conflict, errors: [RecordError(
                index: 0, field: "dataset", message: "a dataset named \"\(dataset.name)\" is loaded already")])
        }
        let index = try record(dataset, appender: &appender, time: time, tables: tables)
        return .committed(BatchResult(accepted: dataset.rows.count, duplicates: 0, entry: index, entries: [index]))
    }

    /// Every stored row, datasets in the order they were loaded.
    static func all(db: some SQLConnection) throws -> [FactorRow] {
        try rows(db.rows("""
            SELECT r.dataset, r.zone, r.kind, r.start, r."end", r.mg_per_kwh, r.source
            FROM factor_rows r JOIN factor_datasets d ON d.dataset = r.dataset
            ORDER BY d.entry, r.position
            """))
    }

    /// One dataset's rows in ledger order.
    static func rows(of dataset: String, db: some SQLConnection) throws -> [FactorRow] {
        try rows(db.rows("""
            SELECT dataset, zone, kind, start, "end", mg_per_kwh, source FROM factor_rows
            WHERE dataset = ? ORDER BY position
            """, dataset))
    }

    private static func rows(_ rows: [SQLRow]) throws -> [FactorRow] {
        try rows.map { row in
            guard let kind = FactorKind(rawValue: row[2]) else { throw StoreError.corrupt("factor kind \(row[2] as String)") }
            return FactorRow(
                zone: row[1], kind: kind, start: row[3], end: row[4], mgPerKWh: row[5], source: row[6], dataset: row[0])
        }
    }
}
