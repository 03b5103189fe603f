import CarbonStore
import Foundation
import GRDB
import Testing
import TransparencyLog

/// The checks a backup passes before it is kept or restored, against every way its
/// ledger could disagree with its signed checkpoint.
@Suite struct LedgerFileTests {
    let hour: Int64 = 1_790_000_000 / 3600 * 3600

    /// A ledger of several entries and a backup of it.
    private func backedUp() async throws -> (TestLedger, String, StoredCheckpoint) {
        let ledger = try TestLedger()
        _ = try await ledger.register([consumer("c1"), consumer("c2")])
        for h: Int64 in 0..<5 { _ = try await ledger.ingest([reading("m1", consumer: "c1", start: hour + h * 3600)]) }
        let path = ledger.directory.appendingPathComponent("backup.db").path
        let checkpoint = try #require(try await ledger.store.reader.backup(to: path))
        return (ledger, path, checkpoint)
    }

    /// A copy of the backup changed by `sql`, and the problem its check reports.
    private func tampered(_ path: String, _ sql: String, verifier: NoteVerifier) throws -> String {
        let copy = path + ".tampered-\(UUID().uuidString.prefix(6))"
        try FileManager.default.copyItem(atPath: path, toPath: copy)
        let queue = try DatabaseQueue(path: copy)
        try queue.write { try $0.execute(sql: sql) }
        try queue.close()
        do {
            _ = try LedgerFile.check(path: copy, verifier: verifier)
            return "accepted"
        } catch {
            return "\(error)"
        }
    }

    @Test func aBackupIsOneSelfContainedFileThatChecks() async throws {
        let (ledger, path, checkpoint) = try await backedUp()
        #expect(checkpoint.size == 1 + 2 + 5)  // zones, two consumers, five batches
        #expect(!FileManager.default.fileExists(atPath: path + "-wal"))
        let summary = try LedgerFile.check(path: path, verifier: ledger.signer.verifier)
        #expect(summary.checkpoint == checkpoint)
        #expect(summary.origin == ledger.signer.name)
        // A second backup never writes over the first.
        await #expect(throws: Backup.Problem.self) { try await ledger.store.reader.backup(to: path) }
    }

    @Test func everyDisagreementWithTheSignedCheckpointIsNamed() async throws {
        let (ledger, path, checkpoint) = try await backedUp()
        let verifier = ledger.signer.verifier
        #expect(try tampered(path, "UPDATE entries SET body = body || ' ' WHERE idx = 3", verifier: verifier)
            .contains("hash 3 (tree level 0, index 3) does not match the entries"))
        #expect(try tampered(path, "UPDATE entries SET signature = zeroblob(64) WHERE idx = 2", verifier: verifier)
            .contains("entry 2: signature: does not verify"))
        #expect(try tampered(path, "UPDATE tree SET hash = zeroblob(32) WHERE level > 0", verifier: verifier)
            .contains("stored subtree hashes"))
        #expect(try tampered(path, "DELETE FROM entries WHERE idx = \(checkpoint.size - 1)", verifier: verifier)
            .contains("covers \(checkpoint.size) entries but \(checkpoint.size - 1) are stored"))
        #expect(try tampered(path, "UPDATE checkpoints SET note = replace(note, '\n8\n', '\n7\n')", verifier: verifier)
            .contains("does not verify"))
        #expect(try tampered(path, "DROP TABLE meta", verifier: verifier).contains("not a carbonledger database"))
        let stranger = try NoteSigner(skey: NoteSigner.generate(name: "other.example/ledger").skey)
        #expect(throws: LedgerFile.Problem.self) { try LedgerFile.check(path: path, verifier: stranger.verifier) }
    }

    @Test func restoreRefusesWhileAStoreHoldsTheDatabaseThenReplacesIt() async throws {
        let (ledger, path, checkpoint) = try await backedUp()
        #expect(throws: StoreError.self) {
            try Backup.restore(from: path, to: ledger.path, verifier: ledger.signer.verifier)
        }
        _ = try await ledger.ingest([reading("m2", consumer: "c2", start: hour)])
        ledger.store.close()
        let restored = try Backup.restore(from: path, to: ledger.path, verifier: ledger.signer.verifier, now: 42)
        #expect(restored.summary.checkpoint == checkpoint)
        #expect(restored.previousSize == checkpoint.size + 1)
        #expect(restored.previousKeptAt == ledger.path + ".before-restore-42")
        try ledger.reopen()
        #expect(try await ledger.store.reader.latestCheckpoint() == checkpoint)
    }
}
