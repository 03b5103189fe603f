import CarbonLedger
@testable import CarbonPostgres
import CarbonStore
import Foundation
import Logging
import NIOCore
import PostgresNIO
import Testing
import TransparencyLog

@Suite("The PostgreSQL store's pieces, against a throwaway cluster")
struct PostgresStoreTests {
    @Test func migrationsApplyOnceAndANewerSchemaIsRefused() async throws {
        let cluster = try LocalCluster()
        let session = try await cluster.connect()
        #expect(try await PostgresSchema.migrate(session) == [1])
        #expect(try await PostgresSchema.migrate(session) == [])
        let tables = try await session.rows(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'")
        #expect(try tables[0].decode(Int64.self) == 22)  // 21 of the store, and schema_migrations

        // A daemon that knows only version 1 meets a database a newer one migrated.
        let newer = PostgresSchema.migrations + [
            PostgresSchema.Migration(version: 2, name: "later", statements: ["CREATE TABLE later(x BIGINT)"]),
        ]
        #expect(try await PostgresSchema.migrate(session, migrations: newer) == [2])
        await #expect { try await PostgresSchema.migrate(session) } throws: { error in
            guard case PostgresStoreError.schema(let message) = error else { return false }
            return message.contains("schema version 2, newer than this daemon's 1")
        }
        await session.close()
    }

