import TransparencyLog

/// RFC 9162 section 2.1 written as literally (recursively) as possible, to check the fast code against.
enum ReferenceMerkle {
    static func k(_ n: Int) -> Int {
        var k = 1
        while k << 1 < n { k <<= 1 }
        return k
    }

    /// MTH(D[n]).
    static func mth(_ d: ArraySlice<Hash256>) -> Hash256 {
        switch d.count {
        case 0: return RFC6962.emptyRoot
        case 1: return d.first!
        default:
            let split = d.startIndex + k(d.count)
            return RFC6962.nodeHash(mth(d[d.startIndex..<split]), mth(d[split...]))
        }
    }

    /// PATH(m, D[n]), leaf-first.
    static func path(_ m: Int, _ d: ArraySlice<Hash256>) -> [Hash256] {
        guard d.count > 1 else { return [] }
        let kk = k(d.count)
        let split = d.startIndex + kk
        if m < kk {
            return path(m, d[d.startIndex..<split]) + [mth(d[split...])]
        } else {
            return path(m - kk, d[split...]) + [mth(d[d.startIndex..<split])]
        }
    }

    /// PROOF(m, D[n]) = SUBPROOF(m, D[n], true).
    static func proof(_ m: Int, _ d: ArraySlice<Hash256>) -> [Hash256] {
        subproof(m, d, true)
    }

    static func subproof(_ m: Int, _ d: ArraySlice<Hash256>, _ b: Bool) -> [Hash256] {
        let n = d.count
        if m == n { return b ? [] : [mth(d)] }
        let kk = k(n)
        let split = d.startIndex + kk
        if m <= kk {
            return subproof(m, d[d.startIndex..<split], b) + [mth(d[split...])]
        } else {
            return subproof(m - kk, d[split...], false) + [mth(d[d.startIndex..<split])]
        }
    }
}
