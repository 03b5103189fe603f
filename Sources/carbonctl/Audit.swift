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
                try write(Array(signatures), to: LedgerBundle.signaturesPath(tile))
                let data = try daemon.get("/v1/ledger/data/\(tail.dropFirst("entries/".count))").body
                if !data.isEmpty { try write(Array(data), to: LedgerBundle.dataPath(tile)) }
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
    @OptionGroup var witnessOptions: WitnessOptions

    @Argument(help: "The bundle folder written by `carbonctl export`; without it, the daemon's ledger is audited through its API.")
    var dir: String?

    func run() throws {
        let policy = try witnessOptions.load()
        let verifier = try keyOption.requiredVerifier(policy: policy)
        let source: any LedgerSource = try dir.map(BundleFolder.init)
            ?? DaemonLedger(options.connect(), checkpoint: checkpointPath(policy))
        let verification = try verify(source, dir: dir, first: verifier, options: .init(
            checksData: true, replayScores: { try SystemTimeZones.calendar($0) },
            rootWanted: state.savedSize(origin: verifier.name)))
        // The audited entries themselves show whether this tree contains the one verified before.
        let checkpoint = verification.checkpoint
        let cosigners = try witnessed(verification.note, checkpoint, policy: policy)
        let ledger = dir == nil ? "the ledger" : "the bundle"
        try state.advance(to: checkpoint, note: verification.note, verifiers: verification.keys.keys) { last in
            guard let root = verification.rootAtWantedSize else { return "\(ledger) holds no tree of size \(last.size)" }
            return root == last.rootHash ? nil : "\(ledger)'s first \(last.size) entries hash to \(root.base64)"
        }
        print("audited \(checkpoint.size) entries: checkpoint, every signature, every tile, the root "
              + "\(checkpoint.rootHash.base64), the data of \(verification.dataChecked) entries, "
              + "and \(verification.scoresChecked) scores recomputed with cl-score/1; the checkpoint is \(verification.signedBy)\(cosigners)")
    }
}

/// Runs the ledger verifier over `source`, showing progress, and fails (exit status 3)
/// listing every failure when there is any; `dir` names a bundle folder in messages.
func verify(
    _ source: any LedgerSource, dir: String? = nil, first: NoteVerifier, options: LedgerVerifier.Options
) throws -> LedgerVerification {
    var progress: Progress?
    let verification: LedgerVerification
    do {
        verification = try LedgerVerifier(source: source, first: first, options: options).run { entries, total in
            if progress == nil { progress = Progress(total: Int(clamping: total), noun: "entries") }
            progress?.advance(by: entries)
        }
    } catch .noCheckpoint(.missing) where dir != nil {
        throw CommandFailure("\(dir!) has no checkpoint: it is not a bundle, or its export did not finish", exitCode: 3)
    } catch .noCheckpoint(let error) {
        throw CommandFailure("\(error)", exitCode: 3)
    } catch {
        throw CommandFailure("\(error)", exitCode: 3)
    }
    progress?.finish()
    guard verification.failures.isEmpty else {
        for failure in verification.failures { FileHandle.standardError.write(Data("FAIL \(failure)\n".utf8)) }
        let what = dir == nil ? "the ledger does not verify" : "the bundle does not audit"
        throw CommandFailure("\(what): \(verification.failures.count) failures", exitCode: 3)
    }
    return verification
}
