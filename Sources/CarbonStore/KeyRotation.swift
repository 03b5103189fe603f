import CarbonLedger
import CarbonModel
import Foundation
import GRDB
import TransparencyLog

/// A request to change the ledger's signing key (`POST /v1/ledger/key/rotate`).
public struct KeyRotation: Sendable {
    /// The new key, loaded from its file.
    public var signer: NoteSigner
    /// Where the new key file is: recorded so the key co-signs after a later rotation and restart.
    public var path: String
    /// How long the replaced key keeps co-signing checkpoints.
    public var overlapSeconds: Int64

    public init(signer: NoteSigner, path: String, overlapSeconds: Int64) {
        self.signer = signer
        self.path = path
        self.overlapSeconds = overlapSeconds
    }

    /// Appends the `key` entry announcing `signer` (signed by the key in force) and hands
    /// the ledger over to it; the old key co-signs checkpoints for `overlapSeconds`.
    /// Records in `meta` what a restart needs.
    func run(appender: inout LedgerAppender, time: Int64, tables: some RecordTables) throws -> BatchOutcome {
        let current = appender.signer
        guard signer.name == current.name else {
            return .rejected(kind: .invalid, errors: [RecordError(
                index: 0, field: "key",
                message: "the key is for \"\(signer.name)\", not this ledger's origin \"\(current.name)\"")])
        }
        let chain = try KeyRecord.chain(tables: tables)
        guard !chain.contains(signer.verifier) else {
            return .rejected(kind: .invalid, errors: [RecordError(
                index: 0, field: "key", message: "the key \(signer.verifier.vkey) has signed this ledger already; make a new one")])
        }
        let previousPath = appender.signerPath
        let until = time + overlapSeconds
        let index = try StoreError.mapping {
            try appender.handOver(to: signer, path: path, overlapUntil: until, time: time, storage: tables)
        }
        try KeyRecord.save(chain: chain + [signer.verifier], previousPath: previousPath, previousUntil: until, tables: tables)
        return .committed(BatchResult(accepted: 1, duplicates: 0, entry: index, entries: [index], errors: []))
    }
}

/// What `meta` records about the ledger's keys: `vkey` (the key in force, which
/// `ledger.key` must hold), `vkeys` (every key in force so far, oldest first, one a
/// line; absent until the first rotation) and, after a rotation, the replaced key's
/// file and the end of its overlap.
enum KeyRecord {
    /// Checks that the database belongs to `signer`'s ledger, recording the key and the
    /// origin on first use.
    static func claim(for signer: NoteSigner, origin: String, tables: some RecordTables) throws {
        let vkey = signer.verifier.vkey
        guard let stored = try tables.metaValue("vkey") else {
            try tables.setMeta([("vkey", vkey), ("origin", origin)])
            return
        }
        guard stored == vkey else {
            let rotated = try chain(tables: tables).contains(signer.verifier)
            throw StoreError.keyMismatch(
                "this database belongs to the ledger key \(stored), but the key file holds \(vkey)"
                    + (rotated ? " (a key it has since rotated away from: point ledger.key at the newest key file)" : ""))
        }
    }

    /// Every key the ledger has been signed with, oldest first.
    static func chain(db: some SQLConnection) throws -> [NoteVerifier] {
        let meta = "SELECT value FROM meta WHERE key = ?"
        return try chain(text: db.value(meta, "vkeys", as: String.self) ?? db.value(meta, "vkey", as: String.self) ?? "")
    }

    static func chain(tables: some RecordTables) throws -> [NoteVerifier] {
        try chain(text: tables.metaValue("vkeys") ?? tables.metaValue("vkey") ?? "")
    }

    /// The keys `meta` records (`vkeys`, one a line, or the single `vkey` of a ledger
    /// never rotated), the one in force last.
    private static func chain(text: String) throws -> [NoteVerifier] {
        do {
            return try text.split(separator: "\n").map { try NoteVerifier(String($0)) }
        } catch {
            throw StoreError.corrupt("meta holds a ledger key that does not parse: \(error)")
        }
    }

    static func save(chain: [NoteVerifier], previousPath: String, previousUntil: Int64, tables: some RecordTables) throws {
        try tables.setMeta([
            ("vkey", chain[chain.count - 1].vkey),
            ("vkeys", chain.map(\.vkey).joined(separator: "\n")),
            ("previous_key", previousPath),
            ("previous_key_until", String(previousUntil)),
        ])
    }

    /// The replaced key, if its overlap lasts past `time`: loaded from its recorded file,
    /// which must still hold the key before `current` in the chain. Nil (with the reason)
    /// when it cannot co-sign.
    static func previous(
        tables: some RecordTables, current: NoteVerifier, time: Int64
    ) throws -> (PreviousKey?, problem: String?) {
        guard let path = try tables.metaValue("previous_key"),
            let until = try tables.metaValue("previous_key_until").flatMap({ Int64($0) }),
            time < until
        else { return (nil, nil) }
        let chain = try chain(tables: tables)
        guard chain.count >= 2, chain[chain.count - 1] == current else { return (nil, nil) }
        let expected = chain[chain.count - 2]
        let signer: NoteSigner
        do {
            signer = try KeyFile.load(path: path)
        } catch {
            return (nil, "the replaced key cannot co-sign checkpoints until the overlap ends: \(error)")
        }
        guard signer.verifier == expected else {
            return (nil, "the replaced key cannot co-sign checkpoints: \(path) holds \(signer.verifier.vkey), not \(expected.vkey)")
        }
        return (PreviousKey(signer: signer, until: until), nil)
    }
}
