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

    /// Checks that `checkpoint` extends the one verified last (`extends` says whether a
    /// larger tree contains the saved one), then saves `note` as the latest. A fork or a
    /// rollback is exit status 4.
    func advance(
        to checkpoint: Checkpoint, note: String, verifiers: [NoteVerifier], extends: (_ last: Checkpoint) throws -> Bool
    ) throws {
        if let last = try last(origin: checkpoint.origin, verifiers: verifiers) {
            func heads() -> String {
                "the ledger now shows size \(checkpoint.size) root \(checkpoint.rootHash.base64); "
                    + "you verified size \(last.size) root \(last.rootHash.base64) before"
            }
            if checkpoint.size < last.size {
                throw CommandFailure("ROLLBACK: \(heads())", exitCode: 4)
            }
            if checkpoint.size == last.size {
                guard checkpoint.rootHash == last.rootHash else { throw CommandFailure("FORK: \(heads())", exitCode: 4) }
                return
            }
            guard try extends(last) else {
                throw CommandFailure("FORK: \(heads()), and the larger tree does not contain the other", exitCode: 4)
            }
        }
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try Data(note.utf8).write(to: file(origin: checkpoint.origin), options: .atomic)
    }
}

extension Daemon {
    /// Whether the daemon proves (RFC 9162 consistency) that `checkpoint`'s tree extends `last`'s.
    func proves(_ checkpoint: Checkpoint, extends last: Checkpoint) throws -> Bool {
        let answer = try get(
            "/v1/ledger/proof/consistency?from=\(last.size)&to=\(checkpoint.size)", as: ConsistencyAnswer.self)
        let proof = answer.hashes.compactMap(Hash256.init(base64:))
        guard proof.count == answer.hashes.count else { return false }
        do {
            try RFC6962.verifyConsistency(
                size1: last.size, size2: checkpoint.size, root1: last.rootHash, root2: checkpoint.rootHash, proof: proof)
            return true
        } catch {
            return false
        }
    }
}
