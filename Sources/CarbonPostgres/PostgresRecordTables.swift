import CarbonAccounting
import CarbonModel
import CarbonStore
import NIOCore
import PostgresNIO

/// Factor datasets, certificates and `meta` in PostgreSQL, within the writer's
/// transaction on `session`.
extension PostgresLedgerStorage: RecordTables {
    public func factorDatasetExists(_ name: String) throws -> Bool {
        try !rows("SELECT 1 FROM factor_datasets WHERE dataset = \(name)").isEmpty
    }

    /// The rows in one statement, their positions those of the arrays.
    public func insertFactorDataset(_ name: String, entry: UInt64, rows factorRows: [FactorRow]) throws {
        try execute("INSERT INTO factor_datasets(dataset, entry, count) VALUES (\(name), \(Int64(entry)), \(Int64(factorRows.count)))")
        guard !factorRows.isEmpty else { return }
        let zones = factorRows.map(\.zone)
        let kinds = factorRows.map(\.kind.rawValue)
        let starts = factorRows.map(\.start)
        let ends = factorRows.map(\.end)
        let milligrams = factorRows.map(\.mgPerKWh)
        let sources = factorRows.map(\.source)
        try execute("""
            INSERT INTO factor_rows(dataset, position, zone, kind, start, "end", mg_per_kwh, source)
            SELECT \(name), r.position - 1, r.zone, r.kind, r.start, r."end", r.mg, r.source
            FROM unnest(\(zones)::text[], \(kinds)::text[], \(starts)::bigint[], \(ends)::bigint[], \(milligrams)::bigint[],
                        \(sources)::text[]) WITH ORDINALITY AS r(zone, kind, start, "end", mg, source, position)
            """)
    }

    public func certificateExists(_ id: String) throws -> Bool {
        try !rows("SELECT 1 FROM certificates WHERE id = \(id)").isEmpty
    }

    public func insertCertificate(_ certificate: Certificate, consumerRow: Int64, entry: UInt64) throws {
        try execute("""
            INSERT INTO certificates(id, consumer, start, "end", wh, technology, issuer, entry)
            VALUES (\(certificate.id), \(consumerRow), \(certificate.start), \(certificate.end), \(certificate.wh),
                    \(certificate.technology), \(certificate.issuer), \(Int64(entry)))
            """)
    }

    public func metaValue(_ key: String) throws -> String? {
        try rows("SELECT value FROM meta WHERE key = \(key)").first?.decode(String.self)
    }

    public func setMeta(_ values: [(key: String, value: String)]) throws {
        guard !values.isEmpty else { return }
        let (keys, texts) = (values.map(\.key), values.map(\.value))
        try execute("""
            INSERT INTO meta(key, value) SELECT * FROM unnest(\(keys)::text[], \(texts)::text[])
            ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value
            """)
    }

    public func batchAnswer(scope: String, batch: String) throws -> [UInt8]? {
        try rows("SELECT response FROM batch_ids WHERE scope = \(scope) AND batch = \(batch)").first
            .map { Array(try $0.decode(ByteBuffer.self).readableBytesView) }
    }

    public func storeBatchAnswer(scope: String, batch: String, answer: [UInt8]) throws {
        try execute("INSERT INTO batch_ids(scope, batch, response) VALUES (\(scope), \(batch), \(ByteBuffer(bytes: answer)))")
    }
}
