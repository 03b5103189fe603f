import CarbonAccounting
import CarbonModel
import TransparencyLog

/// Checks a whole ledger from any `LedgerSource` (ledger.md section 7): every entry
/// in canonical form, the chain of keys its `key` entries hand over, every entry's
/// signature with the key in force at it, the leaves and the root against the signed
/// checkpoint, every hash tile against the entries, and, as options, the data behind
/// entries and every score recomputed with `cl-score/1`.
///
/// The backup and restore checks, `carbonctl verify` and `carbonctl audit` all run
/// it; they differ only in their source and in `Options`.
public struct LedgerVerifier {
    public struct Options {
        /// Check that the leaves behind `readings`, `factors` and `zones` entries hash to
        /// their entry's `root` and number its `count`.
        public var checksData: Bool
        /// Recompute every `score` entry (needs `checksData`); the calendar of a
        /// `period` entry's program time zone.
        public var replayScores: ((String) throws -> any ProgramCalendar)?
        /// A tree size whose root is wanted (the checkpoint a client verified before).
        public var rootWanted: UInt64?

        public init(
            checksData: Bool, replayScores: ((String) throws -> any ProgramCalendar)? = nil, rootWanted: UInt64? = nil
        ) {
            self.checksData = checksData
            self.replayScores = checksData ? replayScores : nil
            self.rootWanted = rootWanted
        }
    }

    /// Why a ledger could not be walked at all.
    public enum Stop: Error, CustomStringConvertible {
        /// The source has no checkpoint (or cannot give it).
        case noCheckpoint(LedgerSourceError)
        case malformedCheckpoint(String, note: String)
        /// The checkpoint names another ledger than the key's.
        case otherOrigin(checkpoint: String, key: String)

        public var description: String {
            switch self {
            case .noCheckpoint(let error): "no checkpoint: \(error)"
            case .malformedCheckpoint(let why, let note): "the checkpoint is malformed: \(why)\n\(note)"
            case .otherOrigin(let checkpoint, let key): "the checkpoint is of \(checkpoint), the key of \(key)"
            }
        }
    }

    let source: any LedgerSource
    let first: NoteVerifier
    let options: Options

    /// A verifier of the ledger `source` holds, whose first entry is signed by `first`
    /// (the key the operator published).
    public init(source: any LedgerSource, first: NoteVerifier, options: Options) {
        self.source = source
        self.first = first
        self.options = options
    }

    /// Walks the whole ledger; `progress` is told how many entries each tile held, and
    /// of how many the checkpoint claims.
    public func run(progress: (_ entries: Int, _ of: UInt64) -> Void = { _, _ in }) throws(Stop) -> LedgerVerification {
        let noteBytes: [UInt8]
        switch source.checkpoint() {
        case .success(let bytes): noteBytes = bytes
        case .failure(let error): throw .noCheckpoint(error)
        }
        let note = String(decoding: noteBytes, as: UTF8.self)
        // Which key signs the checkpoint is known only once the entries' key entries are
        // followed: read its claims now, verify it after the walk.
        let claimed: Checkpoint
        do {
            claimed = try SignedCheckpoint.unverified(note)
        } catch {
            throw .malformedCheckpoint("\(error)", note: note)
        }
        guard claimed.origin == first.name else { throw .otherOrigin(checkpoint: claimed.origin, key: first.name) }
        var walk = TileVerifier(size: claimed.size, source: source, first: first, options: options)
        for tile in TileWalk(.entries, count: claimed.size) {
            // Past a missing tile nothing can be checked (and an unverified size may be a lie).
            guard walk.verify(entriesTile: tile) else { break }
            progress(tile.width, claimed.size)
        }
        walk.finish()
        do {
            _ = try SignedCheckpoint.open(note, verifiers: [walk.keys.current])
        } catch {
            walk.fail("the checkpoint does not verify with \(walk.keys.current.vkey), the key in force at its size: \(error)")
        }
        if walk.root != claimed.rootHash {
            walk.fail("the \(walk.walked) entries hash to \(walk.root.base64), not the checkpoint root \(claimed.rootHash.base64)")
        }
        return LedgerVerification(
            checkpoint: claimed, note: note, failures: walk.failures, keys: walk.keys, dataChecked: walk.dataChecked,
            scoresChecked: walk.scoresChecked, rootAtWantedSize: walk.rootAtWantedSize)
    }
}

