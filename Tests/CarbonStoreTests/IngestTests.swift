import CarbonLedger
import Foundation
import GRDB
import CarbonModel
import CarbonStore
import Testing
import TransparencyLog

@Suite struct IngestTests {
    let hour: Int64 = 1_790_000_000 / 3600 * 3600

    private func ledgerWithConsumers() async throws -> TestLedger {
        let ledger = try TestLedger()
        let outcome = try await ledger.register([consumer("c1"), consumer("c2"), consumer("x1", utility: "u2")])
        #expect(outcome.result?.accepted == 3)
        return ledger
    }

    @Test func acceptedBatchIsOneSignedEntryWithTheBatchRoot() async throws {
        let ledger = try await ledgerWithConsumers()
        let readings = [reading("m1", consumer: "c1", start: hour), reading("m2", consumer: "c2", start: hour)]
        let result = try #require(try await ledger.ingest(readings).result)
        #expect(result.accepted == 2)
        #expect(result.duplicates == 0)
        let note = try #require(result.checkpoint)
        let checkpoint = try SignedCheckpoint.open(note, verifiers: [ledger.signer.verifier]).checkpoint
        let index = try #require(result.entry)
        #expect(checkpoint.size == index + 1)

        let stored = try await ledger.store.reader.entries(start: index, end: index + 1).entries[0]
        #expect(EntrySignature.verify(entry: stored.body, signature: stored.signature, verifier: ledger.signer.verifier))
        guard case .object(let fields) = try JSONValue.parse(stored.body) else { Issue.record("entry is not an object"); return }
        let leaves = readings.map { RFC6962.leafHash($0.leafBytes) }
        #expect(fields["root"] == .string(RFC6962.rootHash(ofLeafHashes: leaves).base64))
        #expect(fields["count"] == .int(2))
        #expect(fields["kind"] == .string("readings"))
        #expect(fields["first_start"] == .int(hour))
        #expect(fields["last_end"] == .int(hour + 3600))
        #expect(fields["batch"] == .null)
    }

    @Test func sameReadingAgainIsADuplicateNotAnEntry() async throws {
        let ledger = try await ledgerWithConsumers()
        let readings = [reading("m1", consumer: "c1", start: hour)]
        _ = try await ledger.ingest(readings)
        let before = try ledger.counts()
        let again = try #require(try await ledger.ingest(readings).result)
        #expect(again.accepted == 0)
        #expect(again.duplicates == 1)
        #expect(again.entry == nil)
        #expect(try ledger.counts() == before)
    }

    @Test func sameKeyWithOtherContentIsAConflictNamingMeterAndStart() async throws {
        let ledger = try await ledgerWithConsumers()
        _ = try await ledger.ingest([reading("m1", consumer: "c1", start: hour)])
        let before = try ledger.counts()
        let outcome = try await ledger.ingest([
            reading("m2", consumer: "c2", start: hour), reading("m1", consumer: "c1", start: hour, wh: 999),
        ])
        let rejection = try #require(outcome.rejection)
        #expect(rejection.kind == .conflict)
        #expect(rejection.errors.map(\.index) == [1])
        #expect(rejection.errors[0].message.contains("m1"))
        #expect(rejection.errors[0].message.contains("\(hour)"))
        #expect(try ledger.counts() == before)
    }

    @Test func overlapWithStoredReadingIsAConflict() async throws {
        let ledger = try await ledgerWithConsumers()
        _ = try await ledger.ingest([reading("m1", consumer: "c1", start: hour)])
        let before = try ledger.counts()
        let outcome = try await ledger.ingest([reading("m1", consumer: "c1", start: hour + 1800)])
        #expect(outcome.rejection?.kind == .conflict)
        #expect(outcome.rejection?.errors.first?.message.contains("overlaps") == true)
        #expect(try ledger.counts() == before)
        // A reading that ends where the stored one starts does not overlap.
        let earlier = try await ledger.ingest([reading("m1", consumer: "c1", start: hour - 3600)])
        #expect(earlier.result?.accepted == 1)
    }

