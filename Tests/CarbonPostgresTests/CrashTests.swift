import CarbonLedger
import CarbonModel
import CarbonPostgres
import CarbonStore
import Foundation
import PostgresNIO
import Synchronization
import Testing
import TransparencyLog

/// The PostgreSQL server dies mid-ingest (`pg_ctl stop -m immediate`: no shutdown
/// checkpoint, as a crash or a power cut would leave it) and starts again: every batch
/// whose commit was acknowledged is there, the ledger's last checkpoint matches its
/// stored tree, and the writer signs on.
@Suite("A PostgreSQL server that dies during ingest")
struct CrashTests {
    static let time: Int64 = 1_790_000_000
    static let hour: Int64 = 1_790_000_000 / 3600 * 3600
    static let meters = 100

    static func batch(hour h: Int) -> LedgerWriter.Job {
        let readings = (0..<meters).map { m in
            Reading(
                utility: "u1", meter: "m\(m)", consumer: "c\(m)", start: hour + Int64(h) * 3600, durationS: 3600,
                importWh: Int64(100 + m), exportWh: 0, quality: .actual, id: nil)
        }
        return .readings(ReadingBatch(
            submitter: Submitter(utility: "u1"), batchID: nil, partial: false,
            hashed: HashedReadings(readings: readings, recordIndex: Array(readings.indices)), parseErrors: []))
    }

    /// The jobs whose commit has returned, by number.
    final class Acknowledged: Sendable {
        let numbers = Mutex<[Int]>([])
    }

    /// Opens the store on `cluster` as the daemon does, submits `jobs` one after the
    /// other, and returns the store; `acknowledged` gets each job's number once its
    /// commit has returned.
    static func ingest(
        into cluster: LocalCluster, signer: NoteSigner, jobs: [LedgerWriter.Job], acknowledged: Acknowledged? = nil
    ) async throws -> CarbonStore {
        let zones = try ZoneTree([Zone(zone: "CN", parent: nil, name: "China")])
        let store = try await onOwnThread {
            try PostgresStore.openWriter(at: cluster.location(), readers: 1, signer: signer, zones: zones, clock: { time })
        }
        do {
            for (number, job) in jobs.enumerated() {
                let outcome = try await store.writer.submit(job)
                guard case .committed = outcome else { throw LocalCluster.ClusterError("job \(number): \(outcome)") }
                acknowledged?.numbers.withLock { $0.append(number) }
            }
        } catch {
            store.close()
            throw error
        }
        return store
    }

    @Test func everyAcknowledgedBatchSurvivesAndTheWriterSignsOn() async throws {
        let cluster = try LocalCluster()
        let signer = try NoteSigner(skey: NoteSigner.generate(name: "test.example/ledger").skey)
        let consumers = (0..<Self.meters).map {
            Consumer(id: "c\($0)", utility: "u1", zone: "CN", consumerClass: .residential, normalizer: 1)
        }
        try await Self.ingest(into: cluster, signer: signer, jobs: [LedgerWriter.Job.consumers(ConsumerBatch(
            submitter: Submitter(utility: nil), partial: false, consumers: consumers, recordIndex: Array(consumers.indices),
            parseErrors: []))]).close()

        // Batches go in until the server dies under them.
        let acknowledged = Acknowledged()
        let hours = (0..<10_000).map { Self.batch(hour: $0) }
        let ingesting = Task { try await Self.ingest(into: cluster, signer: signer, jobs: hours, acknowledged: acknowledged) }
        try await LocalCluster.waitUntil { acknowledged.numbers.withLock { $0.count } >= 20 }
        try cluster.stop()
        // The writer's wait ends: a COPY the dead server never finishes fails with the connection.
        await #expect(throws: (any Error).self) { _ = try await ingesting.value }
        let survivors = acknowledged.numbers.withLock { $0 }

        try cluster.start()
        // The writer loads: the last checkpoint verifies and matches the stored tree.
        let store = try await Self.ingest(into: cluster, signer: signer, jobs: [Self.batch(hour: 20_000)])
        defer { store.close() }
        let again = try await cluster.connect()
        let stored = try await again.rows("SELECT start, count(*) FROM readings GROUP BY start")
        var perHour: [Int64: Int64] = [:]
        for row in stored {
            let (start, count) = try row.decode((Int64, Int64).self)
            perHour[start] = count
        }
        for number in survivors {
            #expect(perHour[Self.hour + Int64(number) * 3600] == Int64(Self.meters), "batch \(number) was acknowledged")
        }
        // Nothing half-stored: every hour holds all its readings or none.
        #expect(perHour.values.allSatisfy { $0 == Int64(Self.meters) })
        #expect(perHour[Self.hour + 20_000 * 3600] == Int64(Self.meters))
        let checkpoint = try SignedCheckpoint.open(
            try #require(store.writer.latestCheckpoint?.note), verifiers: [signer.verifier]).checkpoint
        let entries = try await again.rows("SELECT count(*) FROM entries")[0].decode(Int64.self)
        #expect(checkpoint.size == UInt64(entries))
        await again.close()
    }
}
