import CarbonModel
import Foundation
import Testing
import TransparencyLog

/// `carbonctl verify-proof` with no daemon: a proof file is checked against the saved
/// client state as far as that is possible offline (docs/auditing.md section 5), and a
/// proof file that lies fails with a message, never a trap.
@Suite struct OfflineProofTests {
    /// A genuine ledger of five entries (LyingDaemonTests.genuine, then one batch more),
    /// the proof file of entry 2 at size 4, and the one of reading m1 at hour 0 at size 5.
    struct Files {
        let daemon: DaemonProcess
        let ledger: GenuineLedger
        let entryAt4: String
        let readingAt5: String

        init() throws {
            (daemon, ledger) = try LyingDaemonTests.genuine()
            entryAt4 = daemon.directory.appendingPathComponent("entry-4.tlog-proof").path
            readingAt5 = daemon.directory.appendingPathComponent("reading-5.tlog-proof").path
            let scratch = daemon.directory.appendingPathComponent("scratch-state").path
            let entry = try AuditTests.carbonctl(
                ["proof", "--key", daemon.vkey, "--index", "2", "--out", entryAt4], socket: daemon.socket, state: scratch)
            guard entry.status == 0 else { throw DaemonTestFailure("proof --index: \(entry.err)") }
            try LyingDaemonTests.addBatch(daemon, hour: 2)
            let reading = try AuditTests.carbonctl(
                ["proof", "--key", daemon.vkey, "--reading", LyingDaemonTests.key("m1", hour: 0), "--out", readingAt5],
                socket: daemon.socket, state: scratch)
            guard reading.status == 0 else { throw DaemonTestFailure("proof --reading: \(reading.err)") }
        }

        /// verify-proof of `file` with the client state in `state` (no daemon is asked).
        func verify(_ file: String, state: String) throws -> (status: Int32, out: String, err: String) {
            try AuditTests.carbonctl(["verify-proof", file, "--key", daemon.vkey], socket: "/nonexistent", state: state)
        }

        func state(_ name: String) -> String { daemon.directory.appendingPathComponent("state-\(name)").path }

        /// Writes a proof file: `extra` (JSON), the index, the path and the checkpoint note.
        func write(_ name: String, extra: JSONValue, index: UInt64, path: [Hash256], note: String) throws -> String {
            let file = daemon.directory.appendingPathComponent(name).path
            let lines = ["c2sp.org/tlog-proof@v1", "extra " + Base64.encode(extra.canonicalBytes()), "index \(index)"]
                + path.map(\.base64)
            try (lines.joined(separator: "\n") + "\n\n" + note).write(toFile: file, atomically: true, encoding: .utf8)
            return file
        }

        /// The `extra` of a genuine proof file.
        func extra(of file: String) throws -> [String: JSONValue] {
            let text = try String(contentsOfFile: file, encoding: .utf8)
            let line = try #require(text.split(separator: "\n").first { $0.hasPrefix("extra ") })
            let bytes = try #require(Base64.decode(String(line.dropFirst(6))))
            return try #require(try JSONValue.parse(bytes).objectValue)
        }
    }

    @Test func aFirstProofIsSavedAndTheSameCheckpointAgainPasses() throws {
        let files = try Files()
        let state = files.state("first")
        let first = try files.verify(files.readingAt5, state: state)
        #expect(first.status == 0 && first.out.contains("reading 0 of 4 in entry 2"), "\(first.out) \(first.err)")
        #expect(LyingDaemonTests.saved(state, files.daemon)?.contains("\n5\n") == true, "the first checkpoint is saved")
        let again = try files.verify(files.readingAt5, state: state)
        #expect(again.status == 0 && !again.err.contains("not compared"), "\(again.err)")
    }