/// What a verification found.
public struct LedgerVerification: Sendable {
    /// The checkpoint as it claims (trust it only when `failures` is empty).
    public var checkpoint: Checkpoint
    public var note: String
    /// Every failure, each naming the entry (or tile), kind and field, expected and found.
    public var failures: [String]
    /// The keys met: the first, then each a `key` entry announced.
    public var keys: KeyChain
    /// Entries whose data was checked.
    public var dataChecked: Int
    public var scoresChecked: Int
    /// The root at `Options.rootWanted` entries, when the ledger holds that many.
    public var rootAtWantedSize: Hash256?

    /// How a report names the key that signed the checkpoint: the given one, or the
    /// one the ledger's `key` entries lead to from it.
    public var signedBy: String {
        keys.keys.count == 1
            ? "signed by \(keys.current.vkey)"
            : "signed by \(keys.current.vkey), key \(keys.keys.count) of the chain from the given key "
                + "(\(keys.keys.count - 1) key entries followed)"
    }
}

/// Walks the entries tiles in order, checking each entry and rebuilding the hash
/// tiles level by level, holding one tile per level.
struct TileVerifier {
    let size: UInt64
    let source: any LedgerSource
    let options: Options
    typealias Options = LedgerVerifier.Options
    private(set) var failures: [String] = []
    private(set) var dataChecked = 0
    private var frontier = MerkleFrontier()
    private let signatureChecks = SignatureChecks()
    /// The keys met so far: the given one, then each a `key` entry announced.
    private(set) var keys: KeyChain
    private var replay: ScoreReplay?
    /// Per level, the hashes of the tile being filled.
    private var levels: [[Hash256]] = []
    private var tileIndex: [UInt64] = []
    private(set) var rootAtWantedSize: Hash256?

    init(size: UInt64, source: any LedgerSource, first: NoteVerifier, options: Options) {
        self.keys = KeyChain(first: first)
        self.size = size
        self.source = source
        self.options = options
        let rereader = DataRereader(source: source, size: size)
        self.replay = options.replayScores.map { calendar in
            ScoreReplay(calendar: calendar) { index in rereader.leaves(ofEntry: index) }
        }
    }

    var root: Hash256 { frontier.rootHash() }

    /// How many entries were walked.
    var walked: UInt64 { frontier.size }

    var scoresChecked: Int { replay?.scoresChecked ?? 0 }

    mutating func fail(_ message: String) { failures.append(message) }

