import CarbonLedger
import CarbonModel
import CarbonStore
import Foundation
import GRDB
import TransparencyLog

/// A store in a temporary folder of its own, with a fresh key and a small zone tree.
final class TestLedger: @unchecked Sendable {
    let directory: URL
    let signer: NoteSigner
    let zones: ZoneTree
    private(set) var store: CarbonStore
    var clock: Int64 = 1_790_000_000

    var path: String { directory.appendingPathComponent("ledger.db").path }

    init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("carbonledger-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        signer = try NoteSigner(skey: NoteSigner.generate(name: "test.example/ledger").skey)
        zones = try ZoneTree([
            Zone(zone: "CN", parent: nil, name: "China"),
            Zone(zone: "CN-EAST", parent: "CN", name: "East"),
            Zone(zone: "CN-ZJ", parent: "CN-EAST", name: "Zhejiang"),
        ])
        store = try CarbonStore(path: directory.appendingPathComponent("ledger.db").path, signer: signer, zones: zones,
                                clock: { 1_790_000_000 })
    }

    deinit {
        store.close()
        try? FileManager.default.removeItem(at: directory)
    }

    /// Closes and reopens the store (as a daemon restart does).
    func reopen() throws {
        store.close()
        store = try CarbonStore(path: path, signer: signer, zones: zones, clock: { 1_790_000_000 })
    }

    func register(_ consumers: [Consumer], utility: String? = nil) async throws -> BatchOutcome {
        try await store.writer.submit(.consumers(ConsumerBatch(
            submitter: Submitter(utility: utility), partial: false, consumers: consumers,
            recordIndex: Array(consumers.indices), parseErrors: [])))
    }

    func ingest(_ readings: [Reading], utility: String? = "u1", batchID: String? = nil, partial: Bool = false,
                parseErrors: [CarbonModel.RecordError] = []) async throws -> BatchOutcome {
        try await store.writer.submit(.readings(ReadingBatch(
            submitter: Submitter(utility: utility), batchID: batchID, partial: partial,
            hashed: HashedReadings(readings: readings, recordIndex: Array(readings.indices)), parseErrors: parseErrors)))
    }

    /// Row counts that must not move when a batch is refused.
    func counts() throws -> [String: Int] {
        let queue = try DatabaseQueue(path: path, configuration: { var c = Configuration(); c.readonly = true; return c }())
        return try queue.read { db in
            var counts: [String: Int] = [:]
            for table in ["readings", "entries", "tree", "checkpoints", "consumers", "meters", "reading_batches", "batch_ids"] {
                counts[table] = try Int.fetchOne(db, sql: "SELECT count(*) FROM \(table)")
            }
            return counts
        }
    }
}

func consumer(_ id: String, utility: String = "u1", zone: String = "CN-ZJ") -> Consumer {
    Consumer(id: id, utility: utility, zone: zone, consumerClass: .residential, normalizer: 1)
}

func reading(_ meter: String, consumer: String, start: Int64, wh: Int64 = 1000, duration: Int64 = 3600,
             utility: String = "u1") -> Reading {
    Reading(utility: utility, meter: meter, consumer: consumer, start: start, durationS: duration, importWh: wh,
            exportWh: 0, quality: .actual, id: "\(meter)-\(start)")
}

extension BatchOutcome {
    var result: BatchResult? {
        if case .committed(let result) = self { return result }
        return nil
    }

    var rejection: (kind: RejectionKind, errors: [CarbonModel.RecordError])? {
        if case .rejected(let kind, let errors) = self { return (kind, errors) }
        return nil
    }
}