    @Test func aFailedMigrationLeavesNothingBehind() async throws {
        let cluster = try LocalCluster()
        let session = try await cluster.connect()
        let broken = [PostgresSchema.Migration(version: 1, name: "broken", statements: [
            "CREATE TABLE first(x BIGINT)", "CREATE TABLE second(x NOSUCHTYPE)",
        ])]
        await #expect { try await PostgresSchema.migrate(session, migrations: broken) } throws: { error in
            "\(error)".contains("NOSUCHTYPE") || "\(error)".contains("nosuchtype")
        }
        let left = try await session.rows("SELECT count(*) FROM information_schema.tables WHERE table_name = 'first'")
        #expect(try left[0].decode(Int64.self) == 0)
        #expect(try await PostgresSchema.migrate(session) == [1])
        await session.close()
    }

    @Test func copiedReadingsComeBackExactlyAndARefusedCopyLeavesNothing() async throws {
        let cluster = try LocalCluster()
        let session = try await cluster.connect()
        try await PostgresSchema.migrate(session)
        let refs: [String?] = [nil, "", "plain", "tab\there", "new\nline", "back\\slash", "\\N", "cr\r", "收据 ✓"]
        let rows = (0..<5_000).map { i in
            ReadingRow(
                start: 1_790_000_000 + Int64(i / 100) * 3600, meter: Int64(i % 100), consumer: Int64(i % 37),
                durationS: 3600, importWh: i == 0 ? Int64.max : Int64(i * 7), exportWh: i == 1 ? Int64.min : 0,
                quality: Int64(i % 3), ref: refs[i % refs.count], batch: 42, position: Int64(i))
        }
        try await session.transaction { try await ReadingCopy.copy(rows, into: $0) }

        var stored: [ReadingRow] = []
        for row in try await session.rows("""
            SELECT start, meter, consumer, duration_s, import_wh, export_wh, quality, ref, batch, position
            FROM readings ORDER BY position
            """)
        {
            let (start, meter, consumer, duration, importWh, exportWh, quality, ref, batch, position) = try row.decode(
                (Int64, Int64, Int64, Int64, Int64, Int64, Int16, String?, Int64, Int64).self)
            stored.append(ReadingRow(
                start: start, meter: meter, consumer: consumer, durationS: duration, importWh: importWh,
                exportWh: exportWh, quality: Int64(quality), ref: ref, batch: batch, position: position))
        }
        #expect(stored == rows)

        // One row repeats a stored key: the whole batch is refused and none of it stays.
        let clash = (0..<1_000).map { i in
            ReadingRow(
                start: 1_800_000_000 + Int64(i) * 3600, meter: 1, consumer: 1, durationS: 3600, importWh: 1,
                exportWh: 0, quality: 0, ref: nil, batch: 43, position: Int64(i))
        } + [rows[17]]
        await #expect { try await session.transaction { try await ReadingCopy.copy(clash, into: $0) } } throws: { error in
            "\(error)".contains("COPY readings (1001 rows)") && "\(error)".contains("23505")
        }
        let count = try await session.rows("SELECT count(*) FROM readings")
        #expect(try count[0].decode(Int64.self) == 5_000)
        await session.close()
    }

    @Test func theAppendPathSignsIntoPostgreSQLAndEveryEntryProves() async throws {
        let cluster = try LocalCluster()
        let session = try await cluster.connect()
        try await PostgresSchema.migrate(session)
        let origin = "test.example/ledger"
        let signer = try NoteSigner(skey: NoteSigner.generate(name: origin).skey)
        let storage = PostgresLedgerStorage(session: session)

        // Each append and checkpoint in its own transaction, as the writer commits.
        let appender = try LedgerAppender.load(from: storage, signer: signer, signerPath: "", previous: nil, origin: origin)
        let shared = AppenderBox(appender)
        var leaves: [Hash256] = []
        var notes: [String] = []
        for i in 0..<37 {
            let entry = LedgerEntry.zones(ZonesEntry(count: i, root: RFC6962.leafHash(Array("zone \(i)".utf8))))
            leaves.append(RFC6962.leafHash(entry.canonicalBytes(time: 1_790_000_000 + Int64(i))))
            try await session.execute("BEGIN")
            let note = try await onOwnThread {
                try shared.mutate { appender in
                    _ = try appender.append(entry, time: 1_790_000_000 + Int64(i), to: storage)
                    return try appender.publishCheckpoint(time: 1_790_000_000 + Int64(i), to: storage)
                }
            }
            try await session.execute("COMMIT")
            notes.append(note)
        }
        let proven = leaves
        let last = try SignedCheckpoint.open(notes.last!, verifiers: [signer.verifier]).checkpoint
        #expect(last.size == 37 && last.rootHash == RFC6962.rootHash(ofLeafHashes: leaves))

        let published = notes
        // Every entry proves against the last checkpoint from the stored tree, and every
        // earlier checkpoint is consistent with it.
        try await onOwnThread {
            for (index, leaf) in proven.enumerated() {
                let proof = try MerkleProofs.inclusionProof(index: UInt64(index), size: 37, nodes: storage)
                try RFC6962.verifyInclusion(leafHash: leaf, index: UInt64(index), size: 37, proof: proof, root: last.rootHash)
            }
            for note in published.dropLast() {
                let old = try SignedCheckpoint.open(note, verifiers: [signer.verifier]).checkpoint
                let proof = try MerkleProofs.consistencyProof(from: old.size, to: 37, nodes: storage)
                try RFC6962.verifyConsistency(
                    size1: old.size, size2: 37, root1: old.rootHash, root2: last.rootHash, proof: proof)
            }
        }

        // Loaded again it goes on where it stopped; another key cannot sign on.
        try await onOwnThread {
            let reloaded = try LedgerAppender.load(from: storage, signer: signer, signerPath: "", previous: nil, origin: origin)
            #expect(reloaded.nextIndex == 37 && reloaded.lastNote == published.last)
            let stranger = try NoteSigner(skey: NoteSigner.generate(name: origin).skey)
            #expect(throws: LedgerAppendError.self) {
                _ = try LedgerAppender.load(from: storage, signer: stranger, signerPath: "", previous: nil, origin: origin)
            }
        }
        await session.close()
    }

    /// A pipe this process holds open (a daemon's output, say) must not be held by a
    /// server started meanwhile: its reader would never see the end of it.
    @Test func placeholdersAreNumberedOutsideQuotedText() {
        #expect(PostgresSQL.numbered("SELECT ?, ? FROM t WHERE a = '?' AND \"b?\" = ? AND c = 'it''s ?'")
            == "SELECT $1, $2 FROM t WHERE a = '?' AND \"b?\" = $3 AND c = 'it''s ?'")
        #expect(PostgresSQL.numbered("WHERE a = ?2 AND b = ?1 AND c = ?12") == "WHERE a = $2 AND b = $1 AND c = $12")
        #expect(PostgresSQL.numbered("?") == "$1")
        #expect(PostgresSQL.numbered("") == "")
    }

    @Test func aSessionWhoseServerStoppedFailsEveryStatementAtOnce() async throws {
        let cluster = try LocalCluster()
        let session = try await cluster.connect()
        _ = try await session.rows("SELECT 1")
        try cluster.stop()
        try await LocalCluster.waitUntil { session.connection.isClosed }
        await #expect { try await session.execute("SELECT 1") } throws: { error in
            guard case PostgresStoreError.unreachable(let message) = error else { return false }
            return message.contains("closed (the server stopped or dropped it)")
        }
    }

    @Test func theServerHoldsNoneOfThisProcesssDescriptors() throws {
        var ends: [Int32] = [0, 0]
        try #require(pipe(&ends) == 0)
        defer { close(ends[0]); close(ends[1]) }
        let cluster = try LocalCluster()
        let postmaster = try #require(try String(contentsOfFile: cluster.data + "/postmaster.pid", encoding: .utf8)
            .split(separator: "\n").first.map(String.init))
        let held = try FileManager.default.contentsOfDirectory(atPath: "/proc/\(postmaster)/fd").map {
            try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(postmaster)/fd/\($0)")
        }
        var info = stat()
        try #require(fstat(ends[1], &info) == 0)
        #expect(!held.isEmpty)
        #expect(!held.contains("pipe:[\(info.st_ino)]"))
    }

    @Test func oneWriterAtATimeAndTheNextTakesOverWhenItsConnectionEnds() async throws {
        let cluster = try LocalCluster()
        let first = try await cluster.connect()
        let second = try await cluster.connect()
        try await WriterLock.acquire(on: first)
        let holder = try await first.rows("SELECT pg_backend_pid()")[0].decode(Int32.self)
        await #expect { try await WriterLock.acquire(on: second) } throws: { error in
            guard case PostgresStoreError.locked(let message) = error else { return false }
            return message.contains("written by another carbonledgerd (server process \(holder), connected from a local socket)")
                && message.contains("--read-only")
        }
        // The holder's connection ends without a word (a crash): the server frees the lock.
        await first.close()
        try await LocalCluster.waitUntil { (try? await WriterLock.acquire(on: second)) != nil }
        await second.close()
    }
}

/// An appender shared with a detached task (its calls block while waiting for the server).
final class AppenderBox: @unchecked Sendable {
    private var appender: LedgerAppender
    private let lock = NSLock()
    init(_ appender: LedgerAppender) { self.appender = appender }
    func mutate<T>(_ work: (inout LedgerAppender) throws -> T) throws -> T {
        lock.lock()
        defer { lock.unlock() }
        return try work(&appender)
    }
}