    @Test func overlapAndRepeatWithinOneBatchAreConflicts() async throws {
        let ledger = try await ledgerWithConsumers()
        let before = try ledger.counts()
        let outcome = try await ledger.ingest([
            reading("m1", consumer: "c1", start: hour + 3600),
            reading("m1", consumer: "c1", start: hour + 1800),  // overlaps record 0
            reading("m2", consumer: "c2", start: hour),
            reading("m2", consumer: "c2", start: hour, wh: 5),  // same key, other content
        ])
        let rejection = try #require(outcome.rejection)
        #expect(rejection.kind == .conflict)
        #expect(Set(rejection.errors.map(\.index)) == [0, 3] || Set(rejection.errors.map(\.index)) == [1, 3])
        #expect(try ledger.counts() == before)
    }

    @Test func repeatWithinOneBatchIsCountedOnce() async throws {
        let ledger = try await ledgerWithConsumers()
        let one = reading("m1", consumer: "c1", start: hour)
        let result = try #require(try await ledger.ingest([one, one]).result)
        #expect(result.accepted == 1)
        #expect(result.duplicates == 1)
    }

    @Test func unknownConsumerIsInvalidAndForeignConsumerIsForbidden() async throws {
        let ledger = try await ledgerWithConsumers()
        let before = try ledger.counts()
        let unknown = try await ledger.ingest([reading("m1", consumer: "nobody", start: hour)])
        #expect(unknown.rejection?.kind == .invalid)
        #expect(unknown.rejection?.errors == [RecordError(index: 0, field: "consumer", message: "unknown consumer \"nobody\": register it first")])

        // Forbidden outranks invalid, and every bad record is listed.
        let mixed = try await ledger.ingest([
            reading("m1", consumer: "nobody", start: hour),
            reading("m2", consumer: "c1", start: hour),
            reading("m3", consumer: "x1", start: hour),
        ])
        let rejection = try #require(mixed.rejection)
        #expect(rejection.kind == .forbidden)
        #expect(rejection.errors.map(\.index) == [0, 2])
        #expect(rejection.errors.map(\.field) == ["consumer", "consumer"])
        #expect(try ledger.counts() == before)
    }

    @Test func aUtilityMayNotPushAnotherUtilitysReadings() async throws {
        let ledger = try await ledgerWithConsumers()
        let outcome = try await ledger.ingest([reading("m9", consumer: "x1", start: hour, utility: "u2")], utility: "u1")
        #expect(outcome.rejection?.kind == .forbidden)
        #expect(outcome.rejection?.errors.first?.field == "utility")
    }

    @Test func parseErrorsRefuseTheBatchAndAreListedWithTheOthers() async throws {
        let ledger = try await ledgerWithConsumers()
        let before = try ledger.counts()
        let outcome = try await ledger.ingest(
            [reading("m1", consumer: "c1", start: hour)],
            parseErrors: [RecordError(index: 1, field: "import_wh", message: "must be a non-negative integer")])
        #expect(outcome.rejection?.kind == .invalid)
        #expect(outcome.rejection?.errors.map(\.index) == [1])
        #expect(try ledger.counts() == before)
    }

