/// Largest-remainder apportioning of a reading's Wh over its pieces (methodology
/// section 4): `floor(wh * o_p / duration_s)` each, then the Wh left over one each to
/// the pieces with the largest remainder `(wh * o_p) mod duration_s`, ties to the
/// earlier piece. The shares always sum to `wh`.
public enum Apportionment {
    /// The shares of `wh` for pieces overlapping the reading by `overlaps` seconds
    /// (which sum to `durationS`).
    public static func apportion(_ wh: Int64, overlaps: [Int64], durationS: Int64) -> [Int64] {
        var scratch = Scratch()
        var shares: [Int64] = []
        apportion(wh, overlaps: overlaps, durationS: durationS, into: &shares, scratch: &scratch)
        return shares
    }

    /// Reusable buffers, so the per-reading path allocates nothing.
    struct Scratch: Sendable {
        var remainders: [Int64] = []
        var order: [Int] = []
    }

    /// The one implementation: writes the shares into `shares`.
    static func apportion(
        _ wh: Int64, overlaps: [Int64], durationS: Int64, into shares: inout [Int64], scratch: inout Scratch
    ) {
        shares.removeAll(keepingCapacity: true)
        scratch.remainders.removeAll(keepingCapacity: true)
        var assigned: Int64 = 0
        for o in overlaps {
            // wh * o / duration exactly: the 128-bit product never overflows and the
            // quotient fits because o <= duration.
            let (q, r) = durationS.dividingFullWidth(wh.multipliedFullWidth(by: o))
            shares.append(q)
            scratch.remainders.append(r)
            assigned += q
        }
        let left = wh - assigned
        guard left > 0 else { return }
        scratch.order.removeAll(keepingCapacity: true)
        scratch.order.append(contentsOf: overlaps.indices)
        let remainders = scratch.remainders
        scratch.order.sort { a, b in remainders[a] != remainders[b] ? remainders[a] > remainders[b] : a < b }
        for k in 0..<Int(left) { shares[scratch.order[k]] += 1 }
    }
}
