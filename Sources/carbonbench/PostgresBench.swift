import CarbonLedger
import CarbonModel
import CarbonPostgres
import CarbonStore
import Foundation
import Logging
import PostgresNIO
import TransparencyLog

/// Ingest into PostgreSQL against its floor, on a throwaway cluster (fsync on):
///
/// - floor: each hour of all meters as one `COPY readings FROM STDIN`, one
///   transaction a batch;
/// - ingest: the same batches through the store's writer on PostgreSQL (the daemon's
///   `LedgerWriter`, submitted one at a time so each is a transaction of its own):
///   each reading decided against the registry and its meter's state, the readings
///   copied, the consumers' hour sums merged, the batch's row, the signed `readings`
///   entry, its tree nodes and a signed checkpoint.
///
/// Both start from the same prefilled hours in databases of their own in one cluster,
/// and take turns batch by batch so both see the same machine and server. What the
/// daemon does before its writer (parsing, hashing the readings) is not in either.
struct PostgresBench {
    let setup: BenchSetup
    let hours: Int

    struct Result {
        var floor: Double
        var ingest: Double
        /// Median milliseconds a batch.
        var floorMs: Double
        var ingestMs: Double
    }

    func run() throws -> Result {
        let cluster = try LocalCluster()
        let logger = Logger(label: "carbonbench.postgres")
        let admin = try blocking { try await cluster.connect() }
        for database in ["floor", "ingest"] {
            try blocking { try await admin.execute(PostgresQuery(unsafeSQL: "CREATE DATABASE \(database)")) }
        }
        let floor = try blocking { try await PostgresSession.connect(to: cluster.location(database: "floor"), logger: logger) }
        try blocking { try await PostgresSchema.migrate(floor) }

        // The store: consumers registered, then the prefilled hours ingested (untimed).
        let signer = try NoteSigner(skey: NoteSigner.generate(name: setup.origin).skey)
        let zones = try ZoneTree([Zone(zone: "CN", parent: nil, name: "China"), Zone(zone: "CN-ZJ", parent: "CN", name: "Zhejiang")])
        let store = try PostgresStore.openWriter(
            at: cluster.location(database: "ingest"), readers: 1, signer: signer, zones: zones,
            clock: { [firstHour = setup.firstHour] in firstHour }, logger: logger)
        defer { store.close() }
        let consumers = (0..<setup.meters).map {
            Consumer(id: "c\($0)", utility: "bench-grid", zone: "CN-ZJ", consumerClass: .residential, normalizer: 1)
        }
        try submit(.consumers(ConsumerBatch(
            submitter: Submitter(utility: nil), partial: false, consumers: consumers, recordIndex: Array(consumers.indices),
            parseErrors: [])), to: store)
        for hour in 0..<setup.prefillHours {
            try submit(batch(hour: hour), to: store)
            let rows = rows(hour: hour, batch: Int64(hour))
            try blocking { try await floor.transaction { try await ReadingCopy.copy(rows, into: $0) } }
        }
        let ingest = try blocking { try await PostgresSession.connect(to: cluster.location(database: "ingest"), logger: logger) }
        for session in [floor, ingest] { try blocking { try await session.execute("VACUUM ANALYZE") } }

        // Built before the clock starts, as the daemon's requests arrive parsed and hashed.
        let measured = (0..<hours).map { setup.prefillHours + $0 }
        let floorBatches = measured.map { rows(hour: $0, batch: Int64($0)) }
        let ingestBatches = measured.map { batch(hour: $0) }
        var (floorMs, ingestMs) = ([Double](), [Double]())
        for (rows, job) in zip(floorBatches, ingestBatches) {
            floorMs.append(try timed { try blocking { try await floor.transaction { try await ReadingCopy.copy(rows, into: $0) } } })
            ingestMs.append(try timed { try submit(job, to: store) })
        }
        for session in [floor, ingest, admin] { try blocking { await session.close() } }
        func median(_ values: [Double]) -> Double { values.sorted()[values.count / 2] }
        return Result(
            floor: floorMs.reduce(0, +) / 1000, ingest: ingestMs.reduce(0, +) / 1000, floorMs: median(floorMs),
            ingestMs: median(ingestMs))
    }

    /// One job, waited for: alone in the writer's queue, it commits in a transaction of its own.
    private func submit(_ job: LedgerWriter.Job, to store: CarbonStore) throws {
        let outcome = try blocking { try await store.writer.submit(job) }
        guard case .committed(let result) = outcome, result.errors.isEmpty else {
            throw BenchFailure("a bench batch was refused: \(outcome)")
        }
    }

    /// The bench's readings of `hour`, parsed and hashed as the daemon hands them to its writer.
    private func batch(hour: Int) -> LedgerWriter.Job {
        let readings = (0..<setup.meters).map { setup.reading(meter: $0, hour: hour) }
        return .readings(ReadingBatch(
            submitter: Submitter(utility: "bench-grid"), batchID: nil, partial: false,
            hashed: HashedReadings(readings: readings, recordIndex: Array(readings.indices)), parseErrors: []))
    }

    /// The same readings as rows (meter and consumer ids as the registry numbers them).
    private func rows(hour: Int, batch: Int64) -> [ReadingRow] {
        (0..<setup.meters).map { meter in
            let reading = setup.reading(meter: meter, hour: hour)
            return ReadingRow(
                start: reading.start, meter: Int64(meter + 1), consumer: Int64(meter + 1), durationS: reading.durationS,
                importWh: reading.importWh, exportWh: reading.exportWh, quality: 0, ref: reading.id, batch: batch,
                position: Int64(meter))
        }
    }

    private func timed(_ work: () throws -> Void) throws -> Double {
        let started = DispatchTime.now()
        try work()
        return Double(DispatchTime.now().uptimeNanoseconds - started.uptimeNanoseconds) / 1e6
    }
}
