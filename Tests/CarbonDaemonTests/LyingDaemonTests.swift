import CarbonAPI
import CarbonClient
import Foundation
import Testing
import TransparencyLog

/// carbonctl against a daemon that lies (the failure class of immudb's
/// GHSA-672p-m5jq-mrh8): every lie is built from genuine answers or signed with the
/// genuine key, and carbonctl must refuse it with a non-zero exit and a message naming
/// the problem.
@Suite struct LyingDaemonTests {
    /// 2023-03-01T00:00:00+08:00.
    static let march = 1_677_600_000

    /// A genuine daemon whose ledger is: zones (0), consumer c1 (1), a batch of four
    /// readings at hour 0, meters m1 to m4 in that order (2), and the same at hour 1 (3).
    static func genuine() throws -> (DaemonProcess, GenuineLedger) {
        let daemon = try DaemonProcess(extraConfig: AccountingTests.manualClose)
        try daemon.start()
        let client = try daemon.client()
        #expect(try client.post("/v1/consumers", #"{"consumer":"c1","utility":"u1","zone":"CN-ZJ","class":"residential"}"#).status == 200)
        for hour in 0..<2 { try addBatch(daemon, hour: hour) }
        return (daemon, try GenuineLedger(daemon))
    }

    /// One batch of four readings (meters m1 to m4) at `hour`: one more ledger entry.
    static func addBatch(_ daemon: DaemonProcess, hour: Int) throws {
        let lines = (1...4).map { AuditTests.reading("m\($0)", hour: hour, wh: 10 * $0 + hour) }
        let answer = try daemon.client().post("/v1/readings", lines.joined(separator: "\n"))
        guard answer.status == 200 else { throw DaemonTestFailure("ingest: \(answer.text)") }
    }

    /// `--reading` for meter `meter` at `hour`.
    static func key(_ meter: String, hour: Int) -> String { "u1/\(meter)/\(march + hour * 3600)" }

    static func proofPath(_ meter: String, hour: Int) -> String { "/v1/readings/\(key(meter, hour: hour))/proof" }

    /// A client state folder of the test's own.
    static func state(_ daemon: DaemonProcess) -> String { daemon.directory.appendingPathComponent("client-state-lies").path }

