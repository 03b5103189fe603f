import CarbonLedger
import CarbonModel
import Testing
import TransparencyLog

/// A ledger built in memory, served file by file as a bundle would be, for the
/// verifier to walk; `files` may be changed to tamper with it.
final class MemoryLedger: LedgerSource {
    var files: [String: [UInt8]] = [:]
    let signer: NoteSigner
    private(set) var entries: [[UInt8]] = []
    private var signatures: [[UInt8]] = []
    private var data: [Int: [[UInt8]]] = [:]

    init(origin: String = "test.example/ledger") throws {
        signer = try NoteSigner(skey: NoteSigner.generate(name: origin).skey)
    }

    /// Appends `entry`, signed by `signer` (the key in force), with the leaves behind it.
    func append(_ entry: LedgerEntry, leaves: [[UInt8]]? = nil, signedBy: NoteSigner? = nil) {
        let bytes = entry.canonicalBytes(time: 1_790_000_000 + Int64(entries.count))
        signatures.append(EntrySignature.sign(entry: bytes, signer: signedBy ?? signer))
        if let leaves { data[entries.count] = leaves }
        entries.append(bytes)
    }

    /// Writes every file of the bundle for the tree as it is, the checkpoint signed by `checkpointSigner`.
    func publish(checkpointSigner: NoteSigner? = nil) throws {
        files = [:]
        let size = UInt64(entries.count)
        for tile in Tile.tiles(of: .entries, count: size) {
            let range = Int(tile.first)..<(Int(tile.first) + tile.width)
            var bytes: [UInt8] = []
            var sections: [UInt8] = []
            for k in range {
                LedgerBundle.appendEntry(entries[k], to: &bytes)
                if let leaves = data[k] { LedgerBundle.appendDataSection(entry: Int64(k), leaves: leaves, to: &sections) }
            }
            files[tile.path] = bytes
            files[LedgerBundle.signaturesPath(tile)] = range.flatMap { signatures[$0] }
            if !sections.isEmpty { files[LedgerBundle.dataPath(tile)] = sections }
        }
        var level = entries.map { RFC6962.leafHash($0) }
        var depth = 0
        while !level.isEmpty {
            for tile in Tile.tiles(of: .hashes(level: depth), count: UInt64(level.count)) {
                files[tile.path] = level[Int(tile.first)..<(Int(tile.first) + tile.width)].flatMap(\.bytes)
            }
            // The next tile level holds the roots of each full tile of 256 hashes.
            level = stride(from: 0, to: level.count - level.count % Tile.width, by: Tile.width).map {
                RFC6962.rootHash(ofLeafHashes: Array(level[$0..<($0 + Tile.width)]))
            }
            depth += 1
        }
        let root = RFC6962.rootHash(ofLeafHashes: entries.map { RFC6962.leafHash($0) })
        let checkpoint = try Checkpoint(origin: signer.name, size: size, rootHash: root)
        files["checkpoint"] = Array(try SignedCheckpoint.sign(checkpoint, signers: [checkpointSigner ?? signer]).note.utf8)
    }

    func checkpoint() -> Result<[UInt8], LedgerSourceError> { read("checkpoint") }
    func tile(_ tile: Tile) -> Result<[UInt8], LedgerSourceError> { read(tile.path) }
    func signatures(_ tile: Tile) -> Result<[UInt8], LedgerSourceError> { read(LedgerBundle.signaturesPath(tile)) }
    func data(_ tile: Tile) -> Result<[UInt8], LedgerSourceError> { read(LedgerBundle.dataPath(tile)) }

    private func read(_ path: String) -> Result<[UInt8], LedgerSourceError> {
        files[path].map { .success($0) } ?? .failure(.missing(path))
    }
}

@Suite struct LedgerVerifierTests {
    static let zones = [Zone(zone: "CN", parent: nil, name: "China"), Zone(zone: "CN-ZJ", parent: "CN", name: "Zhejiang")]

    /// Zones, a consumer and 300 readings batches (two entries tiles, a second hash level).
    static func ledger() throws -> MemoryLedger {
        let ledger = try MemoryLedger()
        let tree = try ZoneTree(zones)
        ledger.append(.zones(ZonesEntry(tree: tree)), leaves: tree.zones.map(\.leafBytes))
        ledger.append(.consumer(Consumer(id: "c1", utility: "u1", zone: "CN-ZJ", consumerClass: .residential, normalizer: 1)))
        for hour in 0..<300 {
            let reading = Reading(
                utility: "u1", meter: "m1", consumer: "c1", start: 1_790_000_000 / 3600 * 3600 + Int64(hour) * 3600,
                durationS: 3600, importWh: Int64(100 + hour), exportWh: 0, quality: .actual, id: nil)
            let leaf = reading.leafBytes
            ledger.append(.readings(ReadingsEntry(
                utility: "u1", count: 1, root: RFC6962.rootHash(ofLeafHashes: [RFC6962.leafHash(leaf)]),
                firstStart: reading.start, lastEnd: reading.start + 3600, batch: nil)), leaves: [leaf])
        }
        try ledger.publish()
        return ledger
    }

    static func verify(_ ledger: MemoryLedger, first: NoteVerifier? = nil) throws -> LedgerVerification {
        try LedgerVerifier(source: ledger, first: first ?? ledger.signer.verifier, options: .init(checksData: true)).run()
    }