    @Test func partialStoresTheGoodRecordsAndListsTheRest() async throws {
        let ledger = try await ledgerWithConsumers()
        let result = try #require(try await ledger.ingest(
            [reading("m1", consumer: "c1", start: hour), reading("m2", consumer: "nobody", start: hour),
             reading("m3", consumer: "c2", start: hour)],
            partial: true, parseErrors: [RecordError(index: 3, field: "start", message: "missing")]).result)
        #expect(result.accepted == 2)
        #expect(result.errors.map(\.index) == [1, 3])
        let stored = try await ledger.store.reader.entries(start: result.entry!, end: result.entry! + 1).entries[0]
        guard case .object(let fields) = try JSONValue.parse(stored.body) else { Issue.record("not an object"); return }
        let leaves = [reading("m1", consumer: "c1", start: hour), reading("m3", consumer: "c2", start: hour)]
            .map { RFC6962.leafHash($0.leafBytes) }
        #expect(fields["root"] == .string(RFC6962.rootHash(ofLeafHashes: leaves).base64))
    }

    @Test func batchIDRetryAnswersTheOriginalAnswer() async throws {
        let ledger = try await ledgerWithConsumers()
        let readings = [reading("m1", consumer: "c1", start: hour)]
        let first = try #require(try await ledger.ingest(readings, batchID: "b-1").result)
        let between = try #require(try await ledger.ingest([reading("m2", consumer: "c2", start: hour)]).result)
        let before = try ledger.counts()
        let retry = try #require(try await ledger.ingest(readings, batchID: "b-1").result)
        #expect(retry.replayed)
        #expect(retry.accepted == first.accepted)
        #expect(retry.entry == first.entry)
        #expect(retry.checkpoint == first.checkpoint)
        #expect(retry.checkpoint != between.checkpoint)
        #expect(try ledger.counts() == before)
        // Batch ids are per utility: another utility may use the same id.
        let other = try #require(try await ledger.ingest(
            [reading("m9", consumer: "x1", start: hour, utility: "u2")], utility: "u2", batchID: "b-1").result)
        #expect(!other.replayed)
        #expect(other.accepted == 1)
    }

    @Test func concurrentBatchesAllCommitIntoOneConsistentLedger() async throws {
        let ledger = try await ledgerWithConsumers()
        let results = try await withThrowingTaskGroup(of: BatchResult?.self) { group in
            for batch in 0..<16 {
                group.addTask {
                    try await ledger.ingest((0..<50).map { reading("m\(batch)-\($0)", consumer: "c1", start: hour) }).result
                }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(results.count == 16)
        #expect(results.allSatisfy { $0?.accepted == 50 })
        #expect(Set(results.compactMap { $0?.entry }).count == 16)
        // Every checkpoint ever signed is consistent with the latest.
        let latest = try #require(try await ledger.store.reader.latestCheckpoint())
        for note in Set(results.compactMap { $0?.checkpoint }) {
            let old = try SignedCheckpoint.open(note, verifiers: [ledger.signer.verifier]).checkpoint
            let proof = try await ledger.store.reader.consistencyProof(from: old.size, to: latest.size)
            try RFC6962.verifyConsistency(
                size1: old.size, size2: latest.size, root1: old.rootHash, root2: latest.root, proof: proof.hashes)
        }
    }

    @Test func reopenedStoreExtendsTheLedgerConsistently() async throws {
        let ledger = try await ledgerWithConsumers()
        let first = try #require(try await ledger.ingest([reading("m1", consumer: "c1", start: hour)]).result)
        let old = try SignedCheckpoint.open(first.checkpoint!, verifiers: [ledger.signer.verifier]).checkpoint
        try ledger.reopen()
        // The meter state survived: an overlapping reading is still a conflict.
        #expect(try await ledger.ingest([reading("m1", consumer: "c1", start: hour + 60)]).rejection?.kind == .conflict)
        let second = try #require(try await ledger.ingest([reading("m1", consumer: "c1", start: hour + 3600)]).result)
        let new = try SignedCheckpoint.open(second.checkpoint!, verifiers: [ledger.signer.verifier]).checkpoint
        let proof = try await ledger.store.reader.consistencyProof(from: old.size, to: new.size)
        try RFC6962.verifyConsistency(size1: old.size, size2: new.size, root1: old.rootHash, root2: new.rootHash, proof: proof.hashes)
    }

    @Test func anotherKeyCannotOpenTheLedger() async throws {
        let ledger = try await ledgerWithConsumers()
        let stranger = try NoteSigner(skey: NoteSigner.generate(name: "test.example/ledger").skey)
        // While the store is open, a second one on the same database is refused outright.
        #expect { _ = try CarbonStore(path: ledger.path, signer: ledger.signer, zones: nil) } throws: { error in
            guard case StoreError.locked(let message) = error else { return false }
            return message.contains("in use by another carbonledgerd")
        }
        ledger.store.close()
        #expect { _ = try CarbonStore(path: ledger.path, signer: stranger, zones: nil) } throws: { error in
            guard case StoreError.keyMismatch = error else { return false }
            return true
        }
    }

    /// A child spawned while the store was open shares its lock from fork to exec. A store
    /// closed and opened again in this process waits that out instead of calling the lock
    /// another daemon's.
    @Test func aLockLeftWithAChildOfThisProcessIsWaitedFor() async throws {
        let ledger = try await ledgerWithConsumers()
        ledger.store.close()
        // Another holder keeps the lock a moment, while the lock file still names this process.
        let lockPath = ledger.path + ".lock"
        let holder = Process()
        holder.executableURL = URL(fileURLWithPath: "/usr/bin/flock")
        holder.arguments = ["--exclusive", lockPath, "sleep", "0.3"]
        try holder.run()
        let probe = open(lockPath, O_RDWR | O_CLOEXEC)
        defer { close(probe) }
        while flock(probe, LOCK_EX | LOCK_NB) == 0 { flock(probe, LOCK_UN) }
        let store = try CarbonStore(path: ledger.path, signer: ledger.signer, zones: nil)
        #expect(try await store.reader.latestCheckpoint() != nil)
        store.close()
        holder.waitUntilExit()
    }
}

