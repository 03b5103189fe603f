/// A stored perfect-subtree hash: at `level`, it covers leaves `[index << level, (index + 1) << level)`.
public struct MerkleNode: Sendable, Equatable, Hashable {
    /// Height above the leaves (0 = the leaf hash itself).
    public var level: Int
    /// Position among the nodes of this level, counted from the left.
    public var index: UInt64
    /// The RFC 6962 hash of the subtree.
    public var hash: Hash256

    /// Creates a node record.
    public init(level: Int, index: UInt64, hash: Hash256) {
        self.level = level
        self.index = index
        self.hash = hash
    }
}
