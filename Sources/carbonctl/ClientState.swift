import ArgumentParser
import CarbonAPI
import Foundation
import TransparencyLog

/// The last checkpoint this client verified, per ledger origin, like Go's sumdb
/// cache: every later checkpoint must extend it, or the ledger forked or rolled back.
struct StateOption: ParsableArguments {
    @Option(
        name: .long,
        help: "Folder of verified checkpoints (default: $CARBONLEDGER_STATE_DIR, else ~/.local/state/carbonledger).")
    var state: String?

    var folder: URL {
        if let state { return URL(fileURLWithPath: state, isDirectory: true) }
        let environment = ProcessInfo.processInfo.environment
        if let folder = environment["CARBONLEDGER_STATE_DIR"] { return URL(fileURLWithPath: folder, isDirectory: true) }
        let base = environment["XDG_STATE_HOME"].map { URL(fileURLWithPath: $0) }
            ?? FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".local/state")
        return base.appendingPathComponent("carbonledger", isDirectory: true)
    }

    private func file(origin: String) -> URL {
        folder.appendingPathComponent(
            "checkpoint-" + (origin.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? origin))
    }

    /// The checkpoint verified last for `origin`, if any; it must verify with one of `verifiers`
    /// (the ledger's keys: it may have been signed before the key changed).
    func last(origin: String, verifiers: [NoteVerifier]) throws -> Checkpoint? {
        let path = file(origin: origin).path
        guard let bytes = FileManager.default.contents(atPath: path) else { return nil }
        do {
            return try SignedCheckpoint.open(String(decoding: bytes, as: UTF8.self), verifiers: verifiers).checkpoint
        } catch {
            let keys = verifiers.map(\.vkey).joined(separator: ", ")
            throw CommandFailure("the saved checkpoint \(path) does not verify with \(keys): \(error)", exitCode: 3)
        }
    }

    /// The tree size of the checkpoint saved for `origin`, unverified: it only says which
    /// root an audit should remember; `advance` verifies the checkpoint itself.
    func savedSize(origin: String) -> UInt64? {
        FileManager.default.contents(atPath: file(origin: origin).path)
            .flatMap { try? SignedCheckpoint.unverified(String(decoding: $0, as: UTF8.self)).size }
    }

    /// Checks that `checkpoint` extends the one verified last (`extends` says why a larger
    /// tree does not contain the saved one, nil when it does), then saves `note` as the
    /// latest. A fork or a rollback is exit status 4.
    func advance(
        to checkpoint: Checkpoint, note: String, verifiers: [NoteVerifier], extends: (_ last: Checkpoint) throws -> String?
    ) throws {
        if let last = try last(origin: checkpoint.origin, verifiers: verifiers) {
            if let conflict = Self.conflict(checkpoint, last) { throw conflict }
            if checkpoint.size == last.size { return }
            // Every tree contains the empty one (and RFC 9162 has no proof from it).
            if last.size > 0, let why = try extends(last) {
                throw CommandFailure(
                    "FORK: \(Self.heads(checkpoint, last)), and the larger tree does not contain the other: \(why)",
                    exitCode: 4)
            }
        }
        try save(note, origin: checkpoint.origin)
    }

    /// What an offline check (`verify-proof`) can say of `checkpoint` against the saved one:
    /// without a consistency proof, two trees compare only at the same size.
    enum OfflineComparison: Equatable {
        /// Nothing was saved for the origin: this checkpoint is saved now.
        case first
        /// The saved checkpoint is this one.
        case same
        /// The sizes differ (the saved size given); neither contains the other for certain.
        case notComparable(savedSize: UInt64)
    }

    /// Compares `checkpoint` with the saved one where that needs no daemon: at equal sizes
    /// the roots must be equal (else a FORK, exit 4); a first checkpoint is saved. A
    /// checkpoint of another size is neither trusted nor saved: only a consistency proof,
    /// online, can show that one tree contains the other.
    func compareOffline(_ checkpoint: Checkpoint, note: String, verifiers: [NoteVerifier]) throws -> OfflineComparison {
        guard let last = try last(origin: checkpoint.origin, verifiers: verifiers) else {
            try save(note, origin: checkpoint.origin)
            return .first
        }
        guard checkpoint.size == last.size else { return .notComparable(savedSize: last.size) }
        if let conflict = Self.conflict(checkpoint, last) { throw conflict }
        return .same
    }

    /// A ROLLBACK (a smaller tree) or a FORK (another root at the same size), or nil.
    private static func conflict(_ checkpoint: Checkpoint, _ last: Checkpoint) -> CommandFailure? {
        if checkpoint.size < last.size { return CommandFailure("ROLLBACK: \(heads(checkpoint, last))", exitCode: 4) }
        if checkpoint.size == last.size && checkpoint.rootHash != last.rootHash {
            return CommandFailure("FORK: \(heads(checkpoint, last))", exitCode: 4)
        }
        return nil
    }

    private static func heads(_ checkpoint: Checkpoint, _ last: Checkpoint) -> String {
        "the ledger now shows size \(checkpoint.size) root \(checkpoint.rootHash.base64); "
            + "you verified size \(last.size) root \(last.rootHash.base64) before"
    }

    private func save(_ note: String, origin: String) throws {
        do {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            try Data(note.utf8).write(to: file(origin: origin), options: .atomic)
        } catch {
            throw CommandFailure("cannot save the verified checkpoint in \(folder.path): \(error)")
        }
    }
}

extension Daemon {
    /// Why the daemon fails to prove (RFC 9162 consistency) that `checkpoint`'s tree
    /// extends `last`'s; nil when its proof holds.
    func consistencyFailure(of checkpoint: Checkpoint, from last: Checkpoint) throws -> String? {
        let answer = try get(
            "/v1/ledger/proof/consistency?from=\(last.size)&to=\(checkpoint.size)", as: ConsistencyAnswer.self)
        var proof: [Hash256] = []
        for text in answer.hashes {
            guard let hash = Hash256(base64: text) else { return "the consistency proof holds a malformed hash \"\(text.prefix(100))\"" }
            proof.append(hash)
        }
        do {
            try RFC6962.verifyConsistency(
                size1: last.size, size2: checkpoint.size, root1: last.rootHash, root2: checkpoint.rootHash, proof: proof)
            return nil
        } catch {
            return "the daemon's consistency proof from size \(last.size) to \(checkpoint.size) does not verify (\(error))"
        }
    }
}
