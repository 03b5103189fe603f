/// Read access to stored perfect-subtree hashes, e.g. a database table keyed by (level, index).
public protocol NodeSource {
    /// The hash of the perfect subtree at (`level`, `index`); throws if it is not stored.
    func node(level: Int, index: UInt64) throws -> Hash256
}

extension NodeSource {
    /// MTH of leaves `[begin, end)` where `begin` is aligned to the size's
    /// largest power of two, as every range in RFC 9162 proofs is.
    ///
    /// Such a range splits into maximal aligned perfect subtrees of
    /// decreasing size (one per set bit of its length), so it costs at most
    /// 64 reads, and folding them right to left is exactly MTH.
    func subtreeHash(begin: UInt64, end: UInt64) throws -> Hash256 {
        precondition(begin < end)
        var start = begin
        var hashes: [Hash256] = []
        hashes.reserveCapacity((end - begin).nonzeroBitCount)
        while start < end {
            // Largest perfect subtree that starts at `start` and fits.
            let alignment = start == 0 ? 63 : start.trailingZeroBitCount
            let fits = 63 - (end - start).leadingZeroBitCount
            let level = min(alignment, fits)
            hashes.append(try node(level: level, index: start >> UInt64(level)))
            start += 1 << UInt64(level)
        }
        var root = hashes[hashes.count - 1]
        for hash in hashes.dropLast().reversed() {
            root = RFC6962.nodeHash(hash, root)
        }
        return root
    }
}