    /// Checks one entries tile; false when it is missing or malformed (the walk cannot go on).
    mutating func verify(entriesTile tile: Tile) -> Bool {
        let entries: [[UInt8]]
        switch source.tile(tile) {
        case .failure(.missing):
            fail("\(tile.path): missing: the checkpoint claims \(size) entries, the ledger's entries end at \(tile.first)")
            return false
        case .failure(let error):
            fail("\(error)")
            return false
        case .success(let bytes):
            do throws(BundleFormatError) {
                entries = try LedgerBundle.entries(ofTile: bytes, tile: tile)
            } catch {
                fail("\(tile.path): \(error)")
                return false
            }
        }
        var signatures: [UInt8]? = nil
        switch source.signatures(tile) {
        case .success(let bytes) where bytes.count == 64 * tile.width: signatures = bytes
        case .success(let bytes): fail("\(LedgerBundle.signaturesPath(tile)): expected \(64 * tile.width) bytes, found \(bytes.count)")
        case .failure(let error): fail("\(error)")
        }
        let data = options.checksData ? readData(of: tile) : [:]
        var signers: [NoteVerifier] = []
        signers.reserveCapacity(entries.count)
        for (k, entry) in entries.enumerated() {
            let index = tile.first + UInt64(k)
            // Parsed once: its kind, its canonical form and the replay all read this.
            let value = try? JSONValue.parse(ledgerEntry: entry)
            let kind = value?["kind"]?.stringValue ?? "?"
            var decoded: LedgerEntry?
            if let value, value.canonicalBytes() == entry {
                do {
                    decoded = try LedgerEntry.decode(value, canonicalBytes: entry).entry
                } catch {
                    fail("entry \(index) (\(kind)): \(error)")
                }
            } else {
                fail("entry \(index) (\(kind)): not canonical JSON")
            }
            do {
                signers.append(try keys.signer(of: decoded))
            } catch {
                fail("entry \(index) (\(kind)): \(error)")
                signers.append(keys.current)
            }
            if options.checksData {
                let leaves = LedgerBundle.kindsWithData.contains(kind)
                    ? verifyData(of: value, index: index, kind: kind, leaves: data[index], in: tile) : nil
                if let decoded, replay != nil { failures += replay!.add(index: index, entry: decoded, data: leaves) }
            }
            let leaf = RFC6962.leafHash(entry)
            frontier.append(leaf)
            if frontier.size == options.rootWanted { rootAtWantedSize = frontier.rootHash() }
            push(leaf, level: 0)
        }
        if let signatures {
            signatureChecks.check(entries: entries, signatures: signatures, signers: signers, first: tile.first)
        }
        return true
    }

    /// The data tile of `tile`, split by entry; empty when it has none.
    private mutating func readData(of tile: Tile) -> [UInt64: [[UInt8]]] {
        switch source.data(tile) {
        case .success(let bytes):
            do throws(BundleFormatError) {
                return try LedgerBundle.sections(ofData: bytes, tile: tile)
            } catch {
                fail("\(LedgerBundle.dataPath(tile)): \(error)")
            }
        case .failure(.missing): break  // a tile without readings, factors or zones entries has none
        case .failure(let error): fail("\(error)")
        }
        return [:]
    }

    /// The leaves behind an entry must hash to its `root` and number its `count`;
    /// returns them, one a line.
    private mutating func verifyData(
        of entry: JSONValue?, index: UInt64, kind: String, leaves: [[UInt8]]?, in tile: Tile
    ) -> [[UInt8]]? {
        let path = LedgerBundle.dataPath(tile)
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

    /// Adds a hash to its level's tile; a full tile is compared with the source's and
    /// its root goes up to the next level.
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

    /// Compares the partial tiles at the right edge, waits for the signature checks
    /// and collects what is left of the score replay.
    mutating func finish() {
        for level in levels.indices where !levels[level].isEmpty { compare(level: level) }
        failures += signatureChecks.finish()
        if replay != nil { failures += replay!.finish() }
    }

    private mutating func compare(level: Int) {
        let tile = Tile(kind: .hashes(level: level), index: tileIndex[level], width: levels[level].count)
        let expected = levels[level].flatMap(\.bytes)
        let found: [UInt8]
        switch source.tile(tile) {
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

/// The leaves behind earlier entries, read a second time from their data tiles (for a
/// restated period); the last tile read is kept, since a period's batches sit side
/// by side.
final class DataRereader {
    private let source: any LedgerSource
    private let size: UInt64
    private var last: (tile: UInt64, sections: [UInt64: [[UInt8]]])?

    init(source: any LedgerSource, size: UInt64) {
        self.source = source
        self.size = size
    }

    /// The leaves behind entry `index`; nil when the source cannot give them.
    func leaves(ofEntry index: UInt64) -> [[UInt8]]? {
        guard index < size else { return nil }
        let tileIndex = index / UInt64(Tile.width)
        if let last, last.tile == tileIndex { return last.sections[index] }
        let first = tileIndex * UInt64(Tile.width)
        let tile = Tile(kind: .entries, index: tileIndex, width: Int(min(UInt64(Tile.width), size - first)))
        guard case .success(let bytes) = source.data(tile),
            let sections = try? LedgerBundle.sections(ofData: bytes, tile: tile)
        else { return nil }
        last = (tileIndex, sections)
        return sections[index]
    }
}
