import Foundation
import Testing
import TransparencyLog

/// `carbonctl audit` on bundles made to hurt it: a genuine export from a real daemon,
/// corrupted one way per case. Each must fail with exit status 3 (the documented
/// "does not audit") and a message naming the file and what is wrong: never a trap
/// (a signal, status 128 and up), a hang, or memory in proportion to a claimed number.
@Suite struct MaliciousBundleTests {
    /// A genuine bundle: zones, a factor dataset, two consumers, readings in two batches,
    /// and a closed March 2023 with its period and score entries, all in one partial tile.
    struct Genuine {
        let daemon: DaemonProcess
        let ledger: GenuineLedger
        let bundle: URL
        let size: UInt64

        var entriesTile: String { "tile/entries/000.p/\(size)" }
        var hashTile: String { "tile/0/000.p/\(size)" }
        var signatures: String { "signatures/000.p/\(size)" }
        var data: String { "data/000.p/\(size).ndjson" }

        init() throws {
            let factors = DaemonProcess.repositoryRoot.appendingPathComponent("config/factors/cn-mee-annual.csv").path
            daemon = try DaemonProcess(extraConfig: "factors = [\"\(factors)\"]\n\(AccountingTests.manualClose)")
            try daemon.start()
            let client = try daemon.client()
            let consumers = (1...2).map { #"{"consumer":"c\#($0)","utility":"u1","zone":"CN-ZJ","class":"residential"}"# }
            #expect(try client.post("/v1/consumers", consumers.joined(separator: "\n")).status == 200)
            for hour in 0..<2 {
                let lines = (1...2).map {
                    #"{"utility":"u1","meter":"m\#($0)","consumer":"c\#($0)","start":\#(LyingDaemonTests.march + hour * 3600),"duration_s":3600,"import_wh":\#(100 * $0 + hour),"quality":"actual"}"#
                }
                #expect(try client.post("/v1/readings", lines.joined(separator: "\n")).status == 200)
            }
            #expect(try client.post("/v1/periods/2023-03/close", "").status == 200)
            ledger = try GenuineLedger(daemon)
            bundle = daemon.directory.appendingPathComponent("genuine")
            let export = try AuditTests.carbonctl(["export", bundle.path], socket: daemon.socket)
            guard export.status == 0 else { throw DaemonTestFailure("export: \(export.err)") }
            let note = try String(contentsOf: bundle.appendingPathComponent("checkpoint"), encoding: .utf8)
            size = try SignedCheckpoint.open(note, verifiers: [daemon.verifier]).checkpoint.size
        }

        /// A copy of the bundle changed by `corrupt`, audited offline with a fresh client state.
        func audit(_ name: String, _ corrupt: (URL) throws -> Void) throws -> (status: Int32, out: String, err: String) {
            let copy = daemon.directory.appendingPathComponent("bundle-\(name)")
            try FileManager.default.copyItem(at: bundle, to: copy)
            try corrupt(copy)
            let state = daemon.directory.appendingPathComponent("state-\(name)").path
            return try AuditTests.carbonctl(["audit", copy.path, "--key", daemon.vkey], socket: daemon.socket, state: state)
        }
    }

    /// Expects the audit to fail as documented (status 3, not a trap) naming each of `words`.
    static func expectFails(
        _ result: (status: Int32, out: String, err: String), _ words: [String], sourceLocation: SourceLocation = #_sourceLocation
    ) {
        #expect(result.status == 3, "exit \(result.status): \(result.out) \(result.err)", sourceLocation: sourceLocation)
        for word in words {
            #expect(result.err.contains(word), "no \"\(word)\" in: \(result.err)", sourceLocation: sourceLocation)
        }
    }

    static func edit(_ file: URL, _ change: (inout [UInt8]) -> Void) throws {
        var bytes = Array(try Data(contentsOf: file))
        change(&bytes)
        try Data(bytes).write(to: file)
    }

    /// Replaces the first data header (`{"entry":N,"leaves":M}`) with `header`.
    static func firstDataHeader(_ header: String) -> (inout [UInt8]) -> Void {
        { bytes in
            let end = bytes.firstIndex(of: UInt8(ascii: "\n")) ?? bytes.endIndex
            bytes.replaceSubrange(0..<end, with: Array(header.utf8))
        }
    }

    @Test func theGenuineBundleAudits() throws {
        let genuine = try Genuine()
        let result = try genuine.audit("genuine") { _ in }
        #expect(result.status == 0, "\(result.out) \(result.err)")
        #expect(result.out.contains("2 scores recomputed"), "\(result.out)")
    }

