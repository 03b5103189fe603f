import CarbonLedger
import NIOCore
import PostgresNIO
import TransparencyLog

/// The ledger as a read-only daemon on a PostgreSQL replica serves it: only what a
/// checkpoint it has verified covers.
///
/// A replica lags its primary, and whoever can write to the primary's tables could
/// put rows there that no key signed. So the reader trusts nothing in the tables
/// until it is checked against the key the operator published (`publishedKey`) and the
/// key chain grown from it by the ledger's own `key` entries:
///
/// - the largest stored checkpoint must verify with the key in force at its size,
///   name this ledger's origin, and hash to the root of the stored tree at that size;
/// - it must be consistent with the checkpoint verified before it (a replica of a
///   forked primary is refused, not followed);
/// - each `key` entry below it must be signed by the key then in force and be the leaf
///   the verified tree holds at its index.
///
/// Until a newer checkpoint passes, the last one that did is served: a lagging or
/// tampered replica answers an older signed state, never an unsigned one. `problem`
/// says why a newer one was refused.
public actor VerifiedLedger {
    public struct Verified: Sendable, Equatable {
        public let checkpoint: Checkpoint
        public let note: String
    }

    private let session: PostgresSession
    private let origin: String
    private var chain: KeyChain
    /// The sizes from which each key of `chain` is in force (a key entry at index i puts
    /// its key in force for checkpoints of size i + 1 and more; the first from 0).
    private var inForceFrom: [UInt64] = [0]
    /// Entries below this index have been searched for `key` entries.
    private var keysScannedThrough: UInt64 = 0
    public private(set) var verified: Verified?
    public private(set) var problem: String?

    public init(session: PostgresSession, publishedKey: NoteVerifier) {
        self.session = session
        self.origin = publishedKey.name
        self.chain = KeyChain(first: publishedKey)
    }

    /// How many of the newest stored checkpoints a refresh tries, newest first: a row no
    /// key signed (of any size) must not keep the genuine ones below it from being served.
    static let candidates = 8

    /// Looks for a newer checkpoint and verifies it; returns what is served now.
    @discardableResult
    public func refresh() async throws -> Verified? {
        let served = Int64(verified?.checkpoint.size ?? 0)
        let rows = try await session.rows("""
            SELECT size, note FROM checkpoints WHERE size > \(served) OR \(verified == nil)
            ORDER BY size DESC LIMIT \(Self.candidates)
            """)
        var refusals: [String] = []
        for row in rows {
            let (size, note) = try row.decode((Int64, String).self)
            do {
                verified = try await verify(note: note, size: UInt64(size))
                break
            } catch let error as Refusal {
                refusals.append("the stored checkpoint of size \(size) is not served: \(error.reason)")
            }
        }
        problem = refusals.isEmpty ? nil : refusals.joined(separator: "; ")
        return verified
    }

    /// An inclusion proof of entry `index` in the verified checkpoint.
    public func inclusionProof(index: UInt64) async throws -> (proof: [Hash256], in: Verified) {
        guard let verified else { throw Refusal("no checkpoint has been verified yet") }
        let size = verified.checkpoint.size
        guard index < size else {
            throw Refusal("entry \(index) is not in the verified checkpoint of size \(size) (this replica may lag its primary)")
        }
        let proof = try await Self.withNodes(session) { try MerkleProofs.inclusionProof(index: index, size: size, nodes: $0) }
        return (proof, verified)
    }

    /// A consistency proof from `size` to the verified checkpoint.
    public func consistencyProof(from size: UInt64) async throws -> (proof: [Hash256], to: Verified) {
        guard let verified else { throw Refusal("no checkpoint has been verified yet") }
        let to = verified.checkpoint.size
        guard size >= 1, size <= to else {
            throw Refusal("a consistency proof needs an old size from 1 to the verified checkpoint's \(to); got \(size)")
        }
        let proof = try await Self.withNodes(session) { try MerkleProofs.consistencyProof(from: size, to: to, nodes: $0) }
        return (proof, verified)
    }

    /// Why a checkpoint was not verified.
    public struct Refusal: Error, CustomStringConvertible {
        public let reason: String
        init(_ reason: String) { self.reason = reason }
        public var description: String { reason }
    }

    private func verify(note: String, size: UInt64) async throws -> Verified {
        // The key chain up to this size, from key entries not yet seen.
        var chain = self.chain
        var inForceFrom = self.inForceFrom
        var keyEntries: [(index: UInt64, body: [UInt8])] = []
        for row in try await session.rows("""
            SELECT idx, body, signature FROM entries WHERE kind = 'key' AND idx >= \(Int64(keysScannedThrough))
              AND idx < \(Int64(size)) ORDER BY idx
            """)
        {
            let (index, bodyBuffer, signatureBuffer) = try row.decode((Int64, ByteBuffer, ByteBuffer).self)
            let body = Array(bodyBuffer.readableBytesView)
            guard EntrySignature.verify(entry: body, signature: Array(signatureBuffer.readableBytesView), verifier: chain.current)
            else { throw Refusal("the key entry \(index) is not signed by the key then in force, \(chain.current.vkey)") }
            let entry: LedgerEntry
            do {
                entry = try LedgerEntry.decode(canonicalBytes: body).entry
            } catch {
                throw Refusal("the key entry \(index) cannot be read: \(error)")
            }
            do {
                _ = try chain.signer(of: entry)
            } catch {
                throw Refusal("the key entry \(index): \(error)")
            }
            inForceFrom.append(UInt64(index) + 1)
            keyEntries.append((UInt64(index), body))
        }
        // The key in force at this size (the overlap's old key may co-sign; it is not needed).
        let position = inForceFrom.lastIndex { $0 <= size } ?? 0
        let key = chain.keys[position]
        let signed: SignedCheckpoint
        do {
            signed = try SignedCheckpoint.open(note, verifiers: [key])
        } catch {
            throw Refusal("its note does not verify with the key in force at that size, \(key.vkey): \(error)")
        }
        let checkpoint = signed.checkpoint
        guard checkpoint.origin == origin, checkpoint.size == size else {
            throw Refusal("its note is for \(checkpoint.origin) at size \(checkpoint.size)")
        }

        // The stored tree must be the signed one, and extend what was served before.
        let previous = verified
        let keyLeaves = keyEntries.map(\.index)
        let (root, leaves, proof) = try await Self.withNodes(session) { nodes in
            (
                try MerkleProofs.rootHash(size: size, nodes: nodes),
                try keyLeaves.map { try nodes.node(level: 0, index: $0) },
                try previous.map { try MerkleProofs.consistencyProof(from: $0.checkpoint.size, to: size, nodes: nodes) }
            )
        }
        guard root == checkpoint.rootHash else {
            throw Refusal("the stored tree of \(size) entries does not hash to its signed root")
        }
        for (entry, leaf) in zip(keyEntries, leaves) where RFC6962.leafHash(entry.body) != leaf {
            throw Refusal("the key entry \(entry.index) is not the leaf the signed tree holds")
        }
        if let previous, let proof {
            do {
                try RFC6962.verifyConsistency(
                    size1: previous.checkpoint.size, size2: size, root1: previous.checkpoint.rootHash, root2: root,
                    proof: proof)
            } catch {
                throw Refusal("it does not extend the checkpoint of size \(previous.checkpoint.size) served before: \(error)")
            }
        }
        self.chain = chain
        self.inForceFrom = inForceFrom
        self.keysScannedThrough = size
        return Verified(checkpoint: checkpoint, note: note)
    }

    /// Runs a proof computation over the stored tree with one query (`NodePrefetch`).
    static func withNodes<T: Sendable>(_ session: PostgresSession, _ compute: (any NodeSource) throws -> T) async throws -> T {
        let positions = NodePrefetch.positions { _ = try compute($0) }
        let nodes = try await PostgresTree.nodes(at: positions, session: session)
        do {
            return try NodePrefetch.run(compute, over: nodes)
        } catch let missing as NodePrefetch.Missing {
            throw Refusal("\(missing)")
        }
    }
}
