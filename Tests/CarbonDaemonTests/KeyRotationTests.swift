import CarbonClient
import CarbonLedger
import CarbonStore
import Foundation
import GRDB
import Testing
import TransparencyLog

/// `carbonctl rotate-key`: a `key` entry signed by the old key hands the ledger over
/// to the new one; checkpoints carry both signatures while the overlap lasts, and an
/// auditor holding only the old, published key follows the chain.
@Suite(.serialized) struct KeyRotationTests {
    /// A running daemon with one consumer and a reading, `[ledger]` lines `ledger` added.
    static func ledger(_ ledger: String = "") throws -> DaemonProcess {
        let daemon = try DaemonProcess(extraConfig: AccountingTests.manualClose)
        daemon.ledgerConfig = ledger
        try daemon.writeConfig(extra: AccountingTests.manualClose)
        try daemon.start()
        let client = try daemon.client()
        #expect(try client.post("/v1/consumers", #"{"consumer":"c1","utility":"u1","zone":"CN-ZJ","class":"residential"}"#).status == 200)
        #expect(try client.post("/v1/readings", AuditTests.reading("m1", hour: 0, wh: 5)).status == 200)
        return daemon
    }

    /// Makes a key for `origin` beside the daemon's and asks the daemon to rotate to it.
    static func rotate(_ daemon: DaemonProcess, name: String = "ledger-2.key", origin: String? = nil) throws
        -> (vkey: String, path: String, run: (status: Int32, out: String, err: String))
    {
        let path = daemon.directory.appendingPathComponent(name).path
        let vkey = try KeyFile.create(path: path, origin: origin ?? daemon.origin)
        return (vkey, path, try daemon.carbonctl(["rotate-key", "--new-key", path]))
    }

