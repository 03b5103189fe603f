import ArgumentParser
import CarbonAccounting
import CarbonLedger
import CarbonModel
import Foundation
import TransparencyLog

struct Export: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write the ledger as an audit bundle: tlog-tiles, entry signatures and the data behind entries.",
        discussion: """
            DIR gets `checkpoint`, `tile/<L>/<N>[.p/<W>]` and `tile/entries/...` (C2SP tlog-tiles,
            readable by any tlog-tiles client), `signatures/<N>[.p/<W>]` (each entry's 64-byte
            Ed25519 signature, in entry order) and `data/<N>[.p/<W>].ndjson` (the reading, factor-row
            and zone leaves behind the readings, factors and zones entries of entries tile N).
            Needs the auditor or admin role.
            """)

    @OptionGroup var options: ClientOptions

    @Argument(help: "The folder to write (created if missing).")
    var dir: String

    func run() throws {
        let daemon = try options.connect()
        let note = try daemon.get("/v1/ledger/checkpoint").text
        let lines = note.split(separator: "\n", omittingEmptySubsequences: false)
        guard lines.count > 2, let size = UInt64(lines[1]) else { throw CommandFailure("unexpected checkpoint:\n\(note)") }
        let root = URL(fileURLWithPath: dir, isDirectory: true)
        func write(_ bytes: [UInt8], to path: String) throws {
            let file = root.appendingPathComponent(path)
            try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data(bytes).write(to: file)
        }
        let levels = TileWalk.levels(treeSize: size)
        let tileCount = levels.reduce(0) { $0 + $1.tileCount }
        let progress = Progress(total: Int(clamping: tileCount), noun: "tiles")
        for tile in levels.lazy.joined() {
            let tail = String(tile.path.dropFirst("tile/".count))
            try write(Array(daemon.get("/v1/ledger/tile/\(tail)").body), to: tile.path)
            if case .entries = tile.kind {
                let signatures = try daemon.get("/v1/ledger/signatures/\(tail.dropFirst("entries/".count))").body
                try write(Array(signatures), to: Bundle.signaturesPath(tile))
                let data = try daemon.get("/v1/ledger/data/\(tail.dropFirst("entries/".count))").body
                if !data.isEmpty { try write(Array(data), to: Bundle.dataPath(tile)) }
            }
            progress.advance(by: 1)
        }
        // The checkpoint last: a bundle with a checkpoint is a whole one.
        try write(Array(note.utf8), to: "checkpoint")
        progress.finish()
        if !options.json { print("exported \(size) entries in \(tileCount) tiles to \(dir)") }
    }
}

