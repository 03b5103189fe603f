import CarbonModel

/// A consumer's running state in the period.
struct ConsumerState: Sendable {
    var readings = 0
    var lastStart: Int64 = 0
    var lastMeter = ""
    var totals = ConsumerTotals()
    var overflow = false
    /// The segment of the last reading: the next one usually starts in it or the next.
    var segmentHint = 0
    var lastDatasetSet: Int32 = -1
    var datasetSets: [Int32] = []
    /// Its certificate queue, or -1.
    var queue: Int32 = -1

    mutating func record(reading: Reading, matchedWh: Int64, account: ReadingAccount, segment: Int) {
        readings += 1
        lastStart = reading.start
        lastMeter = reading.meter
        segmentHint = segment
        var overflowed = account.overflow
        func add(_ total: inout Int64, _ x: Int64) {
            let (sum, o) = total.addingReportingOverflow(x)
            total = sum
            overflowed = overflowed || o
        }
        add(&totals.energyWh, reading.importWh)
        add(&totals.exportWh, reading.exportWh)
        add(&totals.locUg, account.locUg)
        add(&totals.mktUg, account.mktUg)
        add(&totals.matchedWh, matchedWh)
        if reading.quality == .estimated { add(&totals.estimatedWh, reading.importWh) }
        if account.residualFallback { totals.residualFallback = true }
        if overflowed { overflow = true }
        note(account.datasetSet)
        for set in account.moreDatasetSets { note(set) }
    }

    private mutating func note(_ set: Int32) {
        guard set >= 0, set != lastDatasetSet else { return }
        lastDatasetSet = set
        if !datasetSets.contains(set) { datasetSets.append(set) }
    }
}
