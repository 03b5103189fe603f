import CarbonModel
import GRDB

/// A meter of one utility (meter ids are only unique within a utility).
struct MeterKey: Hashable, Sendable {
    var utility: String
    var meter: String
}

/// What the writer needs to know of a meter without reading its readings.
struct MeterState: Sendable {
    var id: Int64
    /// The latest end of any stored reading of the meter.
    var lastEnd: Int64
    /// The longest stored reading, bounding how far back an overlap can start.
    var maxDuration: Int64
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
    var meters: [MeterKey: MeterState] = [:]
    var consumers: [String: ConsumerState] = [:]
    var zones: ZoneTree

    static func load(db: Database) throws -> RegistryCache {
        let zoneRows = try Row.fetchAll(db, sql: "SELECT zone, parent, name FROM zones")
        let zones = try ZoneTree(zoneRows.map { Zone(zone: $0["zone"], parent: $0["parent"], name: $0["name"]) })
        var cache = RegistryCache(zones: zones)
        let meters = try Row.fetchCursor(db, sql: "SELECT id, utility, meter, last_end, max_duration FROM meters")
        while let row = try meters.next() {
            cache.meters[MeterKey(utility: row["utility"], meter: row["meter"])] =
                MeterState(id: row["id"], lastEnd: row["last_end"], maxDuration: row["max_duration"])
        }
        let consumers = try Row.fetchCursor(
            db, sql: "SELECT id, consumer, utility, zone, class, normalizer FROM consumers")
        while let row = try consumers.next() {
            let record = try ConsumerRow.consumer(from: row)
            cache.consumers[record.id] = ConsumerState(rowID: row["id"], record: record)
        }
        return cache
    }
}

/// Reading a `consumers` row back into a `Consumer`.
enum ConsumerRow {
    static func consumer(from row: Row) throws -> Consumer {
        let className: String = row["class"]
        guard let consumerClass = ConsumerClass(rawValue: className) else {
            throw StoreError.corrupt("consumer \(row["consumer"] as String? ?? "?") has unknown class \(className)")
        }
        return Consumer(
            id: row["consumer"], utility: row["utility"], zone: row["zone"],
            consumerClass: consumerClass, normalizer: row["normalizer"])
    }
}