    /// The saved checkpoint of the test daemon's origin, if any.
    static func saved(_ state: String, _ daemon: DaemonProcess) -> String? {
        let name = "checkpoint-" + (daemon.origin.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")
        return try? String(contentsOfFile: state + "/" + name, encoding: .utf8)
    }

    /// Expects carbonctl to have refused: `status` (3: does not verify, 4: fork or rollback) and every word in `words`.
    static func expectRefused(
        _ result: (status: Int32, out: String, err: String), status: Int32, _ words: [String],
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        #expect(result.status == status, "exit \(result.status): \(result.out) \(result.err)", sourceLocation: sourceLocation)
        for word in words {
            #expect(result.err.contains(word), "no \"\(word)\" in: \(result.err)", sourceLocation: sourceLocation)
        }
    }

    @Test func theHonestAnswersThroughTheDoubleVerify() throws {
        let (daemon, _) = try Self.genuine()
        let double = try LyingDaemon(genuine: daemon) { _ in nil }
        let state = Self.state(daemon)
        let reading = try double.carbonctl(["proof", "--key", daemon.vkey, "--reading", Self.key("m1", hour: 0)], state: state)
        #expect(reading.status == 0 && reading.out.contains("reading 0 of 4 in entry 2"), "\(reading.out) \(reading.err)")
        let entry = try double.carbonctl(["proof", "--key", daemon.vkey, "--index", "2"], state: state)
        #expect(entry.status == 0, "\(entry.err)")
        #expect(Self.saved(state, daemon)?.contains("\n4\n") == true, "the verified checkpoint of size 4 is saved")
        // The tree grows: the daemon's consistency proof carries the client to the larger tree.
        try Self.addBatch(daemon, hour: 2)
        let grown = try double.carbonctl(["proof", "--key", daemon.vkey, "--index", "4"], state: state)
        #expect(grown.status == 0, "\(grown.err)")
        #expect(Self.saved(state, daemon)?.contains("\n5\n") == true, "the larger checkpoint replaces the saved one")
    }

    @Test func aProofOfAnotherReadingIsRefused() throws {
        let (daemon, ledger) = try Self.genuine()
        // Asked for m1, the double proves m2 of the same batch: a genuine, valid proof of the wrong leaf.
        let other = try ledger.get(Self.proofPath("m2", hour: 0)).body
        let double = try LyingDaemon(genuine: daemon) { target in
            target == Self.proofPath("m1", hour: 0) ? .init(other) : nil
        }
        let result = try double.carbonctl(
            ["proof", "--key", daemon.vkey, "--reading", Self.key("m1", hour: 0)], state: Self.state(daemon))
        Self.expectRefused(result, status: 3, ["WRONG READING", "meter \"m2\""])

        // Another hour of the same meter is another reading too.
        let later = try ledger.get(Self.proofPath("m1", hour: 1)).body
        let shifted = try LyingDaemon(genuine: daemon) { target in
            target == Self.proofPath("m1", hour: 0) ? .init(later) : nil
        }
        let result2 = try shifted.carbonctl(
            ["proof", "--key", daemon.vkey, "--reading", Self.key("m1", hour: 0)], state: Self.state(daemon))
        Self.expectRefused(result2, status: 3, ["WRONG READING", "start \(Self.march + 3600)"])
    }

    @Test func aBatchSizeOtherThanTheEntrysCountIsRefused() throws {
        let (daemon, ledger) = try Self.genuine()
        var proof = try JSONDecoder().decode(ReadingProofAnswer.self, from: Data(ledger.get(Self.proofPath("m1", hour: 0)).body))
        #expect(proof.position == 0 && proof.batch_size == 4)
        // Leaf 0's path in a tree of 4 also verifies in a tree of 3, to the same root: only
        // the entry's count tells which batch size is true.
        let entry = try #require(try JSONSerialization.jsonObject(with: Data(proof.entry.utf8)) as? [String: Any])
        let rootText = try #require(entry["root"] as? String)
        let root = try #require(Hash256(base64: rootText))
        let path = proof.batch_path.compactMap(Hash256.init(base64:))
        #expect(throws: Never.self) {
            try RFC6962.verifyInclusion(
                leafHash: RFC6962.leafHash(Array(proof.reading.utf8)), index: 0, size: 3, proof: path, root: root)
        }
        proof.batch_size = 3
        let lie = try LyingDaemon.Answer(json: proof)
        let double = try LyingDaemon(genuine: daemon) { target in target == Self.proofPath("m1", hour: 0) ? lie : nil }
        let result = try double.carbonctl(
            ["proof", "--key", daemon.vkey, "--reading", Self.key("m1", hour: 0)], state: Self.state(daemon))
        Self.expectRefused(result, status: 3, ["WRONG BATCH SIZE", "batch of 3", "counts 4"])

        // A position outside the batch (negative here) is refused, not trapped on.
        proof.batch_size = 4
        proof.position = -1
        let negative = try LyingDaemon.Answer(json: proof)
        let double2 = try LyingDaemon(genuine: daemon) { target in target == Self.proofPath("m1", hour: 0) ? negative : nil }
        let result2 = try double2.carbonctl(
            ["proof", "--key", daemon.vkey, "--reading", Self.key("m1", hour: 0)], state: Self.state(daemon))
        Self.expectRefused(result2, status: 3, ["position -1 is outside its batch of 4"])
    }

    @Test func anInclusionProofForAnotherTreeIsRefused() throws {
        let (daemon, ledger) = try Self.genuine()
        let older = try ledger.get("/v1/ledger/checkpoint").text
        let olderReading = try ledger.get(Self.proofPath("m1", hour: 0)).body
        let olderPath = try ledger.get("/v1/ledger/proof/inclusion?index=2&size=4").body
        try Self.addBatch(daemon, hour: 2)

        // The latest checkpoint (size 5), with entry 2's genuine path in the tree of size 4.
        let double = try LyingDaemon(genuine: daemon) { target in
            target.hasPrefix("/v1/ledger/proof/inclusion?") ? .init(olderPath) : nil
        }
        let entry = try double.carbonctl(["proof", "--key", daemon.vkey, "--index", "2"], state: Self.state(daemon))
        Self.expectRefused(entry, status: 3, ["entry 2 is NOT proven in the tree of size 5"])

        // A reading proof whose entry path is for size 4 and whose checkpoint is the latest.
        var proof = try JSONDecoder().decode(ReadingProofAnswer.self, from: Data(olderReading))
        proof.checkpoint = try ledger.get("/v1/ledger/checkpoint").text
        let lie = try LyingDaemon.Answer(json: proof)
        let double2 = try LyingDaemon(genuine: daemon) { target in target == Self.proofPath("m1", hour: 0) ? lie : nil }
        let reading = try double2.carbonctl(
            ["proof", "--key", daemon.vkey, "--reading", Self.key("m1", hour: 0)], state: Self.state(daemon))
        Self.expectRefused(reading, status: 3, ["readings entry 2 is NOT proven in the tree of size 5"])
        #expect(!older.isEmpty)
    }

