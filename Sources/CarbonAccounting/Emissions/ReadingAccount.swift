/// What one reading adds to its consumer.
struct ReadingAccount {
    var locUg: Int64 = 0
    var mktUg: Int64 = 0
    var overflow = false
    var missing = false
    var residualFallback = false
    /// Dataset sets of the segments touched (the first one inline: usually the only one).
    var datasetSet: Int32 = -1
    var moreDatasetSets: [Int32] = []

    mutating func note(segment: Int, of timeline: ZoneTimeline) {
        let flags = timeline.flags[segment]
        if flags & ZoneTimeline.missingAverage != 0 { missing = true }
        if flags & ZoneTimeline.residualFallback != 0 { residualFallback = true }
        let set = timeline.datasetSet[segment]
        if set >= 0 && set != datasetSet {
            if datasetSet < 0 {
                datasetSet = set
            } else if !moreDatasetSets.contains(set) {
                moreDatasetSets.append(set)
            }
        }
    }
}

/// A zone's segment without an average factor.
struct MissingSpan: Hashable, Sendable {
    var zone: Int32
    var start: Int64
    var end: Int64
}
