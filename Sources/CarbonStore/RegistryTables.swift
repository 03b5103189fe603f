import CarbonLedger
import CarbonModel

/// The registry's tables as the writer loads and changes them: zones, consumers,
/// meters and their state snapshot. Both engines implement them (SQLite in
/// `StoredLedger`, PostgreSQL in CarbonPostgres) beside `IngestTables`.
public protocol RegistryTables: LedgerStorage {
    func zones() throws -> [Zone]
    func insertZones(_ zones: [Zone]) throws
    /// Every consumer with its row id.
    func consumers() throws -> [(rowID: Int64, consumer: Consumer)]
    /// Adds or changes a consumer, recording the entry that registered it; returns its row id.
    func upsertConsumer(_ consumer: Consumer, entry: UInt64) throws -> Int64
    /// Every meter in row id order, with its snapshot state if it has one.
    func meters() throws -> [StoredMeter]
    /// The readings of the `readings` entries at or after `entry` (the meter-state replay).
    func readingSpans(ofEntriesFrom entry: UInt64) throws -> [(meter: Int64, start: Int64, duration: Int64)]
    /// The entry the meter-state snapshot covers up to (0: none).
    func meterStateAsOf() throws -> UInt64
    /// Stores meter states (keeping the larger of stored and given) and raises the snapshot's mark.
    func saveMeterStates(_ states: [StoredMeterState], asOf: UInt64) throws
    /// The end of the latest closed period, nil before the first.
    func closedThrough() throws -> Int64?
    /// Closed periods opened again and not closed since, with their spans.
    func reopenedPeriods() throws -> [(period: String, start: Int64, end: Int64)]
}

/// A `meters` row with its `meter_state` snapshot.
public struct StoredMeter: Sendable, Equatable {
    public var id: Int64
    public var utility: String
    public var meter: String
    public var state: StoredMeterState?

    public init(id: Int64, utility: String, meter: String, state: StoredMeterState?) {
        self.id = id
        self.utility = utility
        self.meter = meter
        self.state = state
    }
}

/// A `meter_state` row: the latest end of the meter's readings and the longest one.
public struct StoredMeterState: Sendable, Equatable {
    public var meter: Int64
    public var lastEnd: Int64
    public var maxDuration: Int64

    public init(meter: Int64, lastEnd: Int64, maxDuration: Int64) {
        self.meter = meter
        self.lastEnd = lastEnd
        self.maxDuration = maxDuration
    }
}
