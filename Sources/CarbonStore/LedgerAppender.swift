import CarbonAPI
import CarbonLedger
import CarbonModel
import Foundation
import GRDB
import TransparencyLog

/// The ledger's append path inside one write transaction, in Tessera's stages:
/// sequence and sign each entry, integrate it into the stored tree, then publish
/// one checkpoint for the whole commit.
///
/// It is a value: the writer snapshots it before a unit of work and puts the
/// snapshot back if that work rolls back.
struct LedgerAppender {
    /// The key in force: it signs every entry and checkpoint.
    private(set) var signer: NoteSigner
    /// The key file `signer` was read from (recorded at a rotation, to co-sign after a restart).
    private(set) var signerPath: String
    /// The key the last rotation replaced, co-signing checkpoints while the overlap lasts.
    private(set) var previous: PreviousKey?
    private(set) var frontier: MerkleFrontier
    /// The last checkpoint signed (size 0 and the empty root before the first).
    private(set) var lastCheckpoint: Checkpoint
    private(set) var lastNote: String?

    init(
        signer: NoteSigner, signerPath: String, previous: PreviousKey? = nil, frontier: MerkleFrontier,
        lastCheckpoint: Checkpoint, lastNote: String?
    ) {
        self.signer = signer
        self.signerPath = signerPath
        self.previous = previous
        self.frontier = frontier
        self.lastCheckpoint = lastCheckpoint
        self.lastNote = lastNote
    }

    /// The index the next appended entry gets.
    var nextIndex: UInt64 { frontier.size }

    /// Whether entries were appended since the last checkpoint.
    var hasUnpublishedEntries: Bool { frontier.size > lastCheckpoint.size }

    /// Signs `entry`, stores it and its tree nodes; returns its index.
    mutating func append(_ entry: LedgerEntry, time: Int64, db: Database) throws -> UInt64 {
        let bytes = entry.canonicalBytes(time: time)
        guard bytes.count <= 65_535 else { throw StoreError.entryTooLarge(kind: entry.kind, bytes: bytes.count) }
        let signature = EntrySignature.sign(entry: bytes, signer: signer)
        let index = frontier.size
        let statement = try db.cachedStatement(sql: "INSERT INTO entries(idx, kind, body, signature) VALUES (?, ?, ?, ?)")
        try statement.execute(arguments: [Int64(index), entry.kind, Data(bytes), Data(signature)])
        try StoredTree(db: db).store(frontier.append(RFC6962.leafHash(bytes)))
        return index
    }

    /// Signs and stores a checkpoint for the current tree, after proving from the
    /// stored nodes that it extends the last one signed.
    mutating func publishCheckpoint(time: Int64, db: Database) throws -> String {
        let stored = StoredTree(db: db)
        let size = frontier.size
        let root = frontier.rootHash()
        guard try MerkleProofs.rootHash(size: size, nodes: stored) == root else {
            throw StoreError.corrupt("the stored tree of size \(size) does not hash to the appended root")
        }
        if lastCheckpoint.size > 0 {
            let proof = try MerkleProofs.consistencyProof(from: lastCheckpoint.size, to: size, nodes: stored)
            do {
                try RFC6962.verifyConsistency(
                    size1: lastCheckpoint.size, size2: size,
                    root1: lastCheckpoint.rootHash, root2: root, proof: proof)
            } catch {
                throw StoreError.corrupt(
                    "tree \(size) does not extend the last signed checkpoint \(lastCheckpoint.size): \(error)")
            }
        }
        let checkpoint = try Checkpoint(origin: lastCheckpoint.origin, size: size, rootHash: root)
        // New key first: verifiers that know only one key find theirs either way.
        let cosigner = previous.flatMap { time < $0.until ? $0.signer : nil }
        let signed = try SignedCheckpoint.sign(checkpoint, signers: [signer] + (cosigner.map { [$0] } ?? []))
        let statement = try db.cachedStatement(sql: "INSERT INTO checkpoints(size, root, note, time) VALUES (?, ?, ?, ?)")
        try statement.execute(arguments: [Int64(size), Data(root.bytes), signed.note, time])
        lastCheckpoint = checkpoint
        lastNote = signed.note
        return signed.note
    }

    /// Appends the `key` entry announcing `rotation.signer` (signed by the key in force),
    /// then signs with the new key from the next entry on; the old key co-signs
    /// checkpoints for `rotation.overlap` seconds. Records in `meta` what a restart needs.
    mutating func rotate(to rotation: KeyRotation, time: Int64, db: Database) throws -> IngestOutcome {
        let next = rotation.signer
        guard next.name == signer.name else {
            return .rejected(kind: .invalid, errors: [RecordError(
                index: 0, field: "key",
                message: "the key is for \"\(next.name)\", not this ledger's origin \"\(signer.name)\"")])
        }
        let chain = try KeyRecord.chain(db: db)
        guard !chain.contains(next.verifier) else {
            return .rejected(kind: .invalid, errors: [RecordError(
                index: 0, field: "key", message: "the key \(next.verifier.vkey) has signed this ledger already; make a new one")])
        }
        let index = try append(.key(next.verifier), time: time, db: db)
        let until = time + rotation.overlapSeconds
        try KeyRecord.save(
            chain: chain + [next.verifier], previousPath: signerPath, previousUntil: until, db: db)
        previous = PreviousKey(signer: signer, until: until)
        signer = next
        signerPath = rotation.path
        return .committed(IngestAnswer(accepted: 1, duplicates: 0, entry: index, entries: [index], checkpoint: nil, errors: []))
    }

    /// Rebuilds the appender from the database, checking that the stored tree,
    /// the last checkpoint and the signing key agree.
    static func load(
        db: Database, signer: NoteSigner, signerPath: String, previous: PreviousKey?, origin: String
    ) throws -> LedgerAppender {
        let entryCount = try UInt64(Int64.fetchOne(db, sql: "SELECT count(*) FROM entries") ?? 0)
        let frontier = try MerkleFrontier(size: entryCount, nodes: StoredTree(db: db))
        guard let row = try Row.fetchOne(db, sql: "SELECT size, note FROM checkpoints ORDER BY size DESC LIMIT 1") else {
            guard entryCount == 0 else { throw StoreError.corrupt("\(entryCount) entries but no checkpoint") }
            return LedgerAppender(
                signer: signer, signerPath: signerPath, previous: previous, frontier: frontier,
                lastCheckpoint: try Checkpoint(origin: origin, size: 0, rootHash: RFC6962.emptyRoot), lastNote: nil)
        }
        let note: String = row["note"]
        let signed: SignedCheckpoint
        do {
            signed = try SignedCheckpoint.open(note, verifiers: [signer.verifier])
        } catch {
            throw StoreError.keyMismatch(
                "the key \(signer.verifier.vkey) does not verify this ledger's last checkpoint (\(error)); "
                    + "is ledger.key the key this database was created with?")
        }
        guard signed.checkpoint.size == entryCount, frontier.rootHash() == signed.checkpoint.rootHash else {
            throw StoreError.corrupt(
                "the last checkpoint (size \(signed.checkpoint.size)) does not match the \(entryCount) stored entries")
        }
        return LedgerAppender(
            signer: signer, signerPath: signerPath, previous: previous, frontier: frontier,
            lastCheckpoint: signed.checkpoint, lastNote: note)
    }
}
