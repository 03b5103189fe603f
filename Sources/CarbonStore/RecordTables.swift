import CarbonAccounting
import CarbonLedger
import CarbonModel
import Foundation

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
    /// The answer stored for a client's batch id (its JSON), nil if none.
    func batchAnswer(scope: String, batch: String) throws -> [UInt8]?
    func storeBatchAnswer(scope: String, batch: String, answer: [UInt8]) throws
}

extension RecordTables {
    /// The answer given to `key` before, marked as given again.
    func earlierAnswer(to key: BatchKey) throws -> BatchResult? {
        guard let json = try batchAnswer(scope: key.scope, batch: key.batch) else { return nil }
        var result = try JSONDecoder().decode(BatchResult.self, from: Data(json))
        result.replayed = true
        return result
    }

    func storeAnswer(_ result: BatchResult, to key: BatchKey) throws {
        try storeBatchAnswer(scope: key.scope, batch: key.batch, answer: Array(try JSONEncoder().encode(result)))
    }
}

/// Every table interface the writer's jobs go through.
public typealias StoreTables = RegistryTables & IngestTables & RecordTables
