import CarbonAccounting
import CarbonLedger
import CarbonModel

/// The writer's other records: factor datasets, certificates, and the `meta` values
/// the key chain is kept in. Both engines implement them beside `RegistryTables` and
/// `IngestTables`.
public protocol RecordTables: LedgerStorage {
    func factorDatasetExists(_ name: String) throws -> Bool
    /// Stores a dataset's rows, in the order of its `factors` entry's leaves.
    func insertFactorDataset(_ name: String, entry: UInt64, rows: [FactorRow]) throws
    func certificateExists(_ id: String) throws -> Bool
    func insertCertificate(_ certificate: Certificate, consumerRow: Int64, entry: UInt64) throws
    func metaValue(_ key: String) throws -> String?
    /// Sets each key to its value (insert or replace).
    func setMeta(_ values: [(key: String, value: String)]) throws
}

/// Every table interface the writer's jobs go through.
public typealias StoreTables = RegistryTables & IngestTables & RecordTables