    @Test func aForkedCheckpointIsRefused() throws {
        let (daemon, ledger) = try Self.genuine()
        try Self.addBatch(daemon, hour: 2)
        let state = Self.state(daemon)
        #expect(try LyingDaemon(genuine: daemon) { _ in nil }
            .carbonctl(["checkpoint", "--key", daemon.vkey], state: state).status == 0)

        // Another tree of the same size, signed with the genuine key: entry 4 differs.
        var leaves = try ledger.leafHashes(size: 5)
        leaves[4] = RFC6962.leafHash(Array(#"{"forged":true}"#.utf8))
        let forked = try ledger.sign(leaves: leaves)
        let path = InclusionAnswer(
            index: 2, size: 5, root: RFC6962.rootHash(ofLeafHashes: leaves).base64,
            hashes: RFC6962.inclusionProof(index: 2, leafHashes: leaves).map(\.base64))
        let pathAnswer = try LyingDaemon.Answer(json: path)
        let double = try LyingDaemon(genuine: daemon) { target in
            if target == "/v1/ledger/checkpoint" { return .init(forked) }
            if target.hasPrefix("/v1/ledger/proof/inclusion?") { return pathAnswer }
            return nil
        }
        let same = try double.carbonctl(["proof", "--key", daemon.vkey, "--index", "2"], state: state)
        Self.expectRefused(same, status: 4, ["FORK", "size 5"])

        // A larger forked tree: entry 3 differs, then one more; the daemon's consistency
        // proof cannot show it contains the tree the client verified.
        leaves = try ledger.leafHashes(size: 5)
        leaves[3] = RFC6962.leafHash(Array(#"{"forged":true}"#.utf8))
        leaves.append(RFC6962.leafHash(Array(#"{"forged":2}"#.utf8)))
        let larger = try ledger.sign(leaves: leaves)
        let largerPath = try LyingDaemon.Answer(json: InclusionAnswer(
            index: 2, size: 6, root: RFC6962.rootHash(ofLeafHashes: leaves).base64,
            hashes: RFC6962.inclusionProof(index: 2, leafHashes: leaves).map(\.base64)))
        let consistency = try LyingDaemon.Answer(json: ConsistencyAnswer(
            from: 5, to: 6, hashes: [RFC6962.rootHash(ofLeafHashes: Array(leaves[4...])).base64, leaves[5].base64]))
        let double2 = try LyingDaemon(genuine: daemon) { target in
            if target == "/v1/ledger/checkpoint" { return .init(larger) }
            if target.hasPrefix("/v1/ledger/proof/inclusion?") { return largerPath }
            if target.hasPrefix("/v1/ledger/proof/consistency?") { return consistency }
            return nil
        }
        let grown = try double2.carbonctl(["proof", "--key", daemon.vkey, "--index", "2"], state: state)
        Self.expectRefused(grown, status: 4, ["FORK", "does not contain the other"])
        #expect(Self.saved(state, daemon)?.contains("\n5\n") == true, "a refused checkpoint is not saved")
    }

    @Test func aRolledBackCheckpointIsRefused() throws {
        let (daemon, ledger) = try Self.genuine()
        let olderNote = try ledger.get("/v1/ledger/checkpoint").text
        let olderReading = try ledger.get(Self.proofPath("m1", hour: 0)).body
        let olderPath = try ledger.get("/v1/ledger/proof/inclusion?index=2&size=4").body
        try Self.addBatch(daemon, hour: 2)
        let state = Self.state(daemon)
        #expect(try LyingDaemon(genuine: daemon) { _ in nil }
            .carbonctl(["checkpoint", "--key", daemon.vkey], state: state).status == 0)

        // The genuine answers of the tree of size 4, served after the client saw size 5.
        let double = try LyingDaemon(genuine: daemon) { target in
            if target == "/v1/ledger/checkpoint" { return .init(olderNote) }
            if target.hasPrefix("/v1/ledger/proof/inclusion?") { return .init(olderPath) }
            if target == Self.proofPath("m1", hour: 0) { return .init(olderReading) }
            return nil
        }
        let entry = try double.carbonctl(["proof", "--key", daemon.vkey, "--index", "2"], state: state)
        Self.expectRefused(entry, status: 4, ["ROLLBACK", "size 4", "size 5"])
        let reading = try double.carbonctl(
            ["proof", "--key", daemon.vkey, "--reading", Self.key("m1", hour: 0)], state: state)
        Self.expectRefused(reading, status: 4, ["ROLLBACK"])
        let checkpoint = try double.carbonctl(["checkpoint", "--key", daemon.vkey], state: state)
        Self.expectRefused(checkpoint, status: 4, ["ROLLBACK"])
    }

    @Test func aCheckpointSignedByAnotherKeyIsRefused() throws {
        let (daemon, ledger) = try Self.genuine()
        // A key of the same name (origin), not the one the client was given.
        let (skey, _) = try NoteSigner.generate(name: daemon.origin)
        let stranger = try NoteSigner(skey: skey)
        let leaves = try ledger.leafHashes(size: 4)
        let note = try ledger.sign(leaves: leaves, with: stranger)
        var proof = try JSONDecoder().decode(ReadingProofAnswer.self, from: Data(ledger.get(Self.proofPath("m1", hour: 0)).body))
        proof.checkpoint = note
        let lie = try LyingDaemon.Answer(json: proof)
        let double = try LyingDaemon(genuine: daemon) { target in
            if target == "/v1/ledger/checkpoint" { return .init(note) }
            if target == Self.proofPath("m1", hour: 0) { return lie }
            return nil
        }
        let state = Self.state(daemon)
        for arguments in [["--index", "2"], ["--reading", Self.key("m1", hour: 0)]] {
            let result = try double.carbonctl(["proof", "--key", daemon.vkey] + arguments, state: state)
            Self.expectRefused(result, status: 3, ["the checkpoint does not verify with \(daemon.vkey)"])
        }
        Self.expectRefused(
            try double.carbonctl(["checkpoint", "--key", daemon.vkey], state: state), status: 3, ["does not verify"])
        #expect(Self.saved(state, daemon) == nil, "nothing unverified is saved")
    }

    @Test func aConsistencyProofThatDoesNotVerifyIsRefused() throws {
        let (daemon, ledger) = try Self.genuine()
        let state = Self.state(daemon)
        #expect(try LyingDaemon(genuine: daemon) { _ in nil }
            .carbonctl(["checkpoint", "--key", daemon.vkey], state: state).status == 0)
        try Self.addBatch(daemon, hour: 2)
        // The genuine proof from 4 to 5 with one hash changed.
        var answer = try JSONDecoder().decode(
            ConsistencyAnswer.self, from: Data(ledger.get("/v1/ledger/proof/consistency?from=4&to=5").body))
        #expect(!answer.hashes.isEmpty)
        answer.hashes[0] = Hash256(bytes: [UInt8](repeating: 7, count: 32))!.base64
        let lie = try LyingDaemon.Answer(json: answer)
        let double = try LyingDaemon(genuine: daemon) { target in
            target.hasPrefix("/v1/ledger/proof/consistency?") ? lie : nil
        }
        for arguments in [["proof", "--index", "2"], ["proof", "--reading", Self.key("m1", hour: 0)], ["checkpoint"]] {
            let result = try double.carbonctl(arguments + ["--key", daemon.vkey], state: state)
            Self.expectRefused(result, status: 4, ["FORK", "consistency proof from size 4 to 5 does not verify"])
        }
        #expect(Self.saved(state, daemon)?.contains("\n4\n") == true, "the client still remembers size 4")
    }

    @Test func moreEntriesThanTheCheckpointCountsAreRefused() throws {
        let (daemon, ledger) = try Self.genuine()
        let older = try ledger.get("/v1/ledger/checkpoint").text
        try Self.addBatch(daemon, hour: 2)
        // The checkpoint of size 4, and all five entries when asked for the first four.
        let entries = try ledger.get("/v1/ledger/entries?start=0&end=5").body
        let double = try LyingDaemon(genuine: daemon) { target in
            if target == "/v1/ledger/checkpoint" { return .init(older) }
            if target.hasPrefix("/v1/ledger/entries?") { return .init(entries) }
            return nil
        }
        let result = try double.carbonctl(["verify", "--key", daemon.vkey], state: Self.state(daemon))
        Self.expectRefused(result, status: 3, ["the daemon returned 5 entries from 0, past the checkpoint's size 4"])
    }
}
