extension RFC6962 {
    /// RFC 9162 inclusion path (bottom-up) for leaf `index` among `leafHashes`.
    ///
    /// Walks RFC 9162's PATH top-down over index ranges and hashes each
    /// sibling range once, so the total cost is under n node hashes with no
    /// per-level arrays. Returns [] for a one-leaf tree; traps if `index` is
    /// out of range (a programming error: the caller owns the batch).
    public static func inclusionProof(index: Int, leafHashes: [Hash256]) -> [Hash256] {
        precondition(index >= 0 && index < leafHashes.count, "inclusion proof index \(index) outside tree of \(leafHashes.count)")
        var siblings: [Hash256] = []
        siblings.reserveCapacity(Int.bitWidth - leafHashes.count.leadingZeroBitCount)
        leafHashes.withUnsafeBufferPointer { leaves in
            var low = 0
            var high = leaves.count
            while high - low > 1 {
                let split = largestPowerOfTwo(below: high - low)
                if index < low + split {
                    siblings.append(subtreeRoot(UnsafeBufferPointer(rebasing: leaves[(low + split)..<high])))
                    high = low + split
                } else {
                    siblings.append(subtreeRoot(UnsafeBufferPointer(rebasing: leaves[low..<(low + split)])))
                    low += split
                }
            }
        }
        // Collected root-first; the proof is leaf-first.
        siblings.reverse()
        return siblings
    }

    /// The largest power of two strictly less than `n` (n >= 2): RFC 9162's k.
    static func largestPowerOfTwo(below n: Int) -> Int {
        1 << (Int.bitWidth - 1 - (n - 1).leadingZeroBitCount)
    }

    /// The largest power of two strictly less than `n` (n >= 2): RFC 9162's k.
    static func largestPowerOfTwo(below n: UInt64) -> UInt64 {
        1 << (63 - (n - 1).leadingZeroBitCount)
    }
}
