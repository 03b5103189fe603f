import CarbonLedger
import CarbonPostgres
import Foundation
import NIOCore
import PostgresNIO
import Testing
import TransparencyLog

/// A primary and a streaming replica (two local clusters, pg_basebackup): the writer
/// signs into the primary, and a reader on the replica serves only checkpoints it has
/// verified against the published key and the key chain.
@Suite("A reader on a streaming replica")
struct ReplicaTests {
    static let origin = "test.example/ledger"

    /// The writer's side: an appender over the primary, a transaction per entry and checkpoint.
    final class Writer: @unchecked Sendable {
        let session: PostgresSession
        let storage: PostgresLedgerStorage
        private var appender: LedgerAppender
        private(set) var leaves: [Hash256] = []
        private(set) var notes: [String] = []

        init(session: PostgresSession, signer: NoteSigner) async throws {
            self.session = session
            storage = PostgresLedgerStorage(session: session)
            let storage = self.storage
            appender = try await onOwnThread {
                try LedgerAppender.load(from: storage, signer: signer, signerPath: "", previous: nil, origin: ReplicaTests.origin)
            }
        }

        /// Appends `count` entries, each with its checkpoint, and returns the last note.
        @discardableResult
        func append(_ count: Int, rotatingTo next: NoteSigner? = nil) async throws -> String {
            for _ in 0..<count {
                try await session.execute("BEGIN")
                let (leaf, note) = try await onOwnThread { [self] in try appendOne(rotatingTo: nil) }
                try await session.execute("COMMIT")
                leaves.append(leaf)
                notes.append(note)
            }
            if let next {
                try await session.execute("BEGIN")
                let (leaf, note) = try await onOwnThread { [self] in try appendOne(rotatingTo: next) }
                try await session.execute("COMMIT")
                leaves.append(leaf)
                notes.append(note)
            }
            return notes.last!
        }

        private func appendOne(rotatingTo next: NoteSigner?) throws -> (Hash256, String) {
            let time = 1_790_000_000 + Int64(leaves.count)
            let entry: LedgerEntry
            if let next {
                entry = .key(next.verifier)
                _ = try appender.handOver(to: next, path: "", overlapUntil: time + 60, time: time, storage: storage)
            } else {
                entry = .zones(ZonesEntry(count: leaves.count, root: RFC6962.leafHash(Array("zone \(leaves.count)".utf8))))
                _ = try appender.append(entry, time: time, to: storage)
            }
            let note = try appender.publishCheckpoint(time: time, to: storage)
            return (RFC6962.leafHash(entry.canonicalBytes(time: time)), note)
        }
    }

