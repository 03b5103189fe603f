import CarbonLedger
import CarbonStore
import NIOCore
import PostgresNIO

/// The ingest path's tables in PostgreSQL, within the writer's transaction on
/// `session`: a batch's readings are one COPY, its new meters one INSERT, its new hour
/// blocks one INSERT (blocks already stored: one read and one upsert more). Each call waits for the server on the calling
/// thread (the writer's own).
extension PostgresLedgerStorage: IngestTables {
    public func insertMeters(utility: String, names: [String]) throws -> [Int64] {
        guard !names.isEmpty else { return [] }
        var ids: [String: Int64] = [:]
        for row in try rows("""
            INSERT INTO meters(utility, meter) SELECT \(utility), name FROM unnest(\(names)::text[]) AS n(name)
            RETURNING id, meter
            """)
        {
            let (id, meter) = try row.decode((Int64, String).self)
            ids[meter] = id
        }
        return try names.map { name in
            guard let id = ids[name] else { throw PostgresStoreError.corrupt("meter \(name) got no id") }
            return id
        }
    }

    public func storedReadings(meter: Int64, startAfter: Int64, startBefore: Int64) throws -> [StoredReadingRow] {
        try rows("""
            SELECT start, duration_s, consumer, import_wh, export_wh, quality, ref FROM readings
            WHERE start > \(startAfter) AND start < \(startBefore) AND meter = \(meter) ORDER BY start
            """).map { row in
            let (start, duration, consumer, importWh, exportWh, quality, ref) = try row.decode(
                (Int64, Int64, Int64, Int64, Int64, Int16, String?).self)
            return StoredReadingRow(
                start: start, durationS: duration, consumer: consumer, importWh: importWh, exportWh: exportWh,
                quality: Int64(quality), ref: ref)
        }
    }

    public func insertReadings(_ rows: [ReadingRow]) throws {
        let session = self.session
        try blocking { try await ReadingCopy.copy(rows, into: session) }
    }

    public func insertNewHourSums(_ blocks: [(HourBlock, [UInt8])]) throws -> Set<HourBlock> {
        guard !blocks.isEmpty else { return [] }
        let hours = blocks.map(\.0.hour)
        let numbers = blocks.map(\.0.block)
        let sums = blocks.map { ByteBuffer(bytes: $0.1) }
        var taken = Set(blocks.map(\.0))
        for row in try rows("""
            INSERT INTO consumer_hours(hour, block, sums)
            SELECT * FROM unnest(\(hours)::bigint[], \(numbers)::bigint[], \(sums)::bytea[])
            ON CONFLICT (hour, block) DO NOTHING RETURNING hour, block
            """)
        {
            let (hour, block) = try row.decode((Int64, Int64).self)
            taken.remove(HourBlock(hour: hour, block: block))
        }
        return taken
    }

    public func hourSums(of blocks: [HourBlock]) throws -> [HourBlock: [UInt8]] {
        guard !blocks.isEmpty else { return [:] }
        let hours = blocks.map(\.hour)
        let numbers = blocks.map(\.block)
        var stored: [HourBlock: [UInt8]] = [:]
        for row in try rows("""
            SELECT c.hour, c.block, c.sums FROM consumer_hours c
            JOIN unnest(\(hours)::bigint[], \(numbers)::bigint[]) AS k(hour, block) ON c.hour = k.hour AND c.block = k.block
            """)
        {
            let (hour, block, sums) = try row.decode((Int64, Int64, ByteBuffer).self)
            stored[HourBlock(hour: hour, block: block)] = Array(sums.readableBytesView)
        }
        return stored
    }

    public func storeHourSums(_ blocks: [(HourBlock, [UInt8])]) throws {
        guard !blocks.isEmpty else { return }
        let hours = blocks.map(\.0.hour)
        let numbers = blocks.map(\.0.block)
        let sums = blocks.map { ByteBuffer(bytes: $0.1) }
        try execute("""
            INSERT INTO consumer_hours(hour, block, sums)
            SELECT * FROM unnest(\(hours)::bigint[], \(numbers)::bigint[], \(sums)::bytea[])
            ON CONFLICT (hour, block) DO UPDATE SET sums = EXCLUDED.sums
            """)
    }

    public func insertReadingBatch(entry: UInt64, firstStart: Int64, lastStart: Int64, count: Int, chunks: [UInt8]) throws {
        let chunks = ByteBuffer(bytes: chunks)
        try execute("""
            INSERT INTO reading_batches(entry, first_start, last_start, count, chunks)
            VALUES (\(Int64(entry)), \(firstStart), \(lastStart), \(Int64(count)), \(chunks))
            """)
    }
}
