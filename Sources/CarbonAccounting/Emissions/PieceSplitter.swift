import CarbonModel

/// Splits readings that span several segments of a zone timeline, with buffers reused
/// from reading to reading.
struct PieceSplitter: Sendable {
    var overlaps: [Int64] = []
    var shares: [Int64] = []
    var unmatched: [Int64] = []
    var apportioning = Apportionment.Scratch()

    /// Splits a reading starting in `segment` into the segments it overlaps and adds
    /// up its emissions (section 4).
    mutating func split(
        reading: Reading, matchedWh: Int64, from segment: Int, of timeline: ZoneTimeline,
        into account: inout ReadingAccount
    ) {
        let s = reading.start
        let e = reading.start + reading.durationS
        overlaps.removeAll(keepingCapacity: true)
        var k = segment
        while k < timeline.cuts.count - 1 && timeline.cuts[k] < e {
            overlaps.append(min(e, timeline.cuts[k + 1]) - max(s, timeline.cuts[k]))
            account.note(segment: k, of: timeline)
            k += 1
        }
        Apportionment.apportion(
            reading.importWh, overlaps: overlaps, durationS: reading.durationS, into: &shares, scratch: &apportioning)
        Apportionment.apportion(
            reading.importWh - matchedWh, overlaps: overlaps, durationS: reading.durationS, into: &unmatched,
            scratch: &apportioning)
        var loc: Int64 = 0
        var mkt: Int64 = 0
        var overflow = false
        for p in overlaps.indices {
            let (l, o1) = shares[p].multipliedReportingOverflow(by: timeline.average[segment + p])
            let (m, o2) = unmatched[p].multipliedReportingOverflow(by: timeline.residual[segment + p])
            let (l2, o3) = loc.addingReportingOverflow(l)
            let (m2, o4) = mkt.addingReportingOverflow(m)
            loc = l2
            mkt = m2
            overflow = overflow || o1 || o2 || o3 || o4
        }
        account.locUg = loc
        account.mktUg = mkt
        account.overflow = overflow
    }
}
