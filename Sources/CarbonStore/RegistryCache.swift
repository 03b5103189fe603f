import CarbonAccounting
import CarbonModel
import GRDB

/// What the writer needs to know of a meter without reading its readings.
struct MeterState: Sendable {
    var id: Int64
    /// The latest end of any stored reading of the meter (.min: none yet).
    var lastEnd: Int64 = .min
    /// The longest stored reading, bounding how far back an overlap can start.
    var maxDuration: Int64 = 0
    /// The latest stored intervals, so that batches of concurrent clients arriving
    /// out of order (hour h after hour h+1) are checked without a query.
    var recent = RecentIntervals()
}

/// The four stored intervals of a meter that end last, and a floor: every stored
/// interval not held here ends at or before `floor`. So an interval that starts
/// at or after `floor` can only overlap one of the four.
struct RecentIntervals: Sendable {
    private var starts = SIMD4<Int64>(repeating: 0)
    private var ends = SIMD4<Int64>(repeating: .min)  // .min marks an empty slot
    private(set) var floor: Int64 = .min

    /// Nothing is held; every stored interval ends at or before `floor`.
    init(floor: Int64 = .min) { self.floor = floor }

    /// Holds `[start, end)`, dropping the held interval that ends first.
    mutating func insert(start: Int64, end: Int64) {
        var victim = 0
        for slot in 1..<4 where ends[slot] < ends[victim] { victim = slot }
        guard ends[victim] == .min || ends[victim] < end else {
            floor = max(floor, end)  // older than all four held: not worth holding
            return
        }
        if ends[victim] != .min { floor = max(floor, ends[victim]) }
        starts[victim] = start
        ends[victim] = end
    }

    /// What a new interval meets among the held ones (meaningful only if `start >= floor`).
    enum Meeting: Equatable {
        case nothing
        /// A held interval starts at the same instant: the same reading, or a conflict.
        case sameStart
        case overlap(start: Int64, end: Int64)
    }

    func meeting(start: Int64, end: Int64) -> Meeting {
        var meeting = Meeting.nothing
        for slot in 0..<4 where ends[slot] != .min && starts[slot] < end && start < ends[slot] {
            if starts[slot] == start { return .sameStart }
            meeting = .overlap(start: starts[slot], end: ends[slot])
        }
        return meeting
    }
}

/// A registered consumer and its row id.
struct ConsumerState: Sendable {
    var rowID: Int64
    var record: Consumer
}

/// The writer's in-memory copy of the registry and per-meter state, so that
/// checking a reading costs two hash lookups, not queries. Only the writer
/// changes these tables; after a failed commit it reloads the copy.
struct RegistryCache: Sendable {
    /// Meter states by position; positions never move, so a batch keeps them in an array.
    private(set) var meters: [MeterState] = []
    /// utility -> meter -> position in `meters`.
    private var meterPositions: [String: [String: Int]] = [:]
    /// Positions changed since the last `meter_state` snapshot.
    private var dirtyMeters: [Int] = []
    private var isDirty: [Bool] = []
    var consumers: [String: ConsumerState] = [:]
    var zones: ZoneTree
    /// The end of the latest closed period: nothing starting before it may be added.
    var closedThrough: Int64 = .min
    /// Closed periods a restatement opened again, with their spans: readings there may
    /// be corrected until the period is closed again.
    var reopened: [Period: Range<Int64>] = [:]

    /// Whether a reading starting at `start` may still be corrected.
    func mayCorrect(start: Int64) -> Bool {
        start >= closedThrough || reopened.values.contains { $0.contains(start) }
    }

    /// The positions of one utility's meters (look it up once per batch).
    func meterPositions(of utility: String) -> [String: Int] { meterPositions[utility] ?? [:] }

    /// Registers a new meter (already inserted in `meters`) and returns its position.
    mutating func addMeter(id: Int64, utility: String, meter: String) -> Int {
        meters.append(MeterState(id: id))
        isDirty.append(false)
        meterPositions[utility, default: [:]][meter] = meters.count - 1
        return meters.count - 1
    }

    /// Records a stored reading's interval in its meter's state.
    mutating func extendMeter(at position: Int, start: Int64, duration: Int64) {
        meters[position].lastEnd = max(meters[position].lastEnd, start + duration)
        meters[position].maxDuration = max(meters[position].maxDuration, duration)
        meters[position].recent.insert(start: start, end: start + duration)
        if !isDirty[position] {
            isDirty[position] = true
            dirtyMeters.append(position)
        }
    }

    /// Meters changed since the last snapshot.
    var unsavedMeterCount: Int { dirtyMeters.count }

    /// Writes the changed meters' state and marks the snapshot as covering entries below `asOf`.
    mutating func saveMeterState(to tables: some RegistryTables, asOf: UInt64) throws {
        try tables.saveMeterStates(
            dirtyMeters.map { StoredMeterState(meter: meters[$0].id, lastEnd: meters[$0].lastEnd, maxDuration: meters[$0].maxDuration) },
            asOf: asOf)
        for position in dirtyMeters { isDirty[position] = false }
        dirtyMeters.removeAll(keepingCapacity: true)
    }

    mutating func saveMeterState(db: Database, asOf: UInt64) throws {
        try saveMeterState(to: StoredLedger(db: db), asOf: asOf)
    }

    static func load(db: Database) throws -> RegistryCache {
        try load(from: StoredLedger(db: db))
    }

    static func load(from tables: some RegistryTables) throws -> RegistryCache {
        var cache = RegistryCache(zones: try ZoneTree(tables.zones()))
        var positionOfID: [Int64: Int] = [:]
        for meter in try tables.meters() {
            let position = cache.addMeter(id: meter.id, utility: meter.utility, meter: meter.meter)
            cache.meters[position].lastEnd = meter.state?.lastEnd ?? .min
            cache.meters[position].maxDuration = meter.state?.maxDuration ?? 0
            cache.meters[position].recent = RecentIntervals(floor: cache.meters[position].lastEnd)
            positionOfID[meter.id] = position
        }
        // Brings meter state up to date with the readings of entries the snapshot does not cover.
        for span in try tables.readingSpans(ofEntriesFrom: tables.meterStateAsOf()) {
            guard let position = positionOfID[span.meter] else {
                throw StoreError.corrupt("a reading names meter id \(span.meter), which is not registered")
            }
            cache.extendMeter(at: position, start: span.start, duration: span.duration)
        }
        cache.closedThrough = try tables.closedThrough() ?? .min
        for reopened in try tables.reopenedPeriods() {
            guard let period = Period(reopened.period) else { throw StoreError.corrupt("restated period \(reopened.period)") }
            cache.reopened[period] = reopened.start..<reopened.end
        }
        for (rowID, consumer) in try tables.consumers() {
            cache.consumers[consumer.id] = ConsumerState(rowID: rowID, record: consumer)
        }
        return cache
    }
}

/// Reading a `consumers` row back into a `Consumer`.
enum ConsumerRow {
    static func consumer(from row: some NamedColumns) throws -> Consumer {
        let className: String = row["class"]
        guard let consumerClass = ConsumerClass(rawValue: className) else {
            throw StoreError.corrupt("consumer \(row["consumer"] as String? ?? "?") has unknown class \(className)")
        }
        return Consumer(
            id: row["consumer"], utility: row["utility"], zone: row["zone"],
            consumerClass: consumerClass, normalizer: row["normalizer"])
    }
}