struct Audit: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Audit an exported bundle offline: signatures, tiles, root, and the data behind entries.",
        discussion: """
            Checks every entry's own signature and canonical form (with --key, then with each key a
            `key` entry signed by the key in force announces), the checkpoint's signature with the
            last key of that chain, that the entries hash to the checkpoint root and that every hash tile holds what the
            entries give, and that the exported readings, factor rows and zones hash to the root of
            their entry. Reports every failure (entry index, kind, field, expected and found) and exits
            3 if there is any.
            """)

    @OptionGroup var keyOption: KeyOption
    @OptionGroup var state: StateOption
    @OptionGroup var options: ClientOptions

    @Argument(help: "The bundle folder written by `carbonctl export`; without it, the daemon's ledger is exported to a temporary folder and audited.")
    var dir: String?

    func run() throws {
        let verifier = try keyOption.requiredVerifier()
        guard let dir else {
            let temporary = FileManager.default.temporaryDirectory.appendingPathComponent("carbonledger-audit-\(getpid())")
            defer { try? FileManager.default.removeItem(at: temporary) }
            var export = Export()
            export.options = options
            export.dir = temporary.path
            try export.run()
            return try audit(temporary.path, verifier: verifier)
        }
        try audit(dir, verifier: verifier)
    }

    private func audit(_ dir: String, verifier: NoteVerifier) throws {
        let root = URL(fileURLWithPath: dir, isDirectory: true)
        func read(_ path: String) -> Result<[UInt8], BundleFileError> {
            let limit = Bundle.sizeLimit(of: path)
            return BundleFile.contents(root.appendingPathComponent(path), limit: limit.bytes, what: limit.what)
        }
        let noteBytes: [UInt8]
        switch read("checkpoint") {
        case .success(let bytes): noteBytes = bytes
        case .failure(.missing):
            throw CommandFailure("\(dir) has no checkpoint: it is not a bundle, or its export did not finish", exitCode: 3)
        case .failure(let error): throw CommandFailure("\(error)", exitCode: 3)
        }
        let note = String(decoding: noteBytes, as: UTF8.self)
        // Which key signs the checkpoint is known only once the entries' key entries are
        // followed: read its claims now, verify it after the walk.
        let claimed = try claimedCheckpoint(note)
        guard claimed.origin == verifier.name else {
            throw CommandFailure("the checkpoint is of \(claimed.origin), the key of \(verifier.name)", exitCode: 3)
        }
        var auditor = TileAuditor(
            size: claimed.size, read: read, first: verifier, rootWanted: state.savedSize(origin: claimed.origin))
        let progress = Progress(total: Int(clamping: claimed.size), noun: "entries")
        for tile in TileWalk(.entries, count: claimed.size) {
            // Past a missing tile nothing can be checked (and an unverified size may be a lie).
            guard auditor.audit(entriesTile: tile) else { break }
            progress.advance(by: tile.width)
        }
        auditor.finishTiles()
        auditor.finishScores()
        progress.finish()
        let checkpoint = claimed
        do {
            _ = try SignedCheckpoint.open(note, verifiers: [auditor.keys.current])
        } catch {
            auditor.fail("the checkpoint does not verify with \(auditor.keys.current.vkey), the key in force at its size: \(error)")
        }
        if auditor.root != checkpoint.rootHash {
            auditor.fail("the \(auditor.audited) entries hash to \(auditor.root.base64), not the checkpoint root \(checkpoint.rootHash.base64)")
        }
        guard auditor.failures.isEmpty else {
            for failure in auditor.failures { FileHandle.standardError.write(Data("FAIL \(failure)\n".utf8)) }
            throw CommandFailure("the bundle does not audit: \(auditor.failures.count) failures", exitCode: 3)
        }
        // The audited entries themselves show whether this tree contains the one verified before.
        try state.advance(to: checkpoint, note: note, verifiers: auditor.keys.keys) { last in
            guard let root = auditor.rootAtWantedSize else { return "the bundle holds no tree of size \(last.size)" }
            return root == last.rootHash ? nil : "the bundle's first \(last.size) entries hash to \(root.base64)"
        }
        print("audited \(checkpoint.size) entries: checkpoint, every signature, every tile, the root "
              + "\(checkpoint.rootHash.base64), the data of \(auditor.dataChecked) entries, "
              + "and \(auditor.scoresChecked) scores recomputed with cl-score/1; the checkpoint is \(describe(auditor.keys))")
    }
}

/// Walks the entries tiles in order, checking each entry and rebuilding the hash
/// tiles level by level, holding one tile per level.
struct TileAuditor {
    let size: UInt64
    let read: (String) -> Result<[UInt8], BundleFileError>
    private(set) var failures: [String] = []
    private(set) var dataChecked = 0
    private var frontier = MerkleFrontier()
    private let signatureChecker = SignatureChecker()
    /// The keys met so far: the given one, then each a `key` entry announced.
    private(set) var keys: KeyChain
    private var replay = ScoreReplay(calendar: Self.calendar)
    /// Per level, the hashes of the tile being filled.
    private var levels: [[Hash256]] = []
    private var tileIndex: [UInt64] = []

    /// A tree size whose root is wanted (the checkpoint verified before).
    let rootWanted: UInt64?
    private(set) var rootAtWantedSize: Hash256?

    init(
        size: UInt64, read: @escaping (String) -> Result<[UInt8], BundleFileError>, first: NoteVerifier,
        rootWanted: UInt64? = nil
    ) {
        self.keys = KeyChain(first: first)
        self.size = size
        self.read = read
        self.rootWanted = rootWanted
    }

    var root: Hash256 { frontier.rootHash() }

    /// How many entries were walked.
    var audited: UInt64 { frontier.size }