    @Test func aCheckpointClaimingAHugeTreeFailsAtTheFirstMissingTile() throws {
        let genuine = try Genuine()
        for size in [UInt64.max, 1_000_000_000_000] {
            // Signed with the ledger's own key: only the missing entries can tell.
            let checkpoint = try Checkpoint(origin: genuine.daemon.origin, size: size, rootHash: RFC6962.emptyRoot)
            let note = try SignedCheckpoint.sign(checkpoint, signers: [genuine.ledger.signer]).note
            let result = try genuine.audit("size-\(size)") { copy in
                try note.write(to: copy.appendingPathComponent("checkpoint"), atomically: true, encoding: .utf8)
            }
            Self.expectFails(result, ["tile/entries/000: missing: the checkpoint claims \(size) entries"])
        }
        // A size past UInt64 does not parse.
        let result = try genuine.audit("size-overflow") { copy in
            try Self.edit(copy.appendingPathComponent("checkpoint")) { bytes in
                let line = bytes.firstIndex(of: UInt8(ascii: "\n"))! + 1
                let end = bytes[line...].firstIndex(of: UInt8(ascii: "\n"))!
                bytes.replaceSubrange(line..<end, with: Array("99999999999999999999".utf8))
            }
        }
        Self.expectFails(result, ["the checkpoint is malformed"])
    }

