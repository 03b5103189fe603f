import CarbonLedger
import CarbonPostgres
import CarbonStore
import Foundation
import Logging
import PostgresNIO
import TransparencyLog

/// The PostgreSQL write path against its floor, on a throwaway cluster (fsync on):
///
/// - floor: each hour of all meters as one `COPY readings FROM STDIN`, one
///   transaction a batch;
/// - ledger write path: the same COPY plus what the writer adds to each batch's
///   transaction: its `reading_batches` row, the signed `readings` entry, its tree
///   nodes and a signed checkpoint (`LedgerAppender` over `PostgresLedgerStorage`).
///
/// Both start from the same prefill (loaded by COPY, not timed) in databases of their
/// own in one cluster. What the daemon does before its writer (parsing, hashing the
/// readings) is not in either.
struct PostgresBench {
    let setup: BenchSetup
    let hours: Int

    struct Result {
        var floor: Double
        var ledger: Double
        /// The ledger path's median milliseconds a batch in its parts.
        var copyMs: Double
        var ledgerMs: Double
        var commitMs: Double
    }

    func run() throws -> Result {
        let cluster = try LocalCluster()
        let logger = Logger(label: "carbonbench.postgres")
        let admin = try blocking { try await cluster.connect() }
        for database in ["floor", "ledger"] {
            try blocking { try await admin.execute(PostgresQuery(unsafeSQL: "CREATE DATABASE \(database)")) }
        }
        let floor = try blocking { try await PostgresSession.connect(to: cluster.location(database: "floor"), logger: logger) }
        let ledger = try blocking { try await PostgresSession.connect(to: cluster.location(database: "ledger"), logger: logger) }
        for session in [floor, ledger] {
            try blocking { try await PostgresSchema.migrate(session) }
            try prefill(session)
        }
        let batches = (0..<hours).map { rows(hour: setup.prefillHours + $0, batch: Int64(1_000_000 + $0)) }

        // The two paths take turns, batch by batch, so both see the same state of the
        // machine and of the server (checkpoints, autovacuum).
        let signer = try NoteSigner(skey: NoteSigner.generate(name: setup.origin).skey)
        let storage = PostgresLedgerStorage(session: ledger)
        var appender = try LedgerAppender.load(from: storage, signer: signer, signerPath: "", previous: nil, origin: setup.origin)
        var (floorSeconds, ledgerSeconds) = (0.0, 0.0)
        var (copyMs, ledgerMs, commitMs) = ([Double](), [Double](), [Double]())
        for batch in batches {
            floorSeconds += try timed {
                try blocking { try await floor.transaction { try await ReadingCopy.copy(batch, into: $0) } }
            }
            let started = DispatchTime.now()
            try blocking { try await ledger.execute("BEGIN") }
            let index = Int64(appender.nextIndex)
            let stamped = batch.map { row in
                var row = row
                row.batch = index
                return row
            }
            try blocking { try await ReadingCopy.copy(stamped, into: ledger) }
            let copied = DispatchTime.now()
            let (first, last) = (batch[0].start, batch[batch.count - 1].start)
            try blocking {
                try await ledger.execute("""
                    INSERT INTO reading_batches(entry, first_start, last_start, count)
                    VALUES (\(index), \(first), \(last), \(Int64(batch.count)))
                    """)
            }
            let entry = ReadingsEntry(
                utility: "bench-grid", count: batch.count, root: RFC6962.leafHash(Array("batch \(index)".utf8)),
                firstStart: first, lastEnd: last + 3600, batch: nil)
            _ = try appender.append(.readings(entry), time: first, to: storage)
            _ = try appender.publishCheckpoint(time: first, to: storage)
            let signed = DispatchTime.now()
            try blocking { try await ledger.execute("COMMIT") }
            let committed = DispatchTime.now()
            ledgerSeconds += Self.milliseconds(started, committed) / 1000
            copyMs.append(Self.milliseconds(started, copied))
            ledgerMs.append(Self.milliseconds(copied, signed))
            commitMs.append(Self.milliseconds(signed, committed))
        }
        for session in [floor, ledger, admin] { try blocking { await session.close() } }
        func median(_ values: [Double]) -> Double { values.sorted()[values.count / 2] }
        return Result(
            floor: floorSeconds, ledger: ledgerSeconds, copyMs: median(copyMs), ledgerMs: median(ledgerMs),
            commitMs: median(commitMs))
    }

    /// The bench's readings of `hour` as rows (meter and consumer ids as the registry numbers them).
    private func rows(hour: Int, batch: Int64) -> [ReadingRow] {
        (0..<setup.meters).map { meter in
            let reading = setup.reading(meter: meter, hour: hour)
            return ReadingRow(
                start: reading.start, meter: Int64(meter + 1), consumer: Int64(meter + 1), durationS: reading.durationS,
                importWh: reading.importWh, exportWh: reading.exportWh, quality: 0, ref: reading.id, batch: batch,
                position: Int64(meter))
        }
    }

    /// The prefilled hours, a COPY each (untimed).
    private func prefill(_ session: PostgresSession) throws {
        for hour in 0..<setup.prefillHours {
            let batch = rows(hour: hour, batch: Int64(hour))
            try blocking { try await session.transaction { try await ReadingCopy.copy(batch, into: $0) } }
        }
        try blocking { try await session.execute("VACUUM ANALYZE readings") }
    }

    private func timed(_ work: () throws -> Void) throws -> Double {
        let started = DispatchTime.now()
        try work()
        return Self.milliseconds(started, DispatchTime.now()) / 1000
    }

    private static func milliseconds(_ from: DispatchTime, _ to: DispatchTime) -> Double {
        Double(to.uptimeNanoseconds - from.uptimeNanoseconds) / 1e6
    }
}
