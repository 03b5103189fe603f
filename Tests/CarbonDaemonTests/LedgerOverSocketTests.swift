import CarbonClient
import CarbonPostgres
import Foundation
import Testing
import TransparencyLog

#if canImport(Glibc)
import Glibc
#endif

/// The ledger as a client sees it: everything checked against an independent
/// RFC 6962 computation, not only the code under test.
@Suite(.serialized) struct LedgerOverSocketTests {
    static let consumers = """
        {"consumer":"c1","utility":"u1","zone":"CN-ZJ","class":"residential","normalizer":2}
        {"consumer":"c2","utility":"u1","zone":"CN-ZJ","class":"commercial"}
        """

    static func readings(hour: Int, meters: Range<Int>) -> String {
        let start = 1_790_000_000 / 3600 * 3600 + hour * 3600
        return meters.map {
            #"{"utility":"u1","meter":"m\#($0)","consumer":"c\#($0 % 2 + 1)","start":\#(start),"duration_s":3600,"import_wh":\#(100 + $0)}"#
        }.joined(separator: "\n")
    }

    struct Entry: Decodable {
        var index: Int
        var entry: String
        var signature: String
        var leaf_hash: String
    }

    struct Entries: Decodable {
        var entries: [Entry]
        var size: Int
    }

    @Test(arguments: StorageEngine.allCases)
    func everyCheckpointEntryAndProofVerifiesIndependently(on engine: StorageEngine) throws {
        let daemon = try DaemonProcess(engine: engine)
        try daemon.start()
        let client = try daemon.client()
        #expect(try client.post("/v1/consumers", Self.consumers).status == 200)
        var notes: [String] = []
        for hour in 0..<4 {
            let answer = try client.post("/v1/readings", Self.readings(hour: hour, meters: 0..<(3 + hour)))
            #expect(answer.status == 200, "\(answer.text)")
            notes.append(try #require(answer.json()["checkpoint"] as? String))
        }
        let checkpoints = try notes.map { try SignedCheckpoint.open($0, verifiers: [daemon.verifier]).checkpoint }
        let latest = try #require(checkpoints.last)

        // Every entry: own signature, leaf hash, and together the checkpoint root (recursive MTH).
        let entries = try JSONDecoder().decode(Entries.self, from: Data(client.get("/v1/ledger/entries?start=0&end=1000").body))
        #expect(entries.entries.count == Int(latest.size))
        let bodies = entries.entries.map { Array($0.entry.utf8) }
        for (entry, body) in zip(entries.entries, bodies) {
            #expect(EntrySignature.verify(entry: body, signature: Base64.decode(entry.signature) ?? [], verifier: daemon.verifier))
            #expect(Base64.decode(entry.leaf_hash) == IndependentMerkle.leafHash(body))
        }
        #expect(IndependentMerkle.root(bodies[...]) == latest.rootHash.bytes)

        // Every inclusion proof equals RFC 6962's PATH.
        for index in 0..<Int(latest.size) {
            let proof = try client.get("/v1/ledger/proof/inclusion?index=\(index)&size=\(latest.size)").json()
            let hashes = (proof["hashes"] as? [String] ?? []).map { Base64.decode($0) ?? [] }
            #expect(hashes == IndependentMerkle.path(index, bodies[...]), "entry \(index)")
        }

        // Consistency between successive checkpoints, checked by the verifier the vectors pin down.
        for (old, new) in zip(checkpoints, checkpoints.dropFirst()) {
            let proof = try client.get("/v1/ledger/proof/consistency?from=\(old.size)&to=\(new.size)").json()
            let hashes = (proof["hashes"] as? [String] ?? []).compactMap { Hash256(base64: $0) }
            try RFC6962.verifyConsistency(size1: old.size, size2: new.size, root1: old.rootHash, root2: new.rootHash, proof: hashes)
            #expect(IndependentMerkle.root(bodies[0..<Int(old.size)]) == old.rootHash.bytes)
        }

        // Each reading's two-level proof.
        let start = 1_790_000_000 / 3600 * 3600 + 3600
        for meter in 0..<4 {
            let proof = try client.get("/v1/readings/u1/m\(meter)/\(start)/proof").json()
            let reading = Array(try #require(proof["reading"] as? String).utf8)
            let entry = Array(try #require(proof["entry"] as? String).utf8)
            let position = try #require(proof["position"] as? Int)
            let entryIndex = try #require(proof["entry_index"] as? Int)
            let batchPath = (proof["batch_path"] as? [String] ?? []).map { Base64.decode($0) ?? [] }
            let entryPath = (proof["entry_path"] as? [String] ?? []).map { Base64.decode($0) ?? [] }
            let checkpoint = try SignedCheckpoint.open(try #require(proof["checkpoint"] as? String), verifiers: [daemon.verifier])
            #expect(entryPath == IndependentMerkle.path(entryIndex, bodies[0..<Int(checkpoint.checkpoint.size)]))
            // The batch: this hour's readings in body order, their leaves rebuilt here.
            let batch = try client.get("/v1/ledger/entries?start=\(entryIndex)&end=\(entryIndex + 1)")
            #expect(batch.status == 200)
            let entryObject = try JSONSerialization.jsonObject(with: Data(entry)) as? [String: Any]
            let root = Base64.decode(try #require(entryObject?["root"] as? String))
            #expect(try #require(proof["batch_size"] as? Int) == 4)
            try RFC6962.verifyInclusion(
                leafHash: RFC6962.leafHash(reading), index: UInt64(position), size: 4,
                proof: batchPath.compactMap { Hash256(bytes: $0) }, root: try #require(root.flatMap { Hash256(bytes: $0) }))
            let leaf = try JSONSerialization.jsonObject(with: Data(reading)) as? [String: Any]
            #expect(leaf?["meter"] as? String == "m\(meter)")
            #expect(leaf?["import_wh"] as? Int == 100 + meter)
        }
        #expect(daemon.stop() == 0)
    }

    @Test(arguments: StorageEngine.allCases)
    func sigkillDuringIngestLosesNoAcknowledgedBatch(on engine: StorageEngine) throws {
        let daemon = try DaemonProcess(engine: engine)
        try daemon.start()
        let setup = try daemon.client()
        #expect(try setup.post("/v1/consumers", Self.consumers).status == 200)
        let firstNote = try #require(try setup.get("/v1/ledger/checkpoint").text as String?)

        // Clients push until the daemon is killed; every 200 they saw must survive.
        let acknowledged = try Self.ingestUntilStopped(daemon) { daemon.stop(signal: SIGKILL) }

        try daemon.start()
        let client = try daemon.client()
        let latest = try SignedCheckpoint.open(client.get("/v1/ledger/checkpoint").text, verifiers: [daemon.verifier]).checkpoint
        for (hour, worker, note) in acknowledged.all {
            let start = 1_790_000_000 / 3600 * 3600 + hour * 3600
            let proof = try client.get("/v1/readings/u1/m\(worker * 50 + 7)/\(start)/proof")
            #expect(proof.status == 200, "acknowledged batch (worker \(worker), hour \(hour)) is missing")
            // Each acknowledged checkpoint is consistent with the restarted ledger.
            let old = try SignedCheckpoint.open(note, verifiers: [daemon.verifier]).checkpoint
            let consistency = try client.get("/v1/ledger/proof/consistency?from=\(old.size)&to=\(latest.size)").json()
            let hashes = (consistency["hashes"] as? [String] ?? []).compactMap { Hash256(base64: $0) }
            try RFC6962.verifyConsistency(size1: old.size, size2: latest.size, root1: old.rootHash, root2: latest.rootHash, proof: hashes)
        }
        // The restarted daemon appends on top of what it had.
        #expect(try client.post("/v1/readings", Self.readings(hour: 20_000, meters: 0..<2)).status == 200)
        let after = try SignedCheckpoint.open(client.get("/v1/ledger/checkpoint").text, verifiers: [daemon.verifier]).checkpoint
        #expect(after.size == latest.size + 1)
        #expect(!firstNote.isEmpty)
    }

    @Test(arguments: StorageEngine.allCases)
    func sigtermDuringIngestKeepsEveryAcknowledgedBatchAndExitsZero(on engine: StorageEngine) throws {
        let daemon = try DaemonProcess(engine: engine)
        try daemon.start()
        #expect(try daemon.client().post("/v1/consumers", Self.consumers).status == 200)
        // Graceful: requests in flight finish, queued batches commit, exit 0 (past
        // daemon.shutdown_timeout the daemon would cancel them and not exit 0).
        let acknowledged = try Self.ingestUntilStopped(daemon) {
            #expect(daemon.stop(signal: SIGTERM) == 0, "\(daemon.log)")
        }

        try daemon.start()
        let client = try daemon.client()
        for (hour, worker, _) in acknowledged.all {
            let start = 1_790_000_000 / 3600 * 3600 + hour * 3600
            #expect(try client.get("/v1/readings/u1/m\(worker * 50 + 7)/\(start)/proof").status == 200,
                    "acknowledged batch (worker \(worker), hour \(hour)) is missing")
        }
        #expect(daemon.stop() == 0)
    }

    /// Three clients push hour after hour until `stop` (called once 30 batches were
    /// acknowledged, a condition rather than a delay) ends the daemon; returns what
    /// they saw acknowledged.
    static func ingestUntilStopped(_ daemon: DaemonProcess, stop: () -> Void) throws -> Acknowledged {
        let acknowledged = Acknowledged()
        let writers = DispatchGroup()
        for worker in 0..<3 {
            writers.enter()
            Thread {
                defer { writers.leave() }
                guard let client = try? daemon.client() else { return }
                for hour in 0..<10_000 {
                    let body = Self.readings(hour: hour, meters: (worker * 50)..<(worker * 50 + 50))
                    guard let answer = try? client.post("/v1/readings", body), answer.status == 200,
                        let note = (try? answer.json())?["checkpoint"] as? String
                    else { return }
                    acknowledged.add(hour: hour, worker: worker, note: note)
                }
            }.start()
        }
        while acknowledged.count < 30 && writers.wait(timeout: .now()) == .timedOut { usleep(1000) }
        #expect(acknowledged.count >= 30, "the clients stopped early: \(daemon.log)")
        stop()
        writers.wait()
        return acknowledged
    }
}

/// Batches the clients saw acknowledged.
final class Acknowledged: @unchecked Sendable {
    private let lock = NSLock()
    private var items: [(Int, Int, String)] = []

    func add(hour: Int, worker: Int, note: String) {
        lock.lock()
        items.append((hour, worker, note))
        lock.unlock()
    }

    var count: Int {
        lock.lock()
        defer { lock.unlock() }
        return items.count
    }

    var all: [(Int, Int, String)] {
        lock.lock()
        defer { lock.unlock() }
        return items
    }
}
/// The engines a daemon test runs on: the embedded SQLite file, or a throwaway
/// PostgreSQL cluster of the test's own (`DaemonProcess(engine:)`).
enum StorageEngine: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case sqlite, postgresql

    var testDescription: String { rawValue }
}