    mutating func fail(_ message: String) { failures.append(message) }

    /// Checks one entries tile; false when it is missing or malformed (the walk cannot go on).
    @discardableResult
    mutating func audit(entriesTile tile: Tile) -> Bool {
        let entries: [[UInt8]]
        switch read(tile.path) {
        case .failure(.missing):
            fail("\(tile.path): missing: the checkpoint claims \(size) entries, the bundle's entries end at \(tile.first)")
            return false
        case .failure(let error):
            fail("\(error)")
            return false
        case .success(let bytes):
            do throws(BundleFormatError) {
                entries = try Bundle.entries(ofBundle: bytes, tile: tile)
            } catch {
                fail("\(tile.path): \(error)")
                return false
            }
        }
        var signatures: [UInt8]? = nil
        switch read(Bundle.signaturesPath(tile)) {
        case .success(let bytes) where bytes.count == 64 * tile.width: signatures = bytes
        case .success(let bytes): fail("\(Bundle.signaturesPath(tile)): expected \(64 * tile.width) bytes, found \(bytes.count)")
        case .failure(let error): fail("\(error)")
        }
        var data: [UInt64: [[UInt8]]] = [:]
        switch read(Bundle.dataPath(tile)) {
        case .success(let bytes):
            do throws(BundleFormatError) {
                data = try Bundle.sections(ofData: bytes, tile: tile)
            } catch {
                fail("\(Bundle.dataPath(tile)): \(error)")
            }
        case .failure(.missing): break  // a tile without readings, factors or zones entries has none
        case .failure(let error): fail("\(error)")
        }
        var signers: [NoteVerifier] = []
        signers.reserveCapacity(entries.count)
        for (k, entry) in entries.enumerated() {
            let index = tile.first + UInt64(k)
            // Parsed once: its kind, its canonical form and the replay all read this.
            let value = try? JSONValue.parse(entry)
            let kind = value?["kind"]?.stringValue ?? "?"
            if value?.canonicalBytes() != entry { fail("entry \(index) (\(kind)): not canonical JSON") }
            do {
                signers.append(try keys.signer(of: value))
            } catch {
                fail("entry \(index) (\(kind)): \(error)")
                signers.append(keys.current)
            }
            let leaves = Bundle.kindsWithData.contains(kind) ? auditData(of: value, index: index, kind: kind, leaves: data[index], in: tile) : nil
            failures += replay.add(index: index, entry: value, data: leaves)
            let leaf = RFC6962.leafHash(entry)
            frontier.append(leaf)
            if frontier.size == rootWanted { rootAtWantedSize = frontier.rootHash() }
            push(leaf, level: 0)
        }
        if let signatures {
            signatureChecker.check(entries: entries, signatures: signatures, signers: signers, first: tile.first)
        }
        return true
    }

    var scoresChecked: Int { replay.scoresChecked }

    mutating func finishScores() { failures += replay.finish() }

    /// The program time zone of a `period` entry, from the system's zone files.
    static func calendar(_ identifier: String) throws -> any ProgramCalendar {
        guard !identifier.contains(".."),
            let bytes = FileManager.default.contents(atPath: "/usr/share/zoneinfo/" + identifier)
        else { throw CommandFailure("cannot read the time zone \(identifier) from /usr/share/zoneinfo (install tzdata)") }
        return try TZifCalendar(identifier: identifier, tzif: Array(bytes))
    }

    /// The leaves exported behind an entry must hash to its `root` and number its
    /// `count`; returns them, one a line.
    private mutating func auditData(
        of entry: JSONValue?, index: UInt64, kind: String, leaves: [[UInt8]]?, in tile: Tile
    ) -> [[UInt8]]? {
        let path = Bundle.dataPath(tile)
        guard let lines = leaves else {
            fail("entry \(index) (\(kind)): its leaves are missing from \(path)")
            return nil
        }
        let fields = entry?.objectValue ?? [:]
        let leafHashes = lines.map { RFC6962.leafHash($0) }
        let computed = RFC6962.rootHash(ofLeafHashes: leafHashes)
        if let found = fields["root"]?.stringValue, found != computed.base64 {
            fail("entry \(index) (\(kind)): root: expected \(computed.base64) (over \(path)), found \(found)")
        }
        if let count = fields["count"]?.intValue, count != Int64(leafHashes.count) {
            fail("entry \(index) (\(kind)): count: expected \(leafHashes.count) (lines of \(path)), found \(count)")
        }
        dataChecked += 1
        return lines
    }

