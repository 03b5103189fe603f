/// One consumer's certificates in matching order, and which of them a reading may
/// draw from now (methodology section 5).
///
/// Readings arrive in `(start, meter)` order, so a certificate joins the active list
/// once a reading starts at or after its start (joining in `(start, id)` order, which
/// the list keeps), and leaves it for good once a reading starts at or after its end
/// or it is spent.
struct CertificateQueue: Sendable {
    /// Certificate numbers in `(start, id)` order.
    private let order: [Int32]
    private var next = 0
    private var active: [Int32] = []

    /// `order`: the consumer's certificate numbers, already in `(start, id)` order.
    init(order: [Int32]) { self.order = order }

    /// Takes up to `wh` for a reading starting at `start` from the certificates whose
    /// window contains `start`, in order; returns the Wh matched.
    mutating func take(
        _ wh: Int64, at start: Int64, starts: [Int64], ends: [Int64], remaining: inout [Int64]
    ) -> Int64 {
        while next < order.count && starts[Int(order[next])] <= start {
            active.append(order[next])
            next += 1
        }
        var need = wh
        var kept = 0
        for k in active.indices {
            let c = Int(active[k])
            if ends[c] <= start || remaining[c] == 0 { continue }  // past its window or spent: gone
            if need > 0 {
                let amount = min(need, remaining[c])
                remaining[c] -= amount
                need -= amount
                if remaining[c] == 0 { continue }
            }
            active[kept] = active[k]
            kept += 1
        }
        active.removeLast(active.count - kept)
        return wh - need
    }
}
