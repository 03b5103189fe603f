import CarbonAccounting
import CarbonClient
import CarbonLedger
import CarbonStore
import Foundation
import GRDB
import Testing
import TransparencyLog

/// The auditor's bundle: exported by carbonctl, checked offline, and failing loudly
/// when one byte of the database changed behind the daemon's back; the same verifier
/// run over the database and over the daemon's API fails the same way.
@Suite(.serialized) struct AuditTests {
    /// A ledger with every kind of entry that carries data: zones, factors, readings
    /// (several batches), consumers, certificates, a closed period and its scores.
    static func populated(close: Bool = true, engine: StorageEngine = .sqlite) throws -> DaemonProcess {
        let factors = DaemonProcess.repositoryRoot.appendingPathComponent("config/factors/cn-mee-annual.csv").path
        let daemon = try DaemonProcess(
            extraConfig: "factors = [\"\(factors)\"]\n\(AccountingTests.manualClose)", engine: engine)
        try daemon.start()
        let client = try daemon.client()
        let consumers = (0..<6).map { #"{"consumer":"c\#($0)","utility":"u1","zone":"CN-ZJ","class":"residential"}"# }
        #expect(try client.post("/v1/consumers", consumers.joined(separator: "\n")).status == 200)
        let march = 1_677_600_000  // 2023-03-01T00:00:00+08:00
        for hour in 0..<260 {
            let lines = (0..<6).map {
                #"{"utility":"u1","meter":"m\#($0)","consumer":"c\#($0)","start":\#(march + hour * 3600),"duration_s":3600,"import_wh":\#(100 + $0 * 7 + hour),"quality":"actual"}"#
            }
            #expect(try client.post("/v1/readings", lines.joined(separator: "\n")).status == 200)
        }
        // One reading corrected, so a `corrections` entry and its records are audited too.
        #expect(try client.post("/v1/readings?correct=true", """
            {"utility":"u1","meter":"m3","consumer":"c3","start":\(march + 10 * 3600),"duration_s":3600,"import_wh":150,"reason":"meter_fault"}
            """).status == 200)
        #expect(try client.post("/v1/certificates", """
            {"id":"gec-1","consumer":"c1","start":"2023-03-01T00:00:00+08:00","end":"2023-04-01T00:00:00+08:00","wh":500,"technology":"solar","issuer":"CN-GEC"}
            """).status == 200)
        if close { #expect(try client.post("/v1/periods/2023-03/close", "").status == 200) }
        return daemon
    }

    static func carbonctl(_ arguments: [String], socket: String, state: String? = nil) throws
        -> (status: Int32, out: String, err: String)
    {
        let state = state ?? FileManager.default.temporaryDirectory.appendingPathComponent("cl-state-\(UUID())").path
        return try DaemonProcess.run(
            "carbonctl", arguments, environment: ["CARBONLEDGER_SOCKET": socket, "CARBONLEDGER_STATE_DIR": state])
    }

    /// Exports the daemon's ledger into a fresh folder and audits it offline.
    static func exportAndAudit(_ daemon: DaemonProcess, name: String) throws -> (status: Int32, out: String, err: String) {
        let bundle = daemon.directory.appendingPathComponent(name).path
        let export = try carbonctl(["export", bundle], socket: daemon.socket)
        #expect(export.status == 0, "\(export.err)")
        return try carbonctl(["audit", bundle, "--key", daemon.vkey], socket: daemon.socket)
    }

    @Test(arguments: StorageEngine.allCases)
    func anUntamperedBundleAuditsAndItsTilesPassAnIndependentCheck(on engine: StorageEngine) throws {
        let daemon = try Self.populated(engine: engine)
        let audit = try Self.exportAndAudit(daemon, name: "bundle")
        #expect(audit.status == 0, "\(audit.out) \(audit.err)")
        #expect(audit.out.contains("and 6 scores recomputed"), "\(audit.out)")

        // RFC 6962 recomputed here from the entries tiles, and the level-0 tiles checked hash by hash.
        let bundle = daemon.directory.appendingPathComponent("bundle")
        let note = try String(contentsOf: bundle.appendingPathComponent("checkpoint"), encoding: .utf8)
        let checkpoint = try SignedCheckpoint.open(note, verifiers: [daemon.verifier]).checkpoint
        var entries: [[UInt8]] = []
        var tile = 0
        while entries.count < Int(checkpoint.size) {
            let left = Int(checkpoint.size) - entries.count
            let name = "tile/entries/" + String(format: "%03d", tile) + (left < 256 ? ".p/\(left)" : "")
            var bytes = Array(try Data(contentsOf: bundle.appendingPathComponent(name)))[...]
            while !bytes.isEmpty {
                let length = Int(bytes[bytes.startIndex]) << 8 | Int(bytes[bytes.startIndex + 1])
                entries.append(Array(bytes.dropFirst(2).prefix(length)))
                bytes = bytes.dropFirst(2 + length)
            }
            let hashes = Array(try Data(contentsOf: bundle.appendingPathComponent(name.replacingOccurrences(of: "entries/", with: "0/"))))
            let leaves = entries[(tile * 256)...].flatMap { IndependentMerkle.leafHash($0) }
            #expect(hashes == leaves, "level-0 tile \(tile)")
            tile += 1
        }
        #expect(tile >= 2, "the ledger should span more than one tile")
        #expect(IndependentMerkle.root(entries[...]) == checkpoint.rootHash.bytes)
        #expect(daemon.stop() == 0)
    }

    /// A certificate changed in the database before the close: the daemon scores with it,
    /// the ledger's certificate entry says otherwise, and the recomputation notices.
    @Test func aScoreThatDoesNotFollowFromTheLedgerFailsTheAudit() throws {
        let daemon = try Self.populated(close: false)
        #expect(daemon.stop() == 0)
        try DatabaseQueue(path: daemon.database).write { db in
            try db.execute(sql: "UPDATE certificates SET wh = wh + 1 WHERE id = 'gec-1'")
        }
        try daemon.start()
        #expect(try daemon.client().post("/v1/periods/2023-03/close", "").status == 200)
        let audit = try Self.exportAndAudit(daemon, name: "bundle")
        #expect(audit.status == 3, "\(audit.out) \(audit.err)")
        #expect(audit.err.contains("(score of c1, 2023-03): matched_wh: expected 500, found 501"), "\(audit.err)")
        #expect(daemon.stop() == 0)
    }

    /// The figures served for a closed period are the signed entry's, whatever the
    /// table that indexes them says.
    @Test func closedScoresAreServedFromTheirSignedEntries() async throws {
        let (daemon, client) = try await AccountingTests.workedExample()
        #expect(try client.post("/v1/periods/2023-02/close", "").status == 200)
        #expect(try client.post("/v1/periods/2023-03/close", "").status == 200)
        #expect(daemon.stop() == 0)
        try await DatabaseQueue(path: daemon.database).write { db in
            try db.execute(sql: "UPDATE scores SET points = 99, score = 999")
        }
        try daemon.start()
        let score = try daemon.client().get("/v1/consumers/c1/score?period=2023-03").json()
        #expect(score["points"] as? Int == 2 && score["score"] as? Int == 470, "\(score)")
        #expect(daemon.stop() == 0)
    }

    /// One byte changed directly in SQLite, per case; each audit must fail naming it.
    @Test func everyTamperedByteFailsTheAudit() throws {
        let daemon = try Self.populated()
        #expect(daemon.stop() == 0)
        // The database as the daemon left it, its WAL folded in.
        try DatabaseQueue(path: daemon.database).writeWithoutTransaction { db in
            try db.execute(sql: "PRAGMA wal_checkpoint(TRUNCATE)")
        }
        let pristine = daemon.directory.appendingPathComponent("pristine.db")
        let verifier = try NoteVerifier(daemon.vkey)
        try FileManager.default.copyItem(atPath: daemon.database, toPath: pristine.path)
        let cases: [(name: String, sql: String, expect: String)] = [
            ("reading energy", "UPDATE readings SET import_wh = import_wh + 1 WHERE start = (SELECT max(start) FROM readings) AND meter = 2",
             "(readings): root"),
            ("reading consumer", "UPDATE readings SET consumer = consumer + 1 WHERE start = (SELECT max(start) FROM readings) AND meter = 1",
             "(readings): root"),
            ("entry bytes", "UPDATE entries SET body = CAST(replace(CAST(body AS TEXT), '\"count\":6', '\"count\":7') AS BLOB) WHERE idx = (SELECT min(idx) FROM entries WHERE kind = 'readings')",
             "signature"),
            ("entry signature", "UPDATE entries SET signature = zeroblob(64) WHERE idx = 3", "entry 3"),
            ("stored tree hash", "UPDATE tree SET hash = zeroblob(32) WHERE level = 0 AND idx = 5", "tile/0/000"),
            ("factor row", "UPDATE factor_rows SET mg_per_kwh = mg_per_kwh + 1 WHERE position = 0", "(factors): root"),
            ("corrected reading", "UPDATE readings SET import_wh = import_wh + 1 WHERE batch = (SELECT max(entry) FROM correction_chunks)",
             "(corrections): root"),
            ("score figure", "UPDATE entries SET body = CAST(replace(CAST(body AS TEXT), '\"points\":', '\"points\":1') AS BLOB) WHERE idx = (SELECT min(idx) FROM entries WHERE kind = 'score')",
             ": points: expected"),
        ]
        for (k, tamper) in cases.enumerated() {
            for suffix in ["-wal", "-shm"] { try? FileManager.default.removeItem(atPath: daemon.database + suffix) }
            try? FileManager.default.removeItem(atPath: daemon.database)
            try FileManager.default.copyItem(atPath: pristine.path, toPath: daemon.database)
            try DatabaseQueue(path: daemon.database).write { db in
                try db.execute(sql: tamper.sql)
                #expect(db.changesCount >= 1, "\(tamper.name): the tamper changed nothing")
            }
            // One verifier, three sources: the database itself, the daemon's API, an exported bundle.
            let direct = try LedgerFile.verify(path: daemon.database, first: verifier, options: .init(
                checksData: true, replayScores: { try SystemTimeZones.calendar($0) }))
            #expect(direct.failures.contains { $0.contains(tamper.expect) }, "\(tamper.name) (database): \(direct.failures)")
            try daemon.start()
            let online = try Self.carbonctl(["audit", "--key", daemon.vkey], socket: daemon.socket)
            #expect(online.status == 3, "\(tamper.name) (API): \(online.out) \(online.err)")
            #expect(online.err.contains(tamper.expect), "\(tamper.name) (API): \(online.err)")
            let audit = try Self.exportAndAudit(daemon, name: "bundle-\(k)")
            #expect(audit.status == 3, "\(tamper.name) (bundle): \(audit.out) \(audit.err)")
            #expect(audit.err.contains(tamper.expect), "\(tamper.name) (bundle): \(audit.err)")
            _ = daemon.stop()
        }
        let untouched = try LedgerFile.verify(path: pristine.path, first: verifier, options: .init(
            checksData: true, replayScores: { try SystemTimeZones.calendar($0) }))
        #expect(untouched.failures.isEmpty, "\(untouched.failures)")
        #expect(untouched.scoresChecked == 6 && untouched.dataChecked > 260)

        // A tampered checkpoint: the daemon itself refuses to serve the ledger...
        for suffix in ["-wal", "-shm"] { try? FileManager.default.removeItem(atPath: daemon.database + suffix) }
        try FileManager.default.removeItem(atPath: daemon.database)
        try FileManager.default.copyItem(atPath: pristine.path, toPath: daemon.database)
        try DatabaseQueue(path: daemon.database).write { db in
            try db.execute(sql: """
                UPDATE checkpoints SET note = replace(note, char(10) || size || char(10), char(10) || (size + 1) || char(10))
                WHERE size = (SELECT max(size) FROM checkpoints)
                """)
        }
        #expect(throws: (any Error).self) { try daemon.start() }
        #expect(daemon.log.contains("does not verify this ledger's last checkpoint"), "\(daemon.log)")
        // ...and a checkpoint changed in an exported bundle fails the audit.
        try FileManager.default.removeItem(atPath: daemon.database)
        try FileManager.default.copyItem(atPath: pristine.path, toPath: daemon.database)
        try daemon.start()
        let bundle = daemon.directory.appendingPathComponent("bundle-checkpoint")
        #expect(try Self.carbonctl(["export", bundle.path], socket: daemon.socket).status == 0)
        let file = bundle.appendingPathComponent("checkpoint")
        var note = Array(try Data(contentsOf: file))
        let line = note.firstIndex(of: UInt8(ascii: "\n"))! + 1
        note[line] = note[line] == UInt8(ascii: "9") ? UInt8(ascii: "8") : UInt8(ascii: "9")
        try Data(note).write(to: file)
        let audit = try Self.carbonctl(["audit", bundle.path, "--key", daemon.vkey], socket: daemon.socket)
        #expect(audit.status == 3 && audit.err.contains("checkpoint does not verify"), "\(audit.err)")
        #expect(daemon.stop() == 0)
    }

    /// Folds the WAL into the database file and copies it to `name` beside it.
    static func snapshot(_ daemon: DaemonProcess, to name: String) throws -> URL {
        try DatabaseQueue(path: daemon.database).writeWithoutTransaction { db in
            try db.execute(sql: "PRAGMA wal_checkpoint(TRUNCATE)")
        }
        let copy = daemon.directory.appendingPathComponent(name)
        try? FileManager.default.removeItem(at: copy)
        try FileManager.default.copyItem(atPath: daemon.database, toPath: copy.path)
        return copy
    }

    static func restore(_ daemon: DaemonProcess, from copy: URL) throws {
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: daemon.database + suffix) }
        try FileManager.default.copyItem(atPath: copy.path, toPath: daemon.database)
    }

    /// The daemon refuses to start on a database older than the highest checkpoint it signed.
    static func expectRefusedAsOlder(_ daemon: DaemonProcess) throws {
        let refused = try DaemonProcess.run("carbonledgerd", ["--config", daemon.configPath], within: 30)
        #expect(refused.status != 0)
        #expect(refused.err.contains("older than what the ledger has published"), "\(refused.err)")
    }

    static func reading(_ meter: String, hour: Int, wh: Int) -> String {
        #"{"utility":"u1","meter":"\#(meter)","consumer":"c1","start":\#(1_677_600_000 + hour * 3600),"duration_s":3600,"import_wh":\#(wh),"quality":"actual"}"#
    }

    @Test func aClientHoldingStateDetectsARollback() throws {
        let daemon = try DaemonProcess(extraConfig: AccountingTests.manualClose)
        let state = daemon.directory.appendingPathComponent("state").path
        try daemon.start()
        var client = try daemon.client()
        #expect(try client.post("/v1/consumers", #"{"consumer":"c1","utility":"u1","zone":"CN-ZJ","class":"residential"}"#).status == 200)
        #expect(try client.post("/v1/readings", Self.reading("m1", hour: 0, wh: 5)).status == 200)
        #expect(daemon.stop() == 0)
        let older = try Self.snapshot(daemon, to: "older.db")
        try daemon.start()
        client = try daemon.client()
        #expect(try client.post("/v1/readings", Self.reading("m1", hour: 1, wh: 6)).status == 200)
        let verified = try Self.carbonctl(["verify", "--key", daemon.vkey], socket: daemon.socket, state: state)
        #expect(verified.status == 0, "\(verified.err)")
        #expect(daemon.stop() == 0)

        // The operator serves the older copy. The daemon refuses to sign on from it; forced
        // past that, a client that saw the later ledger refuses it too.
        try Self.restore(daemon, from: older)
        try Self.expectRefusedAsOlder(daemon)
        try daemon.start(arguments: ["--accept-rollback"])
        let checkpoint = try Self.carbonctl(["checkpoint", "--key", daemon.vkey], socket: daemon.socket, state: state)
        #expect(checkpoint.status == 4, "\(checkpoint.out) \(checkpoint.err)")
        #expect(checkpoint.err.contains("ROLLBACK") && checkpoint.err.contains("size"), "\(checkpoint.err)")
        let audit = try Self.carbonctl(["audit", "--key", daemon.vkey], socket: daemon.socket, state: state)
        #expect(audit.status == 4, "\(audit.err)")
        // A client without that memory has nothing to compare with.
        #expect(try Self.carbonctl(["checkpoint", "--key", daemon.vkey], socket: daemon.socket).status == 0)
        #expect(daemon.stop() == 0)
    }

    @Test func aClientHoldingStateDetectsAFork() throws {
        let daemon = try DaemonProcess(extraConfig: AccountingTests.manualClose)
        let state = daemon.directory.appendingPathComponent("state").path
        try daemon.start()
        var client = try daemon.client()
        #expect(try client.post("/v1/consumers", #"{"consumer":"c1","utility":"u1","zone":"CN-ZJ","class":"residential"}"#).status == 200)
        #expect(daemon.stop() == 0)
        let common = try Self.snapshot(daemon, to: "common.db")

        // One branch: a reading of 5 Wh, seen and remembered by the client.
        try daemon.start()
        client = try daemon.client()
        #expect(try client.post("/v1/readings", Self.reading("m1", hour: 0, wh: 5)).status == 200)
        #expect(try Self.carbonctl(["checkpoint", "--key", daemon.vkey], socket: daemon.socket, state: state).status == 0)
        #expect(daemon.stop() == 0)

        // The other branch, signed by the same key: the same hour with 7 Wh, then more
        // (the daemon signs it only when forced past its own refusal).
        try Self.restore(daemon, from: common)
        try Self.expectRefusedAsOlder(daemon)
        try daemon.start(arguments: ["--accept-rollback"])
        client = try daemon.client()
        #expect(try client.post("/v1/readings", Self.reading("m1", hour: 0, wh: 7)).status == 200)
        #expect(try client.post("/v1/readings", Self.reading("m1", hour: 1, wh: 7)).status == 200)
        let online = try Self.carbonctl(["verify", "--key", daemon.vkey], socket: daemon.socket, state: state)
        #expect(online.status == 4 && online.err.contains("FORK"), "\(online.out) \(online.err)")
        let bundle = daemon.directory.appendingPathComponent("forked").path
        #expect(try Self.carbonctl(["export", bundle], socket: daemon.socket).status == 0)
        let offline = try Self.carbonctl(["audit", bundle, "--key", daemon.vkey], socket: daemon.socket, state: state)
        #expect(offline.status == 4 && offline.err.contains("FORK"), "\(offline.out) \(offline.err)")
        #expect(daemon.stop() == 0)
    }
}
