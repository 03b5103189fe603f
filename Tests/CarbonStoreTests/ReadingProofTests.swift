import CarbonModel
import CarbonStore
import Foundation
import GRDB
import Testing
import TransparencyLog

/// Reading proofs from each batch's stored chunks (256 leaves rebuilt, not the batch).
@Suite struct ReadingProofTests {
    let hour: Int64 = 1_790_000_000 / 3600 * 3600

    /// 700 readings in three chunks, the meters in no particular order, so a chunk's
    /// readings are not neighbours in the readings table.
    private func ledgerWithABatch() async throws -> (TestLedger, [Reading]) {
        let ledger = try TestLedger()
        _ = try await ledger.register((0..<700).map { consumer("c\($0)") })
        var readings = (0..<700).map { reading("m\(($0 * 397) % 700)", consumer: "c\(($0 * 397) % 700)", start: hour, wh: Int64($0)) }
        readings.swapAt(3, 650)
        #expect(try await ledger.ingest(readings).result?.accepted == 700)
        return (ledger, readings)
    }

    private func expectProof(_ ledger: TestLedger, of reading: Reading, position: Int, size: Int) async throws {
        let proof = try #require(try await ledger.store.reader.readingProof(utility: "u1", meter: reading.meter, start: reading.start))
        #expect(proof.position == position && proof.batchSize == size)
        #expect(proof.reading == String(decoding: reading.leafBytes, as: UTF8.self))
        let entry = try JSONSerialization.jsonObject(with: Data(proof.entry.utf8)) as? [String: Any]
        let root = try #require((entry?["root"] as? String).flatMap { Hash256(base64: $0) })
        try RFC6962.verifyInclusion(
            leafHash: RFC6962.leafHash(reading.leafBytes), index: UInt64(position), size: UInt64(size),
            proof: proof.batchPath, root: root)
    }

    @Test func everyChunkBoundaryProvesAgainstTheBatchRoot() async throws {
        let (ledger, readings) = try await ledgerWithABatch()
        let queue = try DatabaseQueue(path: ledger.path, configuration: { var c = Configuration(); c.readonly = true; return c }())
        let chunkBytes = try await queue.read { db in try Int.fetchOne(db, sql: "SELECT length(chunks) FROM reading_batches") }
        #expect(chunkBytes == 3 * 64, "three chunks of 256, 256 and 188 readings")
        for position in [0, 1, 3, 255, 256, 257, 511, 512, 650, 699] {
            try await expectProof(ledger, of: readings[position], position: position, size: 700)
        }
    }

    @Test func aPartlyRefusedBatchHasChunksOfWhatItStored() async throws {
        let ledger = try TestLedger()
        _ = try await ledger.register((0..<300).map { consumer("c\($0)") })
        var readings = (0..<300).map { reading("m\($0)", consumer: "c\($0)", start: hour, wh: 5) }
        readings[10] = reading("m10", consumer: "nobody", start: hour)
        readings[270] = reading("m270", consumer: "nobody", start: hour)
        #expect(try await ledger.ingest(readings, partial: true).result?.accepted == 298)
        let stored = readings.enumerated().filter { $0.offset != 10 && $0.offset != 270 }.map(\.element)
        for position in [0, 9, 10, 255, 256, 297] {
            try await expectProof(ledger, of: stored[position], position: position, size: 298)
        }
    }

    @Test func aBatchStoredWithoutChunksIsProvedFromAllItsLeaves() async throws {
        let (ledger, readings) = try await ledgerWithABatch()
        ledger.store.close()
        let queue = try DatabaseQueue(path: ledger.path)
        try await queue.write { db in try db.execute(sql: "UPDATE reading_batches SET chunks = NULL") }
        try queue.close()
        try ledger.reopen()
        for position in [0, 300, 699] {
            try await expectProof(ledger, of: readings[position], position: position, size: 700)
        }
    }
}
