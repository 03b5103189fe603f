import CSHA256

/// RFC 6962 / RFC 9162 Merkle tree hashing and in-memory proofs (SHA-256).
public enum RFC6962 {
    /// Root of the empty tree: SHA256 of nothing.
    public static let emptyRoot: Hash256 = SHA256.hash([])

    /// Leaf hash SHA256(0x00 || data), without copying the data.
    @inlinable
    public static func leafHash(_ data: UnsafeRawBufferPointer) -> Hash256 {
        Hash256 { out in csha256_leaf(data.baseAddress, data.count, out) }
    }

    /// Leaf hash SHA256(0x00 || bytes).
    @inlinable
    public static func leafHash(_ bytes: [UInt8]) -> Hash256 {
        bytes.withUnsafeBytes { leafHash($0) }
    }

    /// Interior node hash SHA256(0x01 || left || right).
    @inlinable
    public static func nodeHash(_ left: Hash256, _ right: Hash256) -> Hash256 {
        left.withUnsafeBytes { l in
            right.withUnsafeBytes { r in
                Hash256 { out in
                    csha256_node(
                        l.baseAddress!.assumingMemoryBound(to: UInt8.self),
                        r.baseAddress!.assumingMemoryBound(to: UInt8.self),
                        out)
                }
            }
        }
    }

    /// Root hash (RFC 9162 MTH) of a tree with these leaf hashes; `emptyRoot` for none.
    public static func rootHash(ofLeafHashes leafHashes: [Hash256]) -> Hash256 {
        leafHashes.withUnsafeBufferPointer { subtreeRoot($0) }
    }

    /// MTH over a contiguous run of leaf hashes, iteratively in O(n) hashes and O(log n) space.
    ///
    /// Keeps the stack of completed perfect subtrees (one per set bit of the
    /// count so far) and folds it right to left at the end, which is exactly
    /// RFC 9162's split at the largest power of two.
    static func subtreeRoot(_ leaves: UnsafeBufferPointer<Hash256>) -> Hash256 {
        guard !leaves.isEmpty else { return emptyRoot }
        // 64 levels cover any UInt64 leaf count.
        return withUnsafeTemporaryAllocation(of: Hash256.self, capacity: 64) { stack in
            var depth = 0
            for (i, leaf) in leaves.enumerated() {
                var hash = leaf
                // Leaf number i+1 completes one subtree per trailing one bit of i.
                var merges = (i + 1).trailingZeroBitCount
                while merges > 0 {
                    depth -= 1
                    hash = nodeHash(stack[depth], hash)
                    merges -= 1
                }
                stack[depth] = hash
                depth += 1
            }
            var root = stack[depth - 1]
            var level = depth - 2
            while level >= 0 {
                root = nodeHash(stack[level], root)
                level -= 1
            }
            return root
        }
    }
}
