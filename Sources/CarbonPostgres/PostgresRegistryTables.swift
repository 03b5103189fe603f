import CarbonLedger
import CarbonModel
import CarbonStore
import PostgresNIO

/// The registry's tables in PostgreSQL, within the writer's transaction on `session`.
extension PostgresLedgerStorage: RegistryTables {
    public func zones() throws -> [Zone] {
        try rows("SELECT zone, parent, name FROM zones ORDER BY zone").map { row in
            let (zone, parent, name) = try row.decode((String, String?, String).self)
            return Zone(zone: zone, parent: parent, name: name)
        }
    }

    public func insertZones(_ zones: [Zone]) throws {
        guard !zones.isEmpty else { return }
        let (ids, parents, names) = (zones.map(\.zone), zones.map { $0.parent ?? "" }, zones.map(\.name))
        try execute("""
            INSERT INTO zones(zone, parent, name)
            SELECT zone, NULLIF(parent, ''), name FROM unnest(\(ids)::text[], \(parents)::text[], \(names)::text[])
              AS z(zone, parent, name)
            """)
    }

    public func consumers() throws -> [(rowID: Int64, consumer: Consumer)] {
        try rows("SELECT id, consumer, utility, zone, class, normalizer FROM consumers").map { row in
            let (id, consumer, utility, zone, className, normalizer) = try row.decode(
                (Int64, String, String, String, String, Int64).self)
            guard let consumerClass = ConsumerClass(rawValue: className) else {
                throw PostgresStoreError.corrupt("consumer \(consumer) has unknown class \(className)")
            }
            return (id, Consumer(id: consumer, utility: utility, zone: zone, consumerClass: consumerClass, normalizer: normalizer))
        }
    }

    public func upsertConsumer(_ consumer: Consumer, entry: UInt64) throws -> Int64 {
        let rows = try rows("""
            INSERT INTO consumers(consumer, utility, zone, class, normalizer, entry)
            VALUES (\(consumer.id), \(consumer.utility), \(consumer.zone), \(consumer.consumerClass.rawValue),
                    \(consumer.normalizer), \(Int64(entry)))
            ON CONFLICT (consumer) DO UPDATE SET
                zone = EXCLUDED.zone, class = EXCLUDED.class, normalizer = EXCLUDED.normalizer, entry = EXCLUDED.entry
            RETURNING id
            """)
        guard let id = try rows.first?.decode(Int64.self) else {
            throw PostgresStoreError.corrupt("consumer \(consumer.id) got no row id from its upsert")
        }
        return id
    }

    public func meters() throws -> [StoredMeter] {
        try rows("""
            SELECT m.id, m.utility, m.meter, s.last_end, s.max_duration
            FROM meters m LEFT JOIN meter_state s ON s.meter = m.id ORDER BY m.id
            """).map { row in
            let (id, utility, meter, lastEnd, maxDuration) = try row.decode((Int64, String, String, Int64?, Int64?).self)
            return StoredMeter(
                id: id, utility: utility, meter: meter,
                state: lastEnd.map { StoredMeterState(meter: id, lastEnd: $0, maxDuration: maxDuration ?? 0) })
        }
    }

    public func readingSpans(ofEntriesFrom entry: UInt64) throws -> [(meter: Int64, start: Int64, duration: Int64)] {
        let from = Int64(entry)
        return try rows("""
            SELECT meter, start, duration_s FROM readings
            WHERE start >= (SELECT min(first_start) FROM reading_batches WHERE entry >= \(from)) AND batch >= \(from)
            """).map { row in
            let (meter, start, duration) = try row.decode((Int64, Int64, Int64).self)
            return (meter, start, duration)
        }
    }

    public func meterStateAsOf() throws -> UInt64 {
        let value = try rows("SELECT value FROM meta WHERE key = 'meter_state_as_of'").first?.decode(String.self)
        return value.flatMap { UInt64($0) } ?? 0
    }

    public func saveMeterStates(_ states: [StoredMeterState], asOf: UInt64) throws {
        if !states.isEmpty {
            let (meters, ends, durations) = (states.map(\.meter), states.map(\.lastEnd), states.map(\.maxDuration))
            try execute("""
                INSERT INTO meter_state(meter, last_end, max_duration)
                SELECT * FROM unnest(\(meters)::bigint[], \(ends)::bigint[], \(durations)::bigint[])
                ON CONFLICT (meter) DO UPDATE SET
                    last_end = GREATEST(meter_state.last_end, EXCLUDED.last_end),
                    max_duration = GREATEST(meter_state.max_duration, EXCLUDED.max_duration)
                """)
        }
        try execute("""
            INSERT INTO meta(key, value) VALUES ('meter_state_as_of', \(String(asOf)))
            ON CONFLICT (key) DO UPDATE SET value = CASE
                WHEN EXCLUDED.value::bigint > meta.value::bigint THEN EXCLUDED.value ELSE meta.value END
            """)
    }

    public func closedThrough() throws -> Int64? {
        try rows(#"SELECT max("end") FROM periods"#).first?.decode(Int64?.self)
    }

    public func reopenedPeriods() throws -> [(period: String, start: Int64, end: Int64)] {
        try rows("""
            SELECT p.period, p.start, p."end" FROM restatements r JOIN periods p ON p.period = r.period
            WHERE r.closed_by IS NULL
            """).map { row in
            let (period, start, end) = try row.decode((String, Int64, Int64).self)
            return (period, start, end)
        }
    }
}
