import CarbonModel
import TransparencyLog

/// The ledger's append path, in Tessera's stages: sequence and sign each entry,
/// integrate it into the stored tree, then publish one checkpoint for a whole commit.
/// Every call takes the `LedgerStorage` of the write transaction it is part of.
///
/// It is a value: the writer snapshots it before a unit of work and puts the
/// snapshot back if that work rolls back.
public struct LedgerAppender: Sendable {
    /// The key in force: it signs every entry and checkpoint.
    public private(set) var signer: NoteSigner
    /// The key file `signer` was read from (recorded at a rotation, to co-sign after a restart).
    public private(set) var signerPath: String
    /// The key the last rotation replaced, co-signing checkpoints while the overlap lasts.
    public private(set) var previous: PreviousKey?
    public private(set) var frontier: MerkleFrontier
    /// The last checkpoint signed (size 0 and the empty root before the first).
    public private(set) var lastCheckpoint: Checkpoint
    public private(set) var lastNote: String?

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
    public var nextIndex: UInt64 { frontier.size }

    /// Whether entries were appended since the last checkpoint.
    public var hasUnpublishedEntries: Bool { frontier.size > lastCheckpoint.size }

    /// Signs `entry`, stores it and its tree nodes; returns its index.
    public mutating func append(_ entry: LedgerEntry, time: Int64, to storage: some LedgerStorage) throws -> UInt64 {
        let bytes = entry.canonicalBytes(time: time)
        guard bytes.count <= 65_535 else { throw LedgerAppendError.entryTooLarge(kind: entry.kind, bytes: bytes.count) }
        let signature = EntrySignature.sign(entry: bytes, signer: signer)
        let index = frontier.size
        try storage.storeEntry(index: index, kind: entry.kind, body: bytes, signature: signature)
        try storage.storeNodes(frontier.append(RFC6962.leafHash(bytes)))
        return index
    }

    /// Signs and stores a checkpoint for the current tree, after proving from the
    /// stored nodes that it extends the last one signed.
    public mutating func publishCheckpoint(time: Int64, to storage: some LedgerStorage) throws -> String {
        let size = frontier.size
        let root = frontier.rootHash()
        let last = lastCheckpoint.size
        let (storedRoot, proof) = try storage.readingNodes { nodes in
            (
                try MerkleProofs.rootHash(size: size, nodes: nodes),
                last > 0 ? try MerkleProofs.consistencyProof(from: last, to: size, nodes: nodes) : []
            )
        }
        guard storedRoot == root else {
            throw LedgerAppendError.corrupt("the stored tree of size \(size) does not hash to the appended root")
        }
        if lastCheckpoint.size > 0 {
            do {
                try RFC6962.verifyConsistency(
                    size1: lastCheckpoint.size, size2: size,
                    root1: lastCheckpoint.rootHash, root2: root, proof: proof)
            } catch {
                throw LedgerAppendError.corrupt(
                    "tree \(size) does not extend the last signed checkpoint \(lastCheckpoint.size): \(error)")
            }
        }
        let checkpoint = try Checkpoint(origin: lastCheckpoint.origin, size: size, rootHash: root)
        // New key first: verifiers that know only one key find theirs either way.
        let cosigner = previous.flatMap { time < $0.until ? $0.signer : nil }
        let signed = try SignedCheckpoint.sign(checkpoint, signers: [signer] + (cosigner.map { [$0] } ?? []))
        try storage.storeCheckpoint(size: size, root: root, note: signed.note, time: time)
        lastCheckpoint = checkpoint
        lastNote = signed.note
        return signed.note
    }

    /// Appends the `key` entry announcing `next` (signed by the key in force), then
    /// signs with `next` from the next entry on; the replaced key co-signs checkpoints
    /// until `overlapUntil`. Returns the key entry's index.
    public mutating func handOver(
        to next: NoteSigner, path: String, overlapUntil: Int64, time: Int64, storage: some LedgerStorage
    ) throws -> UInt64 {
        let index = try append(.key(next.verifier), time: time, to: storage)
        previous = PreviousKey(signer: signer, until: overlapUntil)
        signer = next
        signerPath = path
        return index
    }

    /// Rebuilds the appender from what `storage` holds, checking that the stored tree,
    /// the last checkpoint and the signing key agree.
    public static func load(
        from storage: some LedgerStorage, signer: NoteSigner, signerPath: String, previous: PreviousKey?, origin: String
    ) throws -> LedgerAppender {
        let entryCount = try storage.entryCount()
        let frontier = try MerkleFrontier(size: entryCount, nodes: storage)
        guard let note = try storage.latestCheckpointNote() else {
            guard entryCount == 0 else { throw LedgerAppendError.corrupt("\(entryCount) entries but no checkpoint") }
            return LedgerAppender(
                signer: signer, signerPath: signerPath, previous: previous, frontier: frontier,
                lastCheckpoint: try Checkpoint(origin: origin, size: 0, rootHash: RFC6962.emptyRoot), lastNote: nil)
        }
        let signed: SignedCheckpoint
        do {
            signed = try SignedCheckpoint.open(note, verifiers: [signer.verifier])
        } catch {
            throw LedgerAppendError.keyMismatch(
                "the key \(signer.verifier.vkey) does not verify this ledger's last checkpoint (\(error)); "
                    + "is ledger.key the key this database was created with?")
        }
        guard signed.checkpoint.size == entryCount, frontier.rootHash() == signed.checkpoint.rootHash else {
            throw LedgerAppendError.corrupt(
                "the last checkpoint (size \(signed.checkpoint.size)) does not match the \(entryCount) stored entries")
        }
        return LedgerAppender(
            signer: signer, signerPath: signerPath, previous: previous, frontier: frontier,
            lastCheckpoint: signed.checkpoint, lastNote: note)
    }
}
