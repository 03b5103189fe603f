import Synchronization

/// A zone's factors over a window, cut exactly where section 4 cuts readings, with
/// both kinds resolved once per segment: the per-reading path then only finds a
/// segment and multiplies.
///
/// Segment `i` is `[cuts[i], cuts[i+1])`. The cut points are exactly those of
/// `FactorSet.cutPoints` (no more: an extra cut would change the largest-remainder
/// apportioning), so pieces of a reading are the segments it overlaps.
final class ZoneTimeline: Sendable {
    /// What is true of a segment, as bits of `flags`.
    static let missingAverage: UInt8 = 1
    static let residualFallback: UInt8 = 2

    let zone: Int32
    let cuts: [Int64]
    let average: [Int64]
    let residual: [Int64]
    /// The dataset number of the average row of each segment (-1: none).
    let averageDataset: [Int32]
    /// The interned set of datasets of both rows of each segment.
    let datasetSet: [Int32]
    let flags: [UInt8]

    /// First instant covered.
    var start: Int64 { cuts[0] }
    /// End of the window (exclusive).
    var end: Int64 { cuts[cuts.count - 1] }

    init(factors: FactorSet, zone: Int32, from: Int64, to: Int64, interner: inout DatasetSetInterner) {
        self.zone = zone
        let cuts = [from] + factors.cutPoints(zone: zone, from: from, to: to) + [to]
        let count = cuts.count - 1
        var average = [Int64](repeating: 0, count: count)
        var residual = [Int64](repeating: 0, count: count)
        var averageDataset = [Int32](repeating: -1, count: count)
        var datasetSet = [Int32](repeating: -1, count: count)
        var flags = [UInt8](repeating: 0, count: count)
        for i in 0..<count {
            let t = cuts[i]
            let year = factors.calendar.year(of: t)
            let a = factors.resolveRow(kind: .average, zone: zone, at: t, year: year)
            var r = factors.resolveRow(kind: .residual, zone: zone, at: t, year: year)
            if r < 0 && a >= 0 {
                r = a
                flags[i] |= Self.residualFallback
            }
            guard a >= 0 else {
                flags[i] |= Self.missingAverage
                continue
            }
            average[i] = factors.rows[Int(a)].mgPerKWh
            residual[i] = factors.rows[Int(r)].mgPerKWh
            averageDataset[i] = factors.rowDataset[Int(a)]
            datasetSet[i] = interner.intern([factors.rowDataset[Int(a)], factors.rowDataset[Int(r)]])
        }
        self.cuts = cuts
        self.average = average
        self.residual = residual
        self.averageDataset = averageDataset
        self.datasetSet = datasetSet
        self.flags = flags
    }

    /// The segment containing `t` (which must be inside the window).
    func segment(containing t: Int64) -> Int {
        cuts.upperBound(of: t) - 1
    }

    /// The emissions of a reading that lies in `segment` alone (one piece, section 4):
    /// its energy times the segment's factors, and whether a product left Int64.
    func onePiece(importWh: Int64, matchedWh: Int64, segment: Int) -> (locUg: Int64, mktUg: Int64, overflow: Bool) {
        let (loc, o1) = importWh.multipliedReportingOverflow(by: average[segment])
        let (mkt, o2) = (importWh - matchedWh).multipliedReportingOverflow(by: residual[segment])
        return (loc, mkt, o1 || o2)
    }
}

/// Small sets of dataset numbers, each stored once and named by a number, so a
/// consumer's datasets are tracked per reading with one comparison.
struct DatasetSetInterner: Sendable {
    private var numbers: [[Int32]: Int32] = [:]
    private(set) var sets: [[Int32]] = []

    mutating func intern(_ members: [Int32]) -> Int32 {
        let key = Array(Set(members)).sorted()
        if let n = numbers[key] { return n }
        let n = Int32(sets.count)
        numbers[key] = n
        sets.append(key)
        return n
    }
}

/// Zone timelines built once and shared by every computation over the same factor
/// set (a consumer's provisional score builds the timeline of its zone over the
/// period: thousands of factor resolutions that every consumer of the zone shares).
/// Dataset sets are interned here too, so their numbers mean the same in every
/// computation that uses the cache. Keep one per `FactorSet`.
public final class ZoneTimelineCache: Sendable {
    private struct Key: Hashable {
        var zone: Int32
        var from: Int64
        var to: Int64
    }
    private struct State {
        var interner = DatasetSetInterner()
        var timelines: [Key: ZoneTimeline] = [:]
    }
    private let state = Mutex(State())
    /// Past this many windows the cache starts again (emissions ask for any window).
    static let capacity = 256

    public init() {}

    func timeline(factors: FactorSet, zone: Int32, from: Int64, to: Int64) -> ZoneTimeline {
        let key = Key(zone: zone, from: from, to: to)
        return state.withLock { state in
            if let timeline = state.timelines[key] { return timeline }
            if state.timelines.count >= Self.capacity { state.timelines.removeAll() }
            let timeline = ZoneTimeline(factors: factors, zone: zone, from: from, to: to, interner: &state.interner)
            state.timelines[key] = timeline
            return timeline
        }
    }

    /// The dataset numbers of an interned set.
    func datasetSet(_ number: Int32) -> [Int32] {
        state.withLock { $0.interner.sets[Int(number)] }
    }
}