    @Test func aProofOfAnotherSizeIsNeitherComparedNorSaved() throws {
        let files = try Files()
        let state = files.state("sizes")
        #expect(try files.verify(files.readingAt5, state: state).status == 0)
        // An older proof is normal (a consumer keeps one for years): it verifies, but says
        // what was not compared.
        let older = try files.verify(files.entryAt4, state: state)
        #expect(older.status == 0, "\(older.err)")
        #expect(older.err.contains("(size 4) was not compared with the one verified last (size 5)"), "\(older.err)")
        #expect(LyingDaemonTests.saved(state, files.daemon)?.contains("\n5\n") == true)

        // A newer one cannot be shown to extend the saved one offline: it is not saved.
        let other = files.state("newer")
        #expect(try files.verify(files.entryAt4, state: other).status == 0)
        let newer = try files.verify(files.readingAt5, state: other)
        #expect(newer.status == 0 && newer.err.contains("it was not saved"), "\(newer.err)")
        #expect(LyingDaemonTests.saved(other, files.daemon)?.contains("\n4\n") == true, "the saved checkpoint stays")
    }

    @Test func aForkedProofOfTheSavedSizeIsAFork() throws {
        let files = try Files()
        let state = files.state("fork")
        #expect(try files.verify(files.readingAt5, state: state).status == 0)
        // Entry 2 in another tree of five entries, signed with the ledger's own key.
        var leaves = try files.ledger.leafHashes(size: 5)
        leaves[4] = RFC6962.leafHash(Array(#"{"forged":true}"#.utf8))
        let extra = try files.extra(of: files.entryAt4)
        let forged = try files.write(
            "forked.tlog-proof", extra: .object(extra), index: 2,
            path: RFC6962.inclusionProof(index: 2, leafHashes: leaves), note: files.ledger.sign(leaves: leaves))
        let result = try files.verify(forged, state: state)
        #expect(result.status == 4, "\(result.out) \(result.err)")
        #expect(result.err.contains("FORK") && result.err.contains("size 5"), "\(result.err)")
    }

    @Test func lyingReadingPartsFailWithoutATrap() throws {
        let files = try Files()
        let extra = try files.extra(of: files.readingAt5)
        let text = try String(contentsOfFile: files.readingAt5, encoding: .utf8)
        let note = String(text[text.range(of: "\n\n")!.upperBound...])
        let index = try #require(text.split(separator: "\n").first { $0.hasPrefix("index ") }.flatMap { UInt64($0.dropFirst(6)) })
        let path = text[..<text.range(of: "\n\n")!.lowerBound].split(separator: "\n").dropFirst(3)
            .compactMap { Hash256(base64: String($0)) }
        let cases: [(name: String, change: [String: JSONValue], expect: String)] = [
            ("size", ["batch_size": .int(3)], "WRONG BATCH SIZE"),
            ("negative", ["position": .int(-1)], "position -1 is outside its batch of 4"),
            ("past", ["position": .int(Int64.max)], "position 9223372036854775807 is outside its batch of 4"),
            ("huge", ["batch_size": .int(Int64.min)], "WRONG BATCH SIZE"),
        ]
        for c in cases {
            let file = try files.write(
                "\(c.name).tlog-proof", extra: .object(extra.merging(c.change) { $1 }), index: index, path: path, note: note)
            let result = try files.verify(file, state: files.state(c.name))
            #expect(result.status == 3 && result.err.contains(c.expect), "\(c.name): \(result.status) \(result.err)")
        }
        // An index past the tree, and a file far larger than any proof.
        let past = try files.write("index.tlog-proof", extra: .object(extra), index: UInt64.max, path: path, note: note)
        let pastResult = try files.verify(past, state: files.state("index"))
        #expect(pastResult.status == 3 && pastResult.err.contains("is outside a tree of size 5"), "\(pastResult.err)")
        let large = files.daemon.directory.appendingPathComponent("large.tlog-proof")
        try Data(count: 2 << 20).write(to: large)
        let largeResult = try files.verify(large.path, state: files.state("large"))
        #expect(largeResult.status == 3 && largeResult.err.contains("larger than"), "\(largeResult.err)")
    }
}