    @Test func dataHeadersWithImpossibleOffsetsOrCountsFail() throws {
        let genuine = try Genuine()
        let cases: [(header: String, expect: String)] = [
            (#"{"entry":-1,"leaves":2}"#, "line 1: entry -1 is not in this tile"),
            (#"{"entry":9223372036854775807,"leaves":2}"#, "line 1: entry 9223372036854775807 is not in this tile"),
            (#"{"entry":\#(genuine.size),"leaves":2}"#, "line 1: entry \(genuine.size) is not in this tile"),
            (#"{"entry":0,"leaves":-5}"#, "line 1: entry 0 claims -5 leaves"),
            (#"{"entry":0,"leaves":4000000000}"#, "line 1: entry 0 claims 4000000000 leaves, only"),
            (#"{"entry":0,"leaves":9223372036854775807}"#, "line 1: entry 0 claims 9223372036854775807 leaves, only"),
            (#"{"entry":"0","leaves":1}"#, "line 1: expected a header"),
            (#"not json"#, "line 1: expected a header"),
        ]
        for (k, c) in cases.enumerated() {
            let result = try genuine.audit("header-\(k)") { copy in
                try Self.edit(copy.appendingPathComponent(genuine.data), Self.firstDataHeader(c.header))
            }
            Self.expectFails(result, [genuine.data, c.expect])
        }
    }

    @Test func entriesTilesWithBadLengthPrefixesFail() throws {
        let genuine = try Genuine()
        let tile = genuine.entriesTile
        let bytes = Array(try Data(contentsOf: genuine.bundle.appendingPathComponent(tile)))
        let first = Int(bytes[0]) << 8 | Int(bytes[1])
        let cases: [(name: String, change: (inout [UInt8]) -> Void, expect: String)] = [
            ("truncated", { $0.removeLast(5) }, "entry \(genuine.size - 1) at byte"),
            ("prefix past the end", { $0[0] = 0xFF; $0[1] = 0xFF }, "entry 0 at byte 0: its length prefix says 65535 bytes"),
            ("cut in a prefix", { $0.removeSubrange((2 + first + 1)...) },
             "entry 1 at byte \(2 + first): the tile ends inside its 2-byte length prefix"),
            ("one entry too many", { $0 += [0, 2, 0x7B, 0x7D] }, "holds more than its \(genuine.size) entries"),
            ("empty", { $0 = [] }, "holds 0 entries, a tile of this name holds \(genuine.size)"),
        ]
        for c in cases {
            let result = try genuine.audit(c.name.replacingOccurrences(of: " ", with: "-")) { copy in
                try Self.edit(copy.appendingPathComponent(tile), c.change)
            }
            Self.expectFails(result, [tile, c.expect])
        }
    }

    @Test func missingOrImpossibleFilesFail() throws {
        let genuine = try Genuine()
        let remove: [(path: String, expect: String)] = [
            (genuine.entriesTile, "\(genuine.entriesTile): missing"),
            (genuine.signatures, "\(genuine.signatures): missing"),
            (genuine.hashTile, "\(genuine.hashTile): missing"),
            (genuine.data, "its leaves are missing from \(genuine.data)"),
            ("checkpoint", "has no checkpoint"),
        ]
        for (k, c) in remove.enumerated() {
            let result = try genuine.audit("missing-\(k)") { copy in
                try FileManager.default.removeItem(at: copy.appendingPathComponent(c.path))
            }
            Self.expectFails(result, [c.expect])
        }
        // A hash tile far larger than 256 hashes, a directory where a tile should be.
        let large = try genuine.audit("large") { copy in
            try Data(count: 1 << 20).write(to: copy.appendingPathComponent(genuine.hashTile))
        }
        Self.expectFails(large, ["\(genuine.hashTile): larger than the 8192 bytes a hash tile of 256 hashes can hold"])
        let directory = try genuine.audit("directory") { copy in
            let file = copy.appendingPathComponent(genuine.entriesTile)
            try FileManager.default.removeItem(at: file)
            try FileManager.default.createDirectory(at: file, withIntermediateDirectories: false)
        }
        Self.expectFails(directory, ["\(genuine.entriesTile): not a regular file"])
        let signatures = try genuine.audit("short-signatures") { copy in
            try Self.edit(copy.appendingPathComponent(genuine.signatures)) { $0.removeLast(1) }
        }
        Self.expectFails(signatures, ["\(genuine.signatures): expected \(64 * genuine.size) bytes"])
    }

    /// Leaves with absurd figures are refused by the entry's root; the score replay must
    /// not trap on them either.
    @Test func leavesWithAbsurdFiguresFail() throws {
        let genuine = try Genuine()
        let cases = [
            (#""import_wh":100"#, #""import_wh":9223372036854775807"#),
            (#""duration_s":3600"#, #""duration_s":-9223372036854775808"#),
            (#""duration_s":3600"#, #""duration_s":0"#),
            (#""start":1677600000"#, #""start":9223372036854775807"#),
        ]
        for (k, c) in cases.enumerated() {
            let result = try genuine.audit("leaf-\(k)") { copy in
                let file = copy.appendingPathComponent(genuine.data)
                let text = try String(contentsOf: file, encoding: .utf8)
                let changed = text.replacing(c.0, with: c.1, maxReplacements: 1)
                #expect(changed != text, "case \(k) changed nothing")
                try changed.write(to: file, atomically: true, encoding: .utf8)
            }
            Self.expectFails(result, ["(readings): root"])
        }
    }

    /// Rewrites the entries of an entries tile with `change` applied to each, fixing the
    /// length prefixes (the signatures then no longer verify, which the audit reports).
    static func rewriteEntries(_ change: @escaping (String) -> String) -> (inout [UInt8]) -> Void {
        { bytes in
            var out: [UInt8] = []
            var k = 0
            while k + 2 <= bytes.count {
                let length = Int(bytes[k]) << 8 | Int(bytes[k + 1])
                let entry = Array(change(String(decoding: bytes[(k + 2)..<(k + 2 + length)], as: UTF8.self)).utf8)
                out += [UInt8(entry.count >> 8), UInt8(entry.count & 0xFF)] + entry
                k += 2 + length
            }
            bytes = out
        }
    }

    /// Forged entries (their signatures fail) carrying values the daemon never signs: the
    /// score replay still reads them, and must report, not trap.
    @Test func forgedEntriesWithAbsurdValuesFailWithoutATrap() throws {
        let genuine = try Genuine()
        let cases: [(name: String, from: String, to: String)] = [
            ("normalizer 0", #""normalizer":1,"#, #""normalizer":0,"#),
            ("normalizer negative", #""normalizer":1,"#, #""normalizer":-9223372036854775808,"#),
            ("min_peers huge", #""min_peers":"#, #""min_peers":9223372036854775807,"x":"#),
            ("points_per_kg huge", #""points_per_kg":"#, #""points_per_kg":9223372036854775807,"x":"#),
            ("weights zero", #""peer":"#, #""peer":0,"x":"#),
            ("eligible_max_grade huge", #""eligible_max_grade":"#, #""eligible_max_grade":-9223372036854775808,"x":"#),
            ("period far", #""period":"2023-03""#, #""period":"9999-12""#),
        ]
        for (k, c) in cases.enumerated() {
            var changed = false
            let result = try genuine.audit("forged-\(k)") { copy in
                try Self.edit(copy.appendingPathComponent(genuine.entriesTile), Self.rewriteEntries { entry in
                    guard entry.contains(c.from) else { return entry }
                    changed = true
                    return entry.replacingOccurrences(of: c.from, with: c.to)
                })
            }
            #expect(changed, "\(c.name): nothing to change")
            Self.expectFails(result, ["signature"])
            #expect(!result.err.contains("Fatal error"), "\(c.name): \(result.err)")
        }
    }
}
