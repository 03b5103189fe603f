import CarbonLedger
import TransparencyLog

/// The tables a batch of readings is decided against and stored into, inside the
/// writer's transaction: the interface both engines implement for the ingest path
/// (SQLite in `StoredLedger`, PostgreSQL in CarbonPostgres), beside the ledger's own.
///
/// Each call is a whole step of a batch (all its new meters, all its readings, all its
/// hour blocks), so an engine whose statements are round trips to a server pays a few
/// per batch, not one per reading.
public protocol IngestTables: LedgerStorage {
    /// Adds meters new to the ledger; returns their row ids, in the order of `names`.
    func insertMeters(utility: String, names: [String]) throws -> [Int64]
    /// The stored readings of `meter` whose start lies strictly between the two bounds.
    func storedReadings(meter: Int64, startAfter: Int64, startBefore: Int64) throws -> [StoredReadingRow]
    /// Stores one batch's accepted readings, in position order.
    func insertReadings(_ rows: [ReadingRow]) throws
    /// Stores the sums of each block no row holds yet (`HourSums.encode`); returns the
    /// blocks already stored, left as they were. A batch of a new hour is all new
    /// blocks, so it costs this one step.
    func insertNewHourSums(_ blocks: [(HourBlock, [UInt8])]) throws -> Set<HourBlock>
    /// The stored sums of those of `blocks` that have a row (`HourSums.encode`).
    func hourSums(of blocks: [HourBlock]) throws -> [HourBlock: [UInt8]]
    /// Stores each block's sums, replacing what was there.
    func storeHourSums(_ blocks: [(HourBlock, [UInt8])]) throws
    /// Records a `readings` entry's span and chunks (`reading_batches`).
    func insertReadingBatch(entry: UInt64, firstStart: Int64, lastStart: Int64, count: Int, chunks: [UInt8]) throws
}

/// One row of the `readings` table.
public struct ReadingRow: Sendable, Equatable {
    public var start: Int64
    public var meter: Int64
    public var consumer: Int64
    public var durationS: Int64
    public var importWh: Int64
    public var exportWh: Int64
    public var quality: Int64
    public var ref: String?
    /// The `readings` entry the reading is a leaf of, and its position there.
    public var batch: Int64
    public var position: Int64

    public init(
        start: Int64, meter: Int64, consumer: Int64, durationS: Int64, importWh: Int64, exportWh: Int64,
        quality: Int64, ref: String?, batch: Int64, position: Int64
    ) {
        self.start = start
        self.meter = meter
        self.consumer = consumer
        self.durationS = durationS
        self.importWh = importWh
        self.exportWh = exportWh
        self.quality = quality
        self.ref = ref
        self.batch = batch
        self.position = position
    }
}

/// A stored reading a new one of the same meter might repeat or overlap.
public struct StoredReadingRow: Sendable, Equatable {
    public var start: Int64
    public var durationS: Int64
    public var consumer: Int64
    public var importWh: Int64
    public var exportWh: Int64
    public var quality: Int64
    public var ref: String?

    public init(
        start: Int64, durationS: Int64, consumer: Int64, importWh: Int64, exportWh: Int64, quality: Int64, ref: String?
    ) {
        self.start = start
        self.durationS = durationS
        self.consumer = consumer
        self.importWh = importWh
        self.exportWh = exportWh
        self.quality = quality
        self.ref = ref
    }
}

/// A `consumer_hours` row's key: a UTC hour and a block of `HourSums.blockSize` consumer row ids.
public struct HourBlock: Hashable, Comparable, Sendable {
    public var hour: Int64
    public var block: Int64

    public init(hour: Int64, block: Int64) {
        self.hour = hour
        self.block = block
    }

    public static func < (a: HourBlock, b: HourBlock) -> Bool { (a.hour, a.block) < (b.hour, b.block) }
}
