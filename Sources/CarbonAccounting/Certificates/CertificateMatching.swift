import CarbonModel

/// Section 5 over all time: certificates matched against readings, per consumer.
public enum CertificateMatching {
    /// The result: per reading (in the order given) the Wh matched, and per certificate
    /// (in the order given) how much was used.
    public struct Result: Sendable, Hashable {
        /// `matched_wh` of each reading, aligned with the readings given.
        public var matchedWh: [Int64]
        /// Use of each certificate, aligned with the certificates given.
        public var certificates: [CertificateUse]
    }

    /// Matches `certificates` against `readings` of any consumers, in any order (they are
    /// put in `(start, id)` and `(start, meter)` order here).
    public static func match(certificates: [Certificate], readings: [Reading]) throws(AccountingError) -> Result {
        try checkCertificates(certificates, usedBeforeWh: [:])
        for r in readings { try r.checkAccountable() }
        let starts = certificates.map(\.start)
        let ends = certificates.map(\.end)
        var remaining = certificates.map(\.wh)
        var byConsumer: [String: [Int32]] = [:]
        for (i, c) in certificates.enumerated() { byConsumer[c.consumer, default: []].append(Int32(i)) }
        var queues: [String: CertificateQueue] = [:]
        for (consumer, members) in byConsumer {
            queues[consumer] = CertificateQueue(
                order: members.sorted { Certificate.precedes(certificates[Int($0)], certificates[Int($1)]) })
        }
        let order = readings.indices.sorted { a, b in
            let ra = readings[a]
            let rb = readings[b]
            return ra.start != rb.start ? ra.start < rb.start : ra.meter.utf8.lexicographicallyPrecedes(rb.meter.utf8)
        }
        var matched = [Int64](repeating: 0, count: readings.count)
        for i in order {
            let r = readings[i]
            guard r.importWh > 0, queues[r.consumer] != nil else { continue }
            matched[i] = queues[r.consumer]!.take(
                r.importWh, at: r.start, starts: starts, ends: ends, remaining: &remaining)
        }
        let uses = certificates.enumerated().map { i, c in
            CertificateUse(
                id: c.id, consumer: c.consumer, end: c.end, wh: c.wh, usedBeforeWh: 0, usedWh: c.wh - remaining[i])
        }
        return Result(matchedWh: matched, certificates: uses)
    }
}
