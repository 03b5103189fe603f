/// Roots and RFC 9162 proofs over a stored tree, with O(log n) node reads each.
public enum MerkleProofs {
    /// Root hash of the first `size` leaves.
    public static func rootHash(size: UInt64, nodes: some NodeSource) throws -> Hash256 {
        size == 0 ? RFC6962.emptyRoot : try nodes.subtreeHash(begin: 0, end: size)
    }

    /// RFC 9162 inclusion proof (PATH) of leaf `index` in the tree of `size` leaves, leaf-first.
    public static func inclusionProof(index: UInt64, size: UInt64, nodes: some NodeSource) throws -> [Hash256] {
        guard index < size else { throw ProofError.indexOutOfRange(index: index, size: size) }
        var siblings: [Hash256] = []
        siblings.reserveCapacity(64)
        var low: UInt64 = 0
        var high = size
        // Top-down over RFC 9162's split; only the first right-hand sibling can
        // be an imperfect subtree, so the reads stay O(log n).
        while high - low > 1 {
            let split = RFC6962.largestPowerOfTwo(below: high - low)
            if index < low + split {
                siblings.append(try nodes.subtreeHash(begin: low + split, end: high))
                high = low + split
            } else {
                siblings.append(try nodes.subtreeHash(begin: low, end: low + split))
                low += split
            }
        }
        siblings.reverse()
        return siblings
    }

    /// RFC 9162 consistency proof (PROOF) from the tree of `from` leaves to the tree of `to` leaves.
    ///
    /// Empty when `from == to`; throws for `from == 0` (nothing to prove, and
    /// verifiers refuse it) and for `from > to`.
    public static func consistencyProof(from: UInt64, to: UInt64, nodes: some NodeSource) throws -> [Hash256] {
        guard from <= to else { throw ProofError.treeShrank(size1: from, size2: to) }
        guard from > 0 else { throw ProofError.emptyOldTree }
        guard from < to else { return [] }
        // Iterative SUBPROOF(m, D[low:high], b): each step records the sibling
        // hash that the recursion would append after its sub-result.
        var siblings: [Hash256] = []
        siblings.reserveCapacity(64)
        var m = from
        var low: UInt64 = 0
        var high = to
        var startsFromOldRoot = true
        while m != high - low {
            let split = RFC6962.largestPowerOfTwo(below: high - low)
            if m <= split {
                siblings.append(try nodes.subtreeHash(begin: low + split, end: high))
                high = low + split
            } else {
                siblings.append(try nodes.subtreeHash(begin: low, end: low + split))
                m -= split
                low += split
                startsFromOldRoot = false
            }
        }
        // SUBPROOF(m, D[m], false) = MTH(D[m]); with b still true the verifier
        // already has that hash as the old root. This range is always perfect.
        if !startsFromOldRoot {
            siblings.append(try nodes.subtreeHash(begin: low, end: high))
        }
        siblings.reverse()
        return siblings
    }
}
