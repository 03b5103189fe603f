extension RFC6962 {
    /// Verifies an inclusion proof as RFC 9162 section 2.1.3.2 specifies.
    public static func verifyInclusion(
        leafHash: Hash256, index: UInt64, size: UInt64, proof: [Hash256], root: Hash256
    ) throws(ProofError) {
        guard index < size else { throw .indexOutOfRange(index: index, size: size) }
        // The RFC loop also fails on a wrong length; checking first gives a clearer error.
        let want = inclusionProofSize(index: index, size: size)
        guard proof.count == want else { throw .wrongProofSize(got: proof.count, want: want) }

        var fn = index
        var sn = size - 1
        var r = leafHash
        for p in proof {
            guard sn != 0 else { throw .wrongProofSize(got: proof.count, want: want) }
            if fn & 1 == 1 || fn == sn {
                r = nodeHash(p, r)
                if fn & 1 == 0 {
                    while fn & 1 == 0 && fn != 0 {
                        fn >>= 1
                        sn >>= 1
                    }
                }
            } else {
                r = nodeHash(r, p)
            }
            fn >>= 1
            sn >>= 1
        }
        guard sn == 0 else { throw .wrongProofSize(got: proof.count, want: want) }
        guard r == root else { throw .rootMismatch(expected: root, calculated: r) }
    }

    /// Verifies a consistency proof as RFC 9162 section 2.1.4.2 specifies.
    ///
    /// The RFC defines only 0 < size1 < size2; the edges follow Go's
    /// transparency-dev/merkle: equal sizes need an empty proof and equal
    /// roots, and size1 == 0 is refused.
    public static func verifyConsistency(
        size1: UInt64, size2: UInt64, root1: Hash256, root2: Hash256, proof: [Hash256]
    ) throws(ProofError) {
        guard size1 <= size2 else { throw .treeShrank(size1: size1, size2: size2) }
        guard size1 > 0 else { throw .emptyOldTree }
        let want = consistencyProofSize(size1: size1, size2: size2)
        guard proof.count == want else { throw .wrongProofSize(got: proof.count, want: want) }
        if size1 == size2 {
            guard root1 == root2 else { throw .newRootMismatch(expected: root2, calculated: root1) }
            return
        }

        // Step 2 prepends root1 when size1 is a power of two; an index offset
        // does the same without copying the proof.
        let prepend = size1 & (size1 - 1) == 0
        let count = proof.count + (prepend ? 1 : 0)
        func element(_ i: Int) -> Hash256 { prepend ? (i == 0 ? root1 : proof[i - 1]) : proof[i] }

        var fn = size1 - 1
        var sn = size2 - 1
        while fn & 1 == 1 {
            fn >>= 1
            sn >>= 1
        }
        var fr = element(0)
        var sr = fr
        for i in 1..<count {
            let c = element(i)
            guard sn != 0 else { throw .wrongProofSize(got: proof.count, want: want) }
            if fn & 1 == 1 || fn == sn {
                fr = nodeHash(c, fr)
                sr = nodeHash(c, sr)
                if fn & 1 == 0 {
                    while fn & 1 == 0 && fn != 0 {
                        fn >>= 1
                        sn >>= 1
                    }
                }
            } else {
                sr = nodeHash(sr, c)
            }
            fn >>= 1
            sn >>= 1
        }
        guard sn == 0 else { throw .wrongProofSize(got: proof.count, want: want) }
        guard fr == root1 else { throw .oldRootMismatch(expected: root1, calculated: fr) }
        guard sr == root2 else { throw .newRootMismatch(expected: root2, calculated: sr) }
    }

    /// Hashes in an inclusion proof: the levels below where the paths to
    /// `index` and `size - 1` split, plus one left sibling per set bit above.
    static func inclusionProofSize(index: UInt64, size: UInt64) -> Int {
        let inner = UInt64.bitWidth - (index ^ (size - 1)).leadingZeroBitCount
        return inner + (index >> UInt64(inner)).nonzeroBitCount
    }

    /// Hashes in a consistency proof from `size1` to `size2` (0 < size1 <= size2).
    static func consistencyProofSize(size1: UInt64, size2: UInt64) -> Int {
        guard size1 < size2 else { return 0 }
        // The path of the old tree's last leaf, minus the levels inside the
        // old tree's rightmost perfect subtree, plus that subtree's root
        // unless it is the whole old tree (then the verifier knows it as root1).
        let shift = size1.trailingZeroBitCount
        let full = inclusionProofSize(index: size1 - 1, size: size2)
        let seed = size1 & (size1 - 1) == 0 ? 0 : 1
        return full - shift + seed
    }
}
