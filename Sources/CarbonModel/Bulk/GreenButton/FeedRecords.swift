/// The records of a feed, from what `FeedReader` found and `FeedLinker` linked: each
/// value to watt-hours, import and export of one start into one `Reading`, and every
/// problem into a `RecordError` that says where.
struct FeedRecords {
    let feed: FeedReader
    private let rules: [ReadingTypeRule]
    private let blockTypes: [FeedLinker.BlockType]
    private let lines: LineIndex

    init(feed: FeedReader, blockTypes: [FeedLinker.BlockType], lines: LineIndex) {
        self.feed = feed
        self.blockTypes = blockTypes
        self.lines = lines
        rules = feed.readingTypes.map(ReadingTypeRule.init(checking:))
    }

    /// The readings of the feed for `target`, by start, with every problem.
    func batch(for target: GreenButtonTarget) -> ParsedBatch<Reading> {
        let intervals = feed.intervals
        var order: [Int32] = []
        order.reserveCapacity(intervals.count)
        var sorted = true
        var last = Int64.min
        for i in intervals.indices where intervals[i].hasStart {
            let start = intervals[i].start
            if start < last { sorted = false }
            last = start
            order.append(Int32(i))
        }
        if !sorted {
            order.sort { a, b in
                let (x, y) = (intervals[Int(a)].start, intervals[Int(b)].start)
                return x != y ? x < y : a < b
            }
        }
        let startless = intervals.indices.filter { !intervals[$0].hasStart }.map { Int32($0) }
        let targetProblems = target.fieldProblems

        var batch = ParsedBatch<Reading>()
        batch.records.reserveCapacity(order.count)
        batch.recordIndex.reserveCapacity(order.count)
        var group = 0
        while group < order.count {
            var end = group + 1
            let start = intervals[Int(order[group])].start
            while end < order.count && intervals[Int(order[end])].start == start { end += 1 }
            record(order[group..<end], target: target, targetProblems: targetProblems, into: &batch)
            group = end
        }
        for i in startless {
            record([i], target: target, targetProblems: targetProblems, into: &batch)
        }
        return batch
    }

    /// One record: the IntervalReadings of one start (or one without a start).
    private func record(
        _ members: ArraySlice<Int32>, target: GreenButtonTarget, targetProblems: [(field: String, message: String)],
        into batch: inout ParsedBatch<Reading>
    ) {
        let index = batch.count
        batch.count += 1
        let errorsBefore = batch.errors.count
        func reject(_ field: String, _ message: String) {
            batch.errors.append(RecordError(index: index, field: field, message: message))
        }
        var reading = Reading(
            utility: target.utility, meter: target.meter, consumer: target.consumer, start: 0, durationS: 0, importWh: 0
        )
        var importFrom: Int?
        var exportFrom: Int?
        var durationFrom: Int?
        for member in members {
            let i = Int(member)
            let interval = feed.intervals[i]
            reading.start = interval.start
            if interval.estimated { reading.quality = .estimated }
            if interval.firstProblem >= 0 {
                var p = Int(interval.firstProblem)
                while p < feed.problems.count && feed.problems[p].interval == member {
                    let problem = feed.problems[p]
                    reject(problem.field, "\(place(of: interval, at: problem.offset)): \(problem.message)")
                    p += 1
                }
            }
            if interval.durationIsValid {
                if let first = durationFrom, feed.intervals[first].durationS != interval.durationS {
                    let other = feed.intervals[first]
                    reject(
                        "IntervalReading.timePeriod.duration",
                        "\(place(of: interval)): duration \(interval.durationS) differs from the \(other.durationS) seconds of "
                            + "\(place(of: other)), which has the same start")
                } else if durationFrom == nil {
                    durationFrom = i
                    reading.durationS = interval.durationS
                }
            }
            switch blockTypes[Int(interval.block)] {
            case .unknown(let field, let message):
                reject(field, "\(place(of: interval)): \(message)")
            case .readingType(let type):
                let rule = rules[type]
                guard rule.problems.isEmpty else {
                    let typePlace = lines.describe(feed.readingTypes[type].offset)
                    for (field, message) in rule.problems {
                        reject(field, "\(place(of: interval)): its ReadingType (\(typePlace)): \(message)")
                    }
                    continue
                }
                if let first = rule.isImport ? importFrom : exportFrom {
                    reject(
                        "IntervalReading.timePeriod.start",
                        "\(place(of: interval)): start \(interval.start)\(FeedReader.time(interval.start)) is also the start of "
                            + "\(place(of: feed.intervals[first])), both \(rule.isImport ? "import" : "export")")
                    continue
                }
                if rule.isImport { importFrom = i } else { exportFrom = i }
                guard interval.hasValue && interval.value >= 0 else { continue }
                switch Self.energyWh(interval.value, multiplier: rule.multiplier) {
                case .success(let wh):
                    if rule.isImport { reading.importWh = wh } else { reading.exportWh = wh }
                case .failure(let problem):
                    reject("IntervalReading.value", "\(place(of: interval)): \(problem.message)")
                }
            }
        }
        for (field, message) in targetProblems { reject(field, message) }
        if batch.errors.count == errorsBefore {
            batch.records.append(reading)
            batch.recordIndex.append(index)
        }
    }

    /// Why a value cannot be a reading's energy.
    struct EnergyProblem: Error {
        var message: String
    }

    /// `value × 10^multiplier` as whole watt-hours in `ReadingParser.energyRange`.
    static func energyWh(_ value: Int64, multiplier: Int) -> Result<Int64, EnergyProblem> {
        var scale: Int64 = 1
        for _ in 0..<abs(multiplier) { scale *= 10 }  // at most 10^12
        let written = multiplier == 0 ? "value \(value)" : "value \(value) × 10^\(multiplier)"
        let wh: Int64
        if multiplier >= 0 {
            let (product, overflow) = value.multipliedReportingOverflow(by: scale)
            guard !overflow else { return .failure(EnergyProblem(message: "\(written) Wh does not fit in 64 bits")) }
            wh = product
        } else {
            guard value % scale == 0 else {
                return .failure(EnergyProblem(message: "\(written) Wh is not a whole number of Wh"))
            }
            wh = value / scale
        }
        let range = ReadingParser.energyRange
        guard range.contains(wh) else {
            let equals = multiplier == 0 ? "" : " = \(wh)"
            return .failure(
                EnergyProblem(
                    message: "\(written)\(equals) Wh is past the \(range.upperBound) Wh (1 TWh) a reading may hold"))
        }
        return .success(wh)
    }

    /// `IntervalReading 12 of IntervalBlock 3 (line 40, column 7)`, at the reading or
    /// at one of its elements.
    private func place(of interval: FeedReader.Interval, at offset: Int? = nil) -> String {
        "IntervalReading \(interval.ordinal) of IntervalBlock \(interval.block + 1) (\(lines.describe(offset ?? interval.offset)))"
    }
}
