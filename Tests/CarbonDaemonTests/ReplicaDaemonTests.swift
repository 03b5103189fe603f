import CarbonClient
import CarbonPostgres
import Foundation
import Testing
import TransparencyLog

#if canImport(Glibc)
import Glibc
#endif

/// One writer daemon on a PostgreSQL primary, one `--read-only` daemon on a streaming
/// replica of it: the reader serves what the writer signed, proofs that verify against
/// the writer's checkpoints, refuses writes naming the writer, and goes on serving
/// once the writer is killed.
@Suite struct ReplicaDaemonTests {
    static let hour = 1_790_000_000 / 3600 * 3600

    @Test func aReadOnlyDaemonOnAReplicaServesTheWritersLedgerAndRefusesWrites() async throws {
        let primary = try LocalCluster()
        let writer = try DaemonProcess()
        writer.databaseURL = primary.url
        try writer.writeConfig()
        try writer.start()
        let client = try writer.client()
        let factors = try client.post("/v1/factors?dataset=zj-2026", """
            zone,kind,year,mg_per_kwh,source
            CN-ZJ,average,2026,515300,test
            CN,residual,2026,585600,test
            """, contentType: "text/csv")
        #expect(factors.status == 200, "\(factors.text)")
        #expect(try client.post("/v1/consumers", LedgerOverSocketTests.consumers).status == 200)
        var notes: [String] = []
        for hour in 0..<3 {
            let answer = try client.post("/v1/readings", LedgerOverSocketTests.readings(hour: hour, meters: 0..<4))
            #expect(answer.status == 200, "\(answer.text)")
            notes.append(try #require(answer.json()["checkpoint"] as? String))
        }

        let replica = try LocalCluster(replicaOf: primary)
        try await replica.waitForReplay(of: primary)
        let reader = try DaemonProcess(origin: writer.origin)
        reader.databaseURL = replica.url
        reader.daemonConfig = #"writer = "carbonledgerd on the primary, /run/carbonledger/api.sock""#
        reader.ledgerConfig = "vkey = \"\(writer.vkey)\""
        try reader.writeConfig()
        try reader.start(arguments: ["--read-only"])
        let replicaClient = try reader.client()

        // The reader serves the writer's latest checkpoint, and every proof verifies against the writer's.
        let served = try replicaClient.get("/v1/ledger/checkpoint").text
        #expect(served == notes.last)
        let latest = try SignedCheckpoint.open(try #require(notes.last), verifiers: [writer.verifier]).checkpoint
        for note in notes.dropLast() {
            let old = try SignedCheckpoint.open(note, verifiers: [writer.verifier]).checkpoint
            let proof = try replicaClient.get("/v1/ledger/proof/consistency?from=\(old.size)&to=\(latest.size)").json()
            try RFC6962.verifyConsistency(
                size1: old.size, size2: latest.size, root1: old.rootHash, root2: latest.rootHash,
                proof: (proof["hashes"] as? [String] ?? []).compactMap { Hash256(base64: $0) })
        }
        for meter in 0..<4 {
            let path = "/v1/readings/u1/m\(meter)/\(Self.hour + 3600)/proof"
            let (fromReader, fromWriter) = (try replicaClient.get(path), try client.get(path))
            #expect(fromReader.status == 200 && fromReader.text == fromWriter.text)
            let proof = try fromReader.json()
            let index = try #require(proof["entry_index"] as? Int)
            let entry = Array(try #require(proof["entry"] as? String).utf8)
            try RFC6962.verifyInclusion(
                leafHash: RFC6962.leafHash(entry), index: UInt64(index), size: latest.size,
                proof: (proof["entry_path"] as? [String] ?? []).compactMap { Hash256(base64: $0) }, root: latest.rootHash)
        }
        // Scores and emissions: the same answers as the writer's.
        let period = "2026-09"
        for path in ["/v1/consumers/c1/score?period=\(period)", "/v1/consumers/c2/emissions?from=\(Self.hour)&to=\(Self.hour + 86_400)&step=hour"] {
            let (fromReader, fromWriter) = (try replicaClient.get(path), try client.get(path))
            #expect(fromReader.status == 200, "\(path): \(fromReader.text) / \(fromWriter.text)")
            #expect(fromReader.text == fromWriter.text, "\(path)")
        }

        // Writes are refused, naming the writer.
        let refused = try replicaClient.post("/v1/readings", LedgerOverSocketTests.readings(hour: 9, meters: 0..<1))
        #expect(refused.status == 405)
        #expect(refused.text.contains("carbonledgerd on the primary, /run/carbonledger/api.sock"))
        #expect(refused.header("allow") == "GET, HEAD")

        // Backups of a PostgreSQL store are the server's own.
        let backup = try client.request("POST", "/v1/admin/backup")
        #expect(backup.status == 501 && backup.text.contains("pg_dump"), "\(backup.text)")

        // A lagging replica answers the older signed state, then catches up.
        try await replica.pauseReplay()
        let later = try client.post("/v1/readings", LedgerOverSocketTests.readings(hour: 5, meters: 0..<4))
        let laterNote = try #require(later.json()["checkpoint"] as? String)
        #expect(try replicaClient.get("/v1/ledger/checkpoint").text == notes.last)
        #expect(try replicaClient.get("/v1/readings/u1/m1/\(Self.hour + 5 * 3600)/proof").status == 404)
        try await replica.resumeReplay()
        try await replica.waitForReplay(of: primary)
        #expect(try replicaClient.get("/v1/ledger/checkpoint").text == laterNote)
        notes.append(laterNote)

        // A checkpoint row no key signed reaches the replica: the reader keeps serving the
        // genuine one, and its health names the refusal.
        let primarySession = try await primary.connect()
        try await primarySession.execute(
            "INSERT INTO checkpoints(size, root, note, time) VALUES (1000, decode(repeat('00', 32), 'hex'), 'forged', 0)")
        await primarySession.close()
        try await replica.waitForReplay(of: primary)
        #expect(try replicaClient.get("/v1/ledger/checkpoint").text == laterNote)
        let health = try replicaClient.get("/v1/health").json()
        #expect(health["status"] as? String == "degraded", "\(health)")
        #expect((health["problems"] as? [String] ?? []).contains { $0.contains("size 1000") }, "\(health)")

        // The writer dies; the reader goes on serving what it verified.
        _ = writer.stop(signal: SIGKILL)
        #expect(try replicaClient.get("/v1/ledger/checkpoint").text == notes.last)
        #expect(try replicaClient.get("/v1/readings/u1/m2/\(Self.hour)/proof").status == 200)
        #expect(try reader.client().get("/v1/health").status == 200)
        #expect(try replicaClient.get("/v1/ledger/checkpoint").text == laterNote)
        #expect(reader.stop() == 0, "\(reader.log)")
        withExtendedLifetime((primary, replica)) {}
    }
}
