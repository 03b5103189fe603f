/// The right edge of an append-only tree: the hashes of its maximal perfect subtrees.
///
/// A tree of size n is the concatenation of one perfect subtree per set bit
/// of n (largest first), so O(log n) hashes are enough to append and to
/// compute the root, while the full node store lives elsewhere.
public struct MerkleFrontier: Sendable, Equatable {
    /// Number of leaves appended so far.
    public private(set) var size: UInt64
    // Perfect subtree hashes, largest (leftmost) first; one per set bit of size.
    private var hashes: [Hash256]

    /// An empty tree.
    public init() {
        size = 0
        hashes = []
    }

    /// Rebuilds the frontier of a tree of `size` leaves with one read per set bit of `size`.
    public init(size: UInt64, nodes: some NodeSource) throws {
        self.size = size
        hashes = []
        hashes.reserveCapacity(size.nonzeroBitCount)
        var covered: UInt64 = 0
        var level = 63
        while level >= 0 {
            if size & (1 << UInt64(level)) != 0 {
                hashes.append(try nodes.node(level: level, index: covered >> UInt64(level)))
                covered += 1 << UInt64(level)
            }
            level -= 1
        }
    }

    /// The stored perfect subtrees making up the tree, leftmost first.
    public var nodes: [MerkleNode] {
        var result: [MerkleNode] = []
        result.reserveCapacity(hashes.count)
        var covered: UInt64 = 0
        var remaining = hashes[...]
        var level = 63
        while level >= 0, let hash = remaining.first {
            if size & (1 << UInt64(level)) != 0 {
                result.append(MerkleNode(level: level, index: covered >> UInt64(level), hash: hash))
                covered += 1 << UInt64(level)
                remaining = remaining.dropFirst()
            }
            level -= 1
        }
        return result
    }

    /// Appends a leaf hash and returns every node it completes, the leaf (level 0) first.
    ///
    /// The caller stores these; together they are every perfect-subtree
    /// node of the tree, which is what `MerkleProofs` reads.
    @discardableResult
    public mutating func append(_ leafHash: Hash256) -> [MerkleNode] {
        let leafIndex = size
        // Appending leaf i merges one subtree per trailing one bit of i.
        let merges = (~leafIndex).trailingZeroBitCount
        var completed: [MerkleNode] = []
        completed.reserveCapacity(merges + 1)
        var hash = leafHash
        completed.append(MerkleNode(level: 0, index: leafIndex, hash: hash))
        var level = 0
        while level < merges {
            level += 1
            hash = RFC6962.nodeHash(hashes.removeLast(), hash)
            completed.append(MerkleNode(level: level, index: leafIndex >> UInt64(level), hash: hash))
        }
        hashes.append(hash)
        size += 1
        return completed
    }

    /// Appends a leaf hash when only the root is wanted (no nodes to store).
    public mutating func appendLeaf(_ leafHash: Hash256) {
        var hash = leafHash
        var merges = (~size).trailingZeroBitCount
        while merges > 0 {
            hash = RFC6962.nodeHash(hashes.removeLast(), hash)
            merges -= 1
        }
        hashes.append(hash)
        size += 1
    }

    /// The RFC 6962 root of the tree (`RFC6962.emptyRoot` when empty).
    public func rootHash() -> Hash256 {
        guard var root = hashes.last else { return RFC6962.emptyRoot }
        for hash in hashes.dropLast().reversed() {
            root = RFC6962.nodeHash(hash, root)
        }
        return root
    }
}