@Suite struct OutOfOrderTests {
    let hour: Int64 = 1_790_000_000 / 3600 * 3600

    @Test func concurrentClientsHoursArriveOutOfOrderAndAreCheckedExactly() async throws {
        let ledger = try TestLedger()
        _ = try await ledger.register([consumer("c1")])
        // Hours 5, 3, 4, 1 arrive in that order (four clients racing), then a retry and two bad ones.
        for h: Int64 in [5, 3, 4, 1] {
            #expect(try await ledger.ingest([reading("m1", consumer: "c1", start: hour + h * 3600)]).result?.accepted == 1)
        }
        let retry = try await ledger.ingest([reading("m1", consumer: "c1", start: hour + 4 * 3600)])
        #expect(retry.result?.duplicates == 1)
        let changed = try await ledger.ingest([reading("m1", consumer: "c1", start: hour + 3 * 3600, wh: 7)])
        #expect(changed.rejection?.kind == .conflict)
        let straddling = try await ledger.ingest([reading("m1", consumer: "c1", start: hour + 2 * 3600 + 1800)])
        #expect(straddling.rejection?.kind == .conflict)
        #expect(straddling.rejection?.errors.first?.message.contains("overlaps the stored reading") == true)
        // An old interval far behind the recent ones is checked against the database.
        #expect(try await ledger.ingest([reading("m1", consumer: "c1", start: hour + 1800)]).rejection?.kind == .conflict)
        #expect(try await ledger.ingest([reading("m1", consumer: "c1", start: hour - 3600)]).result?.accepted == 1)
        // After a restart nothing is held in memory, and the same answers come from the database.
        try ledger.reopen()
        #expect(try await ledger.ingest([reading("m1", consumer: "c1", start: hour + 4 * 3600)]).result?.duplicates == 1)
        #expect(try await ledger.ingest([reading("m1", consumer: "c1", start: hour + 2 * 3600 + 1800)]).rejection?.kind == .conflict)
        #expect(try await ledger.ingest([reading("m1", consumer: "c1", start: hour + 2 * 3600)]).result?.accepted == 1)
    }

    /// A batch id stored before the store had its own result type holds the API's answer
    /// JSON (without `errors` and `replayed` when empty or false): a retry still gets it.
    @Test func aBatchResultStoredInTheEarlierFormatStillAnswersARetry() async throws {
        let ledger = try TestLedger()
        _ = try await ledger.register([consumer("c1")])
        let readings = [reading("m1", consumer: "c1", start: 1_790_000_000 / 3600 * 3600)]
        let first = try #require(try await ledger.ingest(readings, batchID: "old").result)
        let queue = try DatabaseQueue(path: ledger.path)
        let earlier = #"{"accepted":1,"duplicates":0,"entry":\#(first.entry!),"entries":[\#(first.entry!)],"checkpoint":"note"}"#
        try await queue.write { db in
            try db.execute(sql: "UPDATE batch_ids SET response = ? WHERE batch = 'old'", arguments: [Data(earlier.utf8)])
        }
        try queue.close()
        let retry = try #require(try await ledger.ingest(readings, batchID: "old").result)
        #expect(retry == BatchResult(
            accepted: 1, duplicates: 0, entry: first.entry, entries: [first.entry!], checkpoint: "note", replayed: true))
    }
}