    static func entries(_ daemon: DaemonProcess) throws -> [(body: [UInt8], signature: [UInt8], kind: String)] {
        let answer = try daemon.client().get("/v1/ledger/entries?limit=10000").json()
        return try #require(answer["entries"] as? [[String: Any]]).map { entry in
            guard let text = entry["entry"] as? String, let signatureText = entry["signature"] as? String,
                let signature = Base64.decode(signatureText),
                let fields = try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any],
                let kind = fields["kind"] as? String
            else { throw DaemonTestFailure("not an entry: \(entry)") }
            return (Array(text.utf8), signature, kind)
        }
    }

    /// The keys whose signatures the latest checkpoint carries, among `keys`.
    static func checkpointSigners(_ daemon: DaemonProcess, among keys: [NoteVerifier]) throws -> [NoteVerifier] {
        let note = try daemon.client().get("/v1/ledger/checkpoint").text
        return try SignedNote.open(note, verifiers: keys).verified
    }

    @Test func theOldPublishedKeyFollowsTheChainAndBothKeysSignDuringTheOverlap() throws {
        let daemon = try Self.ledger()
        let (vkey, path, run) = try Self.rotate(daemon)
        #expect(run.status == 0, "\(run.out) \(run.err)")
        #expect(run.out.contains(vkey), "\(run.out)")
        let new = try NoteVerifier(vkey)
        #expect(try daemon.client().post("/v1/readings", AuditTests.reading("m1", hour: 1, wh: 6)).status == 200)

        // The key entry is signed by the old key and announces the new one; every later entry is the new key's.
        let entries = try Self.entries(daemon)
        let k = try #require(entries.firstIndex { $0.kind == "key" })
        #expect(String(decoding: entries[k].body, as: UTF8.self).contains(#""vkey":"\#(vkey)""#))
        #expect(EntrySignature.verify(entry: entries[k].body, signature: entries[k].signature, verifier: daemon.verifier))
        #expect(k + 1 < entries.count)
        for entry in entries[..<k] {
            #expect(EntrySignature.verify(entry: entry.body, signature: entry.signature, verifier: daemon.verifier))
        }
        for entry in entries[(k + 1)...] {
            #expect(EntrySignature.verify(entry: entry.body, signature: entry.signature, verifier: new))
            #expect(!EntrySignature.verify(entry: entry.body, signature: entry.signature, verifier: daemon.verifier))
        }
        #expect(try Self.checkpointSigners(daemon, among: [daemon.verifier, new]) == [new, daemon.verifier])
        let keys = try daemon.client().get("/v1/ledger/key").json()
        #expect(keys["keys"] as? [String] == [vkey, daemon.vkey], "\(keys)")

        let audit = try AuditTests.exportAndAudit(daemon, name: "bundle")
        #expect(audit.status == 0, "\(audit.out) \(audit.err)")
        #expect(audit.out.contains("signed by \(vkey), key 2 of the chain"), "\(audit.out)")
        let verify = try daemon.carbonctl(["verify", "--key", daemon.vkey])
        #expect(verify.status == 0 && verify.out.contains("key 2 of the chain"), "\(verify.out) \(verify.err)")

        // A restart with the old key is refused, naming the way out; with the new key the old one co-signs again.
        #expect(daemon.stop() == 0)
        #expect(throws: (any Error).self) { try daemon.start() }
        #expect(daemon.log.contains("point ledger.key at the newest key file"), "\(daemon.log)")
        daemon.keyPath = path
        try daemon.writeConfig(extra: AccountingTests.manualClose)
        try daemon.start()
        #expect(try daemon.client().post("/v1/readings", AuditTests.reading("m1", hour: 2, wh: 7)).status == 200)
        #expect(try Self.checkpointSigners(daemon, among: [daemon.verifier, new]) == [new, daemon.verifier])
        // The client that verified before the restart still finds the ledger extends what it saw.
        let again = try daemon.carbonctl(["verify", "--key", daemon.vkey])
        #expect(again.status == 0, "\(again.out) \(again.err)")
        #expect(daemon.stop() == 0)
    }

    @Test func afterTheOverlapOnlyTheNewKeySigns() throws {
        let daemon = try Self.ledger(#"key_overlap = "0s""#)
        let (vkey, _, run) = try Self.rotate(daemon)
        #expect(run.status == 0, "\(run.out) \(run.err)")
        let new = try NoteVerifier(vkey)
        #expect(try Self.checkpointSigners(daemon, among: [daemon.verifier, new]) == [new])
        #expect(try daemon.client().post("/v1/readings", AuditTests.reading("m1", hour: 1, wh: 6)).status == 200)
        #expect(try Self.checkpointSigners(daemon, among: [daemon.verifier, new]) == [new])
        // The old key alone no longer opens the checkpoint, yet the audit that starts from it passes.
        #expect(throws: (any Error).self) {
            try SignedCheckpoint.open(try daemon.client().get("/v1/ledger/checkpoint").text, verifiers: [daemon.verifier])
        }
        let audit = try AuditTests.exportAndAudit(daemon, name: "bundle")
        #expect(audit.status == 0, "\(audit.out) \(audit.err)")
        #expect(audit.out.contains("signed by \(vkey), key 2 of the chain"), "\(audit.out)")

        // A second rotation: the chain has three keys.
        let (third, _, second) = try Self.rotate(daemon, name: "ledger-3.key")
        #expect(second.status == 0, "\(second.out) \(second.err)")
        let keys = try daemon.client().get("/v1/ledger/key").json()
        #expect(keys["keys"] as? [String] == [third, vkey, daemon.vkey], "\(keys)")
        let verify = try daemon.carbonctl(["verify", "--key", daemon.vkey])
        #expect(verify.status == 0 && verify.out.contains("key 3 of the chain"), "\(verify.out) \(verify.err)")
        #expect(daemon.stop() == 0)
    }

    @Test func aKeyOfAnotherOriginOrOneUsedBeforeIsRefused() throws {
        let daemon = try Self.ledger()
        let (_, _, foreign) = try Self.rotate(daemon, origin: "elsewhere.example/other")
        #expect(foreign.status != 0 && foreign.err.contains("not this ledger's origin"), "\(foreign.out) \(foreign.err)")
        let same = try daemon.carbonctl(["rotate-key", "--new-key", daemon.keyPath])
        #expect(same.status != 0 && same.err.contains("has signed this ledger already"), "\(same.out) \(same.err)")
        let keys = try daemon.client().get("/v1/ledger/key").json()
        #expect(keys["keys"] as? [String] == [daemon.vkey], "\(keys)")
        #expect(try Self.entries(daemon).allSatisfy { $0.kind != "key" })
        #expect(daemon.stop() == 0)
    }

    /// A key entry rewritten in SQLite to announce another key: its signature no longer
    /// verifies with the old key, and the audit says so.
    @Test func aForgedKeyEntryFailsTheAudit() throws {
        let daemon = try Self.ledger(#"key_overlap = "0s""#)
        let (vkey, path, run) = try Self.rotate(daemon)
        #expect(run.status == 0, "\(run.out) \(run.err)")
        #expect(daemon.stop() == 0)
        daemon.keyPath = path
        try daemon.writeConfig(extra: AccountingTests.manualClose)
        let forger = try NoteSigner.generate(name: daemon.origin).vkey
        try DatabaseQueue(path: daemon.database).write { db in
            try db.execute(
                sql: "UPDATE entries SET body = CAST(replace(CAST(body AS TEXT), ?, ?) AS BLOB) WHERE kind = 'key'",
                arguments: [vkey, forger])
            #expect(db.changesCount == 1)
        }
        try daemon.start()
        let audit = try AuditTests.exportAndAudit(daemon, name: "bundle")
        #expect(audit.status == 3, "\(audit.out) \(audit.err)")
        #expect(audit.err.contains("signature: does not verify with \(daemon.vkey)"), "\(audit.err)")
        let verify = try daemon.carbonctl(["verify", "--key", daemon.vkey])
        #expect(verify.status == 3, "\(verify.out) \(verify.err)")
        #expect(daemon.stop() == 0)
    }
}
