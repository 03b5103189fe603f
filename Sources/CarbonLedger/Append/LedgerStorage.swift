import TransparencyLog

/// Where the append path keeps a ledger: its entries with their signatures, the
/// RFC 6962 tree's perfect-subtree hashes, and the signed checkpoints. The store
/// gives one over its write transaction, so that what an append writes commits or
/// rolls back with the work that asked for it.
public protocol LedgerStorage: NodeSource {
    /// Stores entry `index` (always the next one) and its signature.
    func storeEntry(index: UInt64, kind: String, body: [UInt8], signature: [UInt8]) throws
    /// Stores the subtree hashes an append completed.
    func storeNodes(_ nodes: [MerkleNode]) throws
    /// Stores a signed checkpoint of the tree of `size` entries.
    func storeCheckpoint(size: UInt64, root: Hash256, note: String, time: Int64) throws
    /// How many entries are stored.
    func entryCount() throws -> UInt64
    /// The note of the largest checkpoint stored; nil before the first.
    func latestCheckpointNote() throws -> String?
    /// Runs `compute` over the stored tree. A storage whose every read is a round trip
    /// fetches the nodes it will read in one (`NodePrefetch`); the default reads each
    /// from `self`.
    func readingNodes<T>(_ compute: (any NodeSource) throws -> T) throws -> T
}

extension LedgerStorage {
    public func readingNodes<T>(_ compute: (any NodeSource) throws -> T) throws -> T {
        try compute(self)
    }
}

/// Why the append path refuses to go on: the stored ledger contradicts itself, or
/// the key does not sign it, or an entry cannot be one.
public enum LedgerAppendError: Error, Sendable, Equatable {
    /// The stored ledger contradicts itself or its checkpoints: nothing may be signed on top.
    case corrupt(String)
    /// The key does not verify the ledger's last checkpoint.
    case keyMismatch(String)
    /// An entry is larger than the 65,535 bytes a tile can hold.
    case entryTooLarge(kind: String, bytes: Int)
}

/// The key a rotation replaced, co-signing checkpoints until `until` (Unix seconds).
public struct PreviousKey: Sendable {
    public var signer: NoteSigner
    public var until: Int64

    public init(signer: NoteSigner, until: Int64) {
        self.signer = signer
        self.until = until
    }
}