    @Test func theReplicaServesOnlyVerifiedCheckpointsLagsSafelyAndOutlivesTheWriter() async throws {
        let primary = try LocalCluster()
        let writerSession = try await primary.connect()
        try await PostgresSchema.migrate(writerSession)
        let first = try NoteSigner(skey: NoteSigner.generate(name: Self.origin).skey)
        let second = try NoteSigner(skey: NoteSigner.generate(name: Self.origin).skey)
        let writer = try await Writer(session: writerSession, signer: first)
        try await writer.append(5)

        let replica = try LocalCluster(replicaOf: primary)
        // After the copy: more entries, a key rotation, and entries signed by the new key.
        try await writer.append(4, rotatingTo: second)
        let latest = try await writer.append(6)
        try await replica.waitForReplay(of: primary)

        let readerSession = try await replica.connect()
        let ledger = VerifiedLedger(session: readerSession, publishedKey: first.verifier)
        let served = try #require(try await ledger.refresh())
        #expect(served.note == latest && served.checkpoint.size == 16)
        #expect(await ledger.problem == nil)
        for (index, leaf) in writer.leaves.enumerated() {
            let (proof, checkpoint) = try await ledger.inclusionProof(index: UInt64(index))
            try RFC6962.verifyInclusion(
                leafHash: leaf, index: UInt64(index), size: 16, proof: proof, root: checkpoint.checkpoint.rootHash)
        }
        // Each checkpoint the writer published is consistent with what the reader serves.
        for note in writer.notes.dropLast() {
            let old = try SignedCheckpoint.open(note, verifiers: [first.verifier, second.verifier]).checkpoint
            let (proof, _) = try await ledger.consistencyProof(from: old.size)
            try RFC6962.verifyConsistency(
                size1: old.size, size2: 16, root1: old.rootHash, root2: served.checkpoint.rootHash, proof: proof)
        }

        // A lagging replica answers the older signed state.
        try await replica.pauseReplay()
        try await writer.append(3)
        #expect(try await ledger.refresh() == served)
        await #expect(throws: VerifiedLedger.Refusal.self) { try await ledger.inclusionProof(index: 16) }
        try await replica.resumeReplay()
        try await replica.waitForReplay(of: primary)
        #expect(try await ledger.refresh()?.checkpoint.size == 19)

        // A checkpoint row no ledger key signed, larger than any, reaches the replica: it
        // is refused and named, and the genuine checkpoint below it is served.
        let stranger = try NoteSigner(skey: NoteSigner.generate(name: Self.origin).skey)
        let forged = try SignedCheckpoint.sign(
            Checkpoint(origin: Self.origin, size: 1_000, rootHash: RFC6962.leafHash([1])), signers: [stranger]).note
        try await writerSession.execute(
            "INSERT INTO checkpoints(size, root, note, time) VALUES (1000, \(ByteBuffer(bytes: [1])), \(forged), 0)")
        let genuine = try await writer.append(1)
        try await replica.waitForReplay(of: primary)
        let after = try #require(try await ledger.refresh())
        #expect(after.note == genuine && after.checkpoint.size == 20)
        #expect(await ledger.problem?.contains("checkpoint of size 1000 is not served: its note does not verify") == true)

        // The writer's server stops dead: the reader goes on serving its verified state.
        await writerSession.close()
        try primary.stop()
        #expect(try await ledger.refresh() == after)
        let (proof, _) = try await ledger.inclusionProof(index: 19)
        try RFC6962.verifyInclusion(
            leafHash: writer.leaves[19], index: 19, size: 20, proof: proof, root: after.checkpoint.rootHash)
        // And the replica itself refuses writes.
        await #expect { try await readerSession.execute("DELETE FROM checkpoints") } throws: { error in
            "\(error)".contains("25006")
        }
        await readerSession.close()
    }

    @Test func aTreeThatIsNotTheSignedOneOrAnotherPublishedKeyIsRefused() async throws {
        let primary = try LocalCluster()
        let session = try await primary.connect()
        try await PostgresSchema.migrate(session)
        let first = try NoteSigner(skey: NoteSigner.generate(name: Self.origin).skey)
        let writer = try await Writer(session: session, signer: first)
        let good = try await writer.append(4)
        let ledger = VerifiedLedger(session: session, publishedKey: first.verifier)
        #expect(try await ledger.refresh()?.note == good)

        // The tree's rows are changed under a later checkpoint (the subtree of its 8
        // entries): that checkpoint is refused, and the largest below it that the stored
        // tree still matches (7 entries, which that subtree does not cover) is served.
        try await writer.append(4)
        try await session.execute("UPDATE tree SET hash = \(ByteBuffer(repeating: 7, count: 32)) WHERE level = 3 AND idx = 0")
        #expect(try await ledger.refresh()?.note == writer.notes[6])
        #expect(await ledger.problem?.contains("does not hash to its signed root") == true)

        // A reader that was given another published key serves nothing.
        let stranger = try NoteSigner(skey: NoteSigner.generate(name: Self.origin).skey)
        let misled = VerifiedLedger(session: session, publishedKey: stranger.verifier)
        #expect(try await misled.refresh() == nil)
        #expect(await misled.problem?.contains("does not verify with the key in force") == true)
        await session.close()
    }
}