    @Test func anUntouchedLedgerVerifiesWithEveryCheck() throws {
        let ledger = try Self.ledger()
        let verification = try Self.verify(ledger)
        #expect(verification.failures.isEmpty, "\(verification.failures)")
        #expect(verification.checkpoint.size == 302)
        #expect(verification.dataChecked == 301)
        #expect(verification.signedBy == "signed by \(ledger.signer.verifier.vkey)")
    }

    /// Each change to one file of the ledger, and the failure that must name it.
    @Test func everyTamperingIsNamed() throws {
        let cases: [(name: String, expect: String, change: (MemoryLedger) throws -> Void)] = [
            ("entry byte", "entry 0 (?): not canonical JSON", { ledger in
                ledger.files["tile/entries/000"]!.withUnsafeMutableBytes { bytes in
                    let at = bytes.firstIndex(of: UInt8(ascii: "{"))!
                    bytes[at] = UInt8(ascii: " ")
                }
            }),
            ("signature", "entry 5: signature: does not verify", { ledger in
                ledger.files["signatures/000"]![5 * 64] ^= 1
            }),
            ("hash tile", "tile/0/000: hash 7 (tree level 0, index 7) does not match the entries", { ledger in
                ledger.files["tile/0/000"]![7 * 32] ^= 1
            }),
            ("second level", "tile/1/000.p/1: hash 0 (tree level 8, index 0) does not match the entries", { ledger in
                ledger.files["tile/1/000.p/1"]![0] ^= 1
            }),
            ("data leaf", "entry 262 (readings): root: expected", { ledger in
                let path = LedgerBundle.dataPath(Tile(kind: .entries, index: 1, width: 46))
                let text = String(decoding: ledger.files[path]!, as: UTF8.self)
                ledger.files[path] = Array(text.replacingOccurrences(of: "\"import_wh\":360", with: "\"import_wh\":361").utf8)
            }),
            ("missing tile", "tile/entries/001.p/46: missing", { ledger in
                ledger.files["tile/entries/001.p/46"] = nil
            }),
            ("another key's checkpoint", "the checkpoint does not verify", { ledger in
                try ledger.publish(checkpointSigner: try NoteSigner(skey: NoteSigner.generate(name: ledger.signer.name).skey))
            }),
        ]
        for tampering in cases {
            let ledger = try Self.ledger()
            try tampering.change(ledger)
            let failures = try Self.verify(ledger).failures
            #expect(failures.contains { $0.contains(tampering.expect) }, "\(tampering.name): \(failures)")
        }
    }

    @Test func aKeyEntryHandsOverToTheKeyItAnnouncesAndOnlyThat() throws {
        let ledger = try Self.ledger()
        let next = try NoteSigner(skey: NoteSigner.generate(name: ledger.signer.name).skey)
        ledger.append(.key(next.verifier))
        ledger.append(.consumer(Consumer(id: "c2", utility: "u1", zone: "CN", consumerClass: .commercial, normalizer: 2)),
                      signedBy: next)
        try ledger.publish(checkpointSigner: next)
        let verification = try Self.verify(ledger)
        #expect(verification.failures.isEmpty, "\(verification.failures)")
        #expect(verification.keys.keys == [ledger.signer.verifier, next.verifier])

        // An entry after the hand-over signed by the old key fails.
        ledger.append(.consumer(Consumer(id: "c3", utility: "u1", zone: "CN", consumerClass: .commercial, normalizer: 2)))
        try ledger.publish(checkpointSigner: next)
        #expect(try Self.verify(ledger).failures.contains { $0.contains("entry 304: signature: does not verify with \(next.verifier.vkey)") })

        // A key of another ledger is not followed.
        let stranger = try MemoryLedger(origin: "other.example/ledger")
        let forged = try Self.ledger()
        forged.append(.key(stranger.signer.verifier))
        try forged.publish()
        #expect(try Self.verify(forged).failures.contains { $0.contains("entry 302 (key): vkey: the key is for \"other.example/ledger\"") })
    }

    @Test func aCheckpointOfAnotherLedgerOrMalformedStopsTheWalk() throws {
        let ledger = try Self.ledger()
        let stranger = try MemoryLedger(origin: "other.example/ledger")
        #expect(throws: LedgerVerifier.Stop.self) { try Self.verify(ledger, first: stranger.signer.verifier) }
        ledger.files["checkpoint"] = Array("not a checkpoint\n".utf8)
        #expect(throws: LedgerVerifier.Stop.self) { try Self.verify(ledger) }
        ledger.files["checkpoint"] = nil
        #expect(throws: LedgerVerifier.Stop.self) { try Self.verify(ledger) }
    }

    @Test func aClaimedHugeTreeCostsOneMissingTile() throws {
        let ledger = try Self.ledger()
        let root = RFC6962.rootHash(ofLeafHashes: ledger.entries.map { RFC6962.leafHash($0) })
        let huge = try Checkpoint(origin: ledger.signer.name, size: UInt64(Int64.max), rootHash: root)
        ledger.files["checkpoint"] = Array(try SignedCheckpoint.sign(huge, signers: [ledger.signer]).note.utf8)
        let failures = try Self.verify(ledger).failures
        #expect(failures.contains { $0.contains("tile/entries/001: missing") }, "\(failures)")
    }
}