    /// Adds a hash to its level's tile; a full tile is compared with its file and its
    /// root goes up to the next level.
    private mutating func push(_ hash: Hash256, level: Int) {
        while levels.count <= level {
            levels.append([])
            tileIndex.append(0)
        }
        levels[level].append(hash)
        guard levels[level].count == Tile.width else { return }
        compare(level: level)
        let subtree = RFC6962.rootHash(ofLeafHashes: levels[level])
        levels[level].removeAll(keepingCapacity: true)
        tileIndex[level] += 1
        push(subtree, level: level + 1)
    }

    /// Compares the partial tiles at the right edge, and collects the signature checks.
    mutating func finishTiles() {
        for level in levels.indices where !levels[level].isEmpty { compare(level: level) }
        failures += signatureChecker.finish()
    }

    private mutating func compare(level: Int) {
        let tile = Tile(kind: .hashes(level: level), index: tileIndex[level], width: levels[level].count)
        let expected = levels[level].flatMap(\.bytes)
        let found: [UInt8]
        switch read(tile.path) {
        case .success(let bytes): found = bytes
        case .failure(let error): return fail("\(error)")
        }
        if found.count != expected.count {
            fail("\(tile.path): holds \(found.count) bytes, expected \(expected.count) (\(levels[level].count) hashes of 32 bytes)")
        } else if found != expected {
            let differing = zip(found, expected).enumerated().first { $0.element.0 != $0.element.1 }?.offset
            let at = (differing ?? min(found.count, expected.count)) / 32
            fail("\(tile.path): hash \(at) (tree level \(8 * level), index \(tile.first + UInt64(at))) does not match the entries")
        }
    }
}

/// Checks entry signatures on a thread of its own while the audit goes on: Ed25519
/// verification is three quarters of an audit's work, and nothing else waits for it.
final class SignatureChecker: @unchecked Sendable {
    private struct Work {
        var entries: [[UInt8]]
        var signatures: [UInt8]
        /// Per entry, the key in force when it was appended.
        var signers: [NoteVerifier]
        var first: UInt64
    }

    private let condition = NSCondition()
    // Guarded by `condition`.
    private var queue: [Work] = []
    private var closed = false
    private var done = false
    private var failures: [String] = []

    init() {
        let thread = Thread { [self] in run() }
        thread.name = "signatures"
        thread.start()
    }

    /// Queues the entries of one tile, their signatures (64 bytes each, in order) and the key each must verify with.
    func check(entries: [[UInt8]], signatures: [UInt8], signers: [NoteVerifier], first: UInt64) {
        condition.lock()
        while queue.count >= 8 { condition.wait() }
        queue.append(Work(entries: entries, signatures: signatures, signers: signers, first: first))
        condition.broadcast()
        condition.unlock()
    }

    /// Waits for every queued check; returns the failures, by entry index.
    func finish() -> [String] {
        condition.lock()
        closed = true
        condition.broadcast()
        while !done { condition.wait() }
        defer { condition.unlock() }
        return failures
    }

    private func run() {
        while true {
            condition.lock()
            while queue.isEmpty && !closed { condition.wait() }
            guard !queue.isEmpty else {
                done = true
                condition.broadcast()
                condition.unlock()
                return
            }
            let work = queue.removeFirst()
            condition.broadcast()
            condition.unlock()
            var found: [String] = []
            for (k, entry) in work.entries.enumerated() {
                let signature = Array(work.signatures[(64 * k)..<(64 * k + 64)])
                let signer = work.signers[k]
                if !EntrySignature.verify(entry: entry, signature: signature, verifier: signer) {
                    found.append("entry \(work.first + UInt64(k)): signature: does not verify with \(signer.vkey)")
                }
            }
            if !found.isEmpty {
                condition.lock()
                failures += found
                condition.unlock()
            }
        }
    }
}
