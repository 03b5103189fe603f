import CarbonModel
import CarbonStore
import Foundation
import GRDB
import Testing

/// `consumer_hours`, the per-consumer hour sums kept at ingest: they must always equal
/// the stored readings summed, whatever arrives and however it is refused.
@Suite struct ConsumerHoursTests {
    let hour: Int64 = 1_790_000_000 / 3600 * 3600

    /// The sums as stored, and the same sums computed from the readings table.
    private func storedAndRecomputed(_ ledger: TestLedger) throws -> (stored: [[Int64]], recomputed: [[Int64]]) {
        let queue = try DatabaseQueue(path: ledger.path, configuration: { var c = Configuration(); c.readonly = true; return c }())
        return try queue.read { db in
            // Each row holds 64 consumer row ids' sums: five unsigned LEB128 varints a slot.
            var stored: [[Int64]] = []
            for row in try Row.fetchAll(db, sql: "SELECT hour, block, sums FROM consumer_hours ORDER BY hour, block") {
                let bytes = [UInt8](row[2] as Data)
                var offset = 0
                func varint() -> Int64 {
                    var value: Int64 = 0
                    var shift: Int64 = 0
                    while true {
                        let byte = bytes[offset]
                        offset += 1
                        value |= Int64(byte & 0x7f) << shift
                        if byte < 0x80 { return value }
                        shift += 7
                    }
                }
                for slot in 0..<64 {
                    let sums = (0..<5).map { _ in varint() }
                    if sums[0] > 0 { stored.append([row[0], (row[1] as Int64) * 64 + Int64(slot)] + sums) }
                }
                #expect(offset == bytes.count)
            }
            let recomputed = try Row.fetchAll(db, sql: """
                SELECT start - start % 3600 AS h, consumer, count(*),
                    sum(CASE WHEN quality = 0 AND start + duration_s <= start - start % 3600 + 3600 THEN import_wh ELSE 0 END),
                    sum(CASE WHEN quality = 1 AND start + duration_s <= start - start % 3600 + 3600 THEN import_wh ELSE 0 END),
                    sum(CASE WHEN start + duration_s <= start - start % 3600 + 3600 THEN export_wh ELSE 0 END),
                    sum(start + duration_s > start - start % 3600 + 3600)
                FROM readings GROUP BY h, consumer ORDER BY h, consumer
                """).map { row in (0..<7).map { row[$0] as Int64 } }
            return (stored, recomputed)
        }
    }

    private func ledgerWithReadings() async throws -> TestLedger {
        let ledger = try TestLedger()
        _ = try await ledger.register([consumer("c1"), consumer("c2")])
        var quarterHours: [Reading] = []
        for q in 0..<8 {
            var r = reading("m1", consumer: "c1", start: hour + Int64(q) * 900, wh: 100 + Int64(q), duration: 900)
            r.exportWh = Int64(q)
            if q == 3 { r.quality = .estimated }
            quarterHours.append(r)
        }
        // c2: two meters in one hour, and a reading that runs past its hour.
        let others = [
            reading("m2", consumer: "c2", start: hour, wh: 7, duration: 3600),
            reading("m3", consumer: "c2", start: hour + 1800, wh: 9, duration: 3600),
        ]
        #expect(try await ledger.ingest(quarterHours + others).result?.accepted == 10)
        return ledger
    }

    @Test func theSumsFollowEveryAcceptedReadingAndNothingElse() async throws {
        let ledger = try await ledgerWithReadings()
        // Sent again: duplicates, not counted twice. A conflicting one in a partial batch: refused.
        var conflicting = reading("m1", consumer: "c1", start: hour, wh: 1, duration: 900)
        conflicting.id = "other"
        let next = reading("m1", consumer: "c1", start: hour + 7200, wh: 40, duration: 900)
        let again = try await ledger.ingest(
            [reading("m2", consumer: "c2", start: hour, wh: 7, duration: 3600), conflicting, next], partial: true)
        #expect(again.result?.accepted == 1 && again.result?.duplicates == 1)

        let (stored, recomputed) = try storedAndRecomputed(ledger)
        #expect(stored == recomputed)
        // c1's first hour: four quarter hours, one estimated; c2's: one irregular reading.
        let c1: [Int64] = [hour, 1, 4, 303, 103, 6, 0]
        let c2: [Int64] = [hour, 2, 2, 7, 0, 0, 1]
        #expect(stored.first == c1)
        #expect(stored.contains(c2))
    }

    @Test func aDatabaseFromBeforeTheSumsGetsThemWhenOpened() async throws {
        let ledger = try await ledgerWithReadings()
        let expected = try storedAndRecomputed(ledger).stored
        ledger.store.close()
        let queue = try DatabaseQueue(path: ledger.path)
        try await queue.write { db in
            try db.execute(sql: "DROP TABLE consumer_hours")
            try db.execute(sql: "DELETE FROM grdb_migrations WHERE identifier = 'v5-consumer-hours'")
        }
        try queue.close()
        try ledger.reopen()
        let (stored, recomputed) = try storedAndRecomputed(ledger)
        #expect(stored == expected && stored == recomputed && !stored.isEmpty)
    }
}
