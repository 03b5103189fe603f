import CarbonAccounting
import CarbonLedger
import CarbonModel
import CarbonPostgres
@testable import CarbonStore
import Foundation
import GRDB
import PostgresNIO
import Testing
import TransparencyLog

/// The same jobs through the SQLite store and through the store on PostgreSQL (the same
/// `LedgerWriter`, over PostgreSQL's engine), with the same key, zones and clock: every answer is the same, every checkpoint is the
/// same note byte for byte (Ed25519 signing is deterministic), and the stored readings
/// and hour sums are the same rows. The jobs run from registrations and readings
/// through corrections to a period closed, restated and closed again. The ingest path's decisions are the store's own in
/// both engines; only the tables differ.
@Suite("SQLite and PostgreSQL sign the same ledger")
struct EngineParityTests {
    static let time: Int64 = 1_790_000_000
    static let hour: Int64 = 1_790_000_000 / 3600 * 3600
    static let zones = try! ZoneTree([
        Zone(zone: "CN", parent: nil, name: "China"),
        Zone(zone: "CN-EAST", parent: "CN", name: "East"),
        Zone(zone: "CN-ZJ", parent: "CN-EAST", name: "Zhejiang"),
    ])

    /// The store on PostgreSQL, opened as the daemon opens it.
    static func openPostgres(_ cluster: LocalCluster, signer: NoteSigner, keyPath: String = "") async throws -> CarbonStore {
        try await onOwnThread {
            try PostgresStore.openWriter(
                at: cluster.location(), readers: 2, signer: signer, keyPath: keyPath, zones: EngineParityTests.zones,
                clock: { EngineParityTests.time })
        }
    }

    static func consumers(_ ids: [String], utility: String = "u1", zone: String = "CN-ZJ", partial: Bool = false) -> LedgerWriter.Job {
        let records = ids.map { Consumer(id: $0, utility: utility, zone: zone, consumerClass: .residential, normalizer: 1) }
        return .consumers(ConsumerBatch(
            submitter: Submitter(utility: nil), partial: partial, consumers: records, recordIndex: Array(records.indices),
            parseErrors: []))
    }

    static func readings(
        _ list: [(meter: String, consumer: String, hours: Int64, wh: Int64)], partial: Bool = false, id: String? = nil
    ) -> LedgerWriter.Job
    {
        let readings = list.map { r in
            Reading(
                utility: "u1", meter: r.meter, consumer: r.consumer, start: hour + r.hours * 3600 / 2, durationS: 1800,
                importWh: r.wh, exportWh: 0, quality: .actual, id: "\(r.meter)-\(r.hours)")
        }
        return .readings(ReadingBatch(
            submitter: Submitter(utility: "u1"), batchID: id, partial: partial,
            hashed: HashedReadings(readings: readings, recordIndex: Array(readings.indices)), parseErrors: []))
    }

    /// Registrations, in-order and out-of-order hours, duplicates, conflicts, overlaps,
    /// a partial batch, unknown consumers and a zone not in the tree; then both engines
    /// reopen (the registry and meter state reloaded from their tables) and go on.
    static let jobs: [LedgerWriter.Job] = [
        consumers(["c1", "c2", "c3"]),
        consumers(["c4", "c5"], zone: "XX-NOWHERE", partial: true),
        consumers(["c1", "c6"]),
        readings([("m1", "c1", 0, 500), ("m2", "c2", 0, 700), ("m3", "c3", 0, 900)]),
        readings([("m1", "c1", 1, 510), ("m2", "c2", 1, 710)]),
        readings([("m1", "c1", 4, 540), ("m1", "c1", 3, 530), ("m2", "c2", 3, 730)]),
        readings([("m1", "c1", 1, 510)]),
        readings([("m1", "c1", 1, 999)]),
        readings([("m1", "c1", 2, 520), ("m2", "c2", 2, 1), ("m2", "c2", 3, 731), ("m9", "nobody", 2, 1)], partial: true),
        readings([("m3", "c3", 1, 910), ("m3", "c3", 1, 911)]),
        readings([("m4", "c6", 0, 100), ("m4", "c6", 1, 101), ("m5", "c6", 0, 50)]),
        readings([("m5", "c6", 1, 51)], id: "b1"),
        readings([("m5", "c6", 1, 51)], id: "b1"),
    ]

    static func certificates(_ list: [(id: String, consumer: String)]) -> LedgerWriter.Job {
        let records = list.map {
            Certificate(id: $0.id, consumer: $0.consumer, start: hour, end: hour + 3600, wh: 300, technology: "solar", issuer: "GEC")
        }
        return .certificates(CertificateBatch(
            submitter: Submitter(utility: "u1"), certificates: records, recordIndex: Array(records.indices), parseErrors: []))
    }

    static let dataset = FactorDataset(name: "zj-2026", rows: [
        FactorRow(zone: "CN-ZJ", kind: .average, start: hour - 40 * 86_400, end: hour + 40 * 86_400, mgPerKWh: 530_000, source: "MEE", dataset: "zj-2026"),
        FactorRow(zone: "CN-EAST", kind: .residual, start: hour - 40 * 86_400, end: hour + 40 * 86_400, mgPerKWh: 610_000, source: "MEE", dataset: "zj-2026"),
        FactorRow(zone: "CN-ZJ", kind: .residual, start: hour - 40 * 86_400, end: hour + 40 * 86_400, mgPerKWh: 600_000, source: "MEE", dataset: "zj-2026"),
    ])

    /// Factors, certificates and a key rotation, before reopening.
    static func records(rotatingTo next: NoteSigner, keyPath: String) -> [LedgerWriter.Job] {
        [
            .factors(dataset),
            .factors(dataset),
            certificates([("GEC-1", "c1"), ("GEC-2", "c2")]),
            certificates([("GEC-3", "c3"), ("GEC-1", "c3")]),
            certificates([("GEC-4", "nobody")]),
            .rotateKey(KeyRotation(signer: next, path: keyPath, overlapSeconds: 600)),
            readings([("m1", "c1", 7, 570)]),
        ]
    }

    static func corrections(
        _ list: [(meter: String, consumer: String, hours: Int64, wh: Int64)], reason: String = "meter_fault",
        partial: Bool = false, id: String? = nil
    ) -> LedgerWriter.Job {
        let records = list.map { r in
            ReadingCorrection(
                reading: Reading(
                    utility: "u1", meter: r.meter, consumer: r.consumer, start: hour + r.hours * 3600 / 2, durationS: 1800,
                    importWh: r.wh, exportWh: 0, quality: .actual, id: "\(r.meter)-\(r.hours)"),
                reason: reason)
        }
        return .corrections(CorrectionBatch(
            submitter: Submitter(utility: "u1"), batchID: id, partial: partial, corrections: records,
            recordIndex: Array(records.indices), parseErrors: []))
    }

    static let afterReopening: [LedgerWriter.Job] = [
        readings([("m5", "c6", 1, 51)], id: "b1"),
        readings([("m1", "c1", 4, 540), ("m1", "c1", 5, 550), ("m3", "c3", 0, 1)]),
        readings([("m1", "c1", 6, 560), ("m2", "c2", 6, 760), ("m4", "c6", 2, 102)]),
        consumers(["c7"]),
        // Corrections: replaced, sent again under their id, a duplicate, one with nothing to correct.
        corrections([("m1", "c1", 0, 505), ("m2", "c2", 1, 715)], id: "k1"),
        corrections([("m1", "c1", 0, 505), ("m2", "c2", 1, 715)], id: "k1"),
        corrections([("m1", "c1", 0, 505), ("m3", "c3", 1, 912), ("m9", "c1", 0, 1)], reason: "data_error", partial: true),
        corrections([("m2", "c2", 1, 716), ("m2", "c2", 1, 717)]),
    ]

    @Test func theSameJobsGiveTheSameAnswersCheckpointsAndRows() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("carbonledger-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        // Key files, so the replaced key co-signs after the rotation and the reopening.
        let (firstPath, nextPath) = (folder.appendingPathComponent("first.key").path, folder.appendingPathComponent("next.key").path)
        _ = try KeyFile.create(path: firstPath, origin: "test.example/ledger")
        _ = try KeyFile.create(path: nextPath, origin: "test.example/ledger")
        let (signer, next) = (try KeyFile.load(path: firstPath), try KeyFile.load(path: nextPath))
        let path = folder.appendingPathComponent("ledger.db").path
        var sqlite = try CarbonStore(path: path, signer: signer, keyPath: firstPath, zones: Self.zones, clock: { Self.time })

        let cluster = try LocalCluster()
        let session = try await cluster.connect()
        var postgres = try await Self.openPostgres(cluster, signer: signer, keyPath: firstPath)
        #expect(postgres.writer.latestCheckpoint?.note == sqlite.writer.latestCheckpoint?.note)

        var committed = 0
        let beforeReopening = Self.jobs + Self.records(rotatingTo: next, keyPath: nextPath)
        for (number, job) in (beforeReopening + Self.afterReopening).enumerated() {
            if number == beforeReopening.count {
                // Both reopen with the key in force since the rotation.
                sqlite.close()
                sqlite = try CarbonStore(path: path, signer: next, keyPath: nextPath, zones: Self.zones, clock: { Self.time })
                postgres.close()
                postgres = try await Self.openPostgres(cluster, signer: next, keyPath: nextPath)
                #expect(postgres.writer.latestCheckpoint?.note == sqlite.writer.latestCheckpoint?.note)
            }
            let expected = try await sqlite.writer.submit(job)
            let got = try await postgres.writer.submit(job)
            #expect(got == expected, "job \(number)")
            if case .committed(let result) = expected, result.accepted > 0 { committed += 1 }
        }
        #expect(committed >= 13)

        // The month closes, is restated, corrected again and closes again, on both.
        let period = Program().period(containing: Self.hour)
        let closed = try await postgres.writer.close(period)
        #expect("\(closed)" == "\(try await sqlite.writer.close(period))")
        guard case .closed(let first) = closed else { throw LocalCluster.ClusterError("\(closed)") }
        #expect(first.consumers >= 4)
        #expect("\(try await postgres.writer.close(period))" == "\(try await sqlite.writer.close(period))")
        for job in [
            Self.readings([("m1", "c1", 8, 1)]),
            Self.corrections([("m1", "c1", 1, 511)]),
            .restate(Restatement(period: period, reason: "meter m1 was misread")),
            .restate(Restatement(period: period, reason: "twice")),
            Self.corrections([("m1", "c1", 1, 512), ("m4", "c6", 0, 99)], id: "k2"),
            Self.readings([("m1", "c1", 1_000, 7)]),
        ] {
            let expected = try await sqlite.writer.submit(job)
            #expect(try await postgres.writer.submit(job) == expected, "\(job)")
        }
        let again = try await postgres.writer.close(period)
        #expect("\(again)" == "\(try await sqlite.writer.close(period))")
        guard case .closed(let second) = again else { throw LocalCluster.ClusterError("\(again)") }
        #expect(second.restates == first.entry)
        #expect(postgres.writer.latestCheckpoint?.note == sqlite.writer.latestCheckpoint?.note)
        // The last checkpoint, signed after the reopening, is co-signed by the replaced key.
        let last = try #require(postgres.writer.latestCheckpoint?.note)
        #expect(try SignedNote.open(last, verifiers: [signer.verifier, next.verifier]).verified == [next.verifier, signer.verifier])

        // The ledger's reads answer the same from either engine.
        try await Self.expectSameLedgerAnswers(sqlite.reader, postgres.reader)
        try await Self.expectSameAccountingAnswers(sqlite.reader, postgres.reader)
        let reads = PostgresReads(location: cluster.location(), limit: 2)
        // A scan in pages of two readings gives what one page gives, consumer by consumer too.
        let scans = try await reads.read { db in
            let registry = try AccountingRegistry.load(db: db)
            return try [2, 10_000].map { page in
                var seen: [String] = []
                for consumer in [nil, Int64(1)] {
                    try ReadingScan(db: db, registry: registry, page: page).forEach(from: .min, to: .max, consumer: consumer) {
                        seen.append("\($0.reading.meter)@\($0.reading.start)=\($0.reading.importWh)/\($0.idUTF8.map { String(decoding: $0, as: UTF8.self) } ?? "-")")
                    }
                }
                return seen
            }
        }
        #expect(scans[0].count >= 20 && scans[0] == scans[1])
        reads.close()
        sqlite.close()

        // The stored rows the accounting reads are the same.
        let queue = try DatabaseQueue(path: path)
        let sqliteReadings = try await queue.read { db in
            try Row.fetchAll(db, sql: """
                SELECT start, meter, consumer, duration_s, import_wh, export_wh, quality, ref, batch, position
                FROM readings ORDER BY start, meter
                """).map { "\($0)" }
        }
        let postgresReadings = try await session.rows("""
            SELECT start, meter, consumer, duration_s, import_wh, export_wh, quality, ref, batch, position
            FROM readings ORDER BY start, meter
            """).map { row in
            let (a, b, c, d, e, f, g, h, i, j) = try row.decode(
                (Int64, Int64, Int64, Int64, Int64, Int64, Int16, String?, Int64, Int64).self)
            return "[start:\(a) meter:\(b) consumer:\(c) duration_s:\(d) import_wh:\(e) export_wh:\(f) quality:\(g) "
                + "ref:\(h.map { "\"\($0)\"" } ?? "NULL") batch:\(i) position:\(j)]"
        }
        #expect(!sqliteReadings.isEmpty && postgresReadings == sqliteReadings)

        let sqliteHours = try await queue.read { db in
            try Row.fetchAll(db, sql: "SELECT hour, block, sums FROM consumer_hours ORDER BY hour, block").map {
                "\($0[0] as Int64)/\($0[1] as Int64)/\(Array($0[2] as Data))"
            }
        }
        let postgresHours = try await session.rows("SELECT hour, block, sums FROM consumer_hours ORDER BY hour, block").map { row in
            let (hour, block, sums) = try row.decode((Int64, Int64, ByteBuffer).self)
            return "\(hour)/\(block)/\(Array(sums.readableBytesView))"
        }
        #expect(!sqliteHours.isEmpty && postgresHours == sqliteHours)

        let sqliteRecords = try await queue.read { db in
            try Row.fetchAll(db, sql: """
                SELECT dataset || '/' || position || '/' || zone || '/' || kind || '/' || start || '/' || end || '/' || mg_per_kwh
                FROM factor_rows ORDER BY dataset, position
                """).map { $0[0] as String }
                + Row.fetchAll(db, sql: """
                    SELECT id || '/' || consumer || '/' || start || '/' || end || '/' || wh || '/' || entry
                    FROM certificates ORDER BY id
                    """).map { $0[0] as String }
                + Row.fetchAll(db, sql: "SELECT key || '=' || value FROM meta WHERE key LIKE 'vkey%' ORDER BY key")
                    .map { $0[0] as String }
        }
        var postgresRecords: [String] = []
        for query: PostgresQuery in [
            #"SELECT dataset || '/' || position || '/' || zone || '/' || kind || '/' || start || '/' || "end" || '/' || mg_per_kwh FROM factor_rows ORDER BY dataset, position"#,
            #"SELECT id || '/' || consumer || '/' || start || '/' || "end" || '/' || wh || '/' || entry FROM certificates ORDER BY id"#,
            "SELECT key || '=' || value FROM meta WHERE key LIKE 'vkey%' ORDER BY key",
        ] {
            postgresRecords += try await session.rows(query).map { try $0.decode(String.self) }
        }
        #expect(sqliteRecords.count == 3 + 2 + 2)
        #expect(postgresRecords == sqliteRecords)
        postgres.close()
        await session.close()
    }

    /// Every read of the ledger and its records, over the whole of a ledger: its
    /// checkpoint, keys and entries, every inclusion and consistency proof, the proof
    /// and owner of every reading (and of readings that are not there), the registry's
    /// records and every tile with its signatures and data.
    static func expectSameLedgerAnswers(_ sqlite: LedgerReader, _ postgres: LedgerReader) async throws {
        let checkpoint = try #require(try await sqlite.latestCheckpoint())
        #expect(try await postgres.latestCheckpoint() == checkpoint)
        #expect(try await postgres.keys() == sqlite.keys())
        let size = checkpoint.size
        let (entries, entriesSize) = try await postgres.entries(start: 0, end: .max)
        #expect(entries.count == Int(size) && entriesSize == size)
        #expect(try await sqlite.entries(start: 0, end: .max).entries == entries)
        for index in 0..<size {
            #expect(try await postgres.inclusionProof(index: index, size: nil) == sqlite.inclusionProof(index: index, size: nil))
            #expect(try await postgres.inclusionProof(index: 0, size: index + 1) == sqlite.inclusionProof(index: 0, size: index + 1))
            let (a, b) = (try await postgres.consistencyProof(from: index + 1, to: nil), try await sqlite.consistencyProof(from: index + 1, to: nil))
            #expect(a.from == b.from && a.to == b.to && a.hashes == b.hashes)
        }
        await #expect(throws: QueryError.self) { _ = try await postgres.inclusionProof(index: size, size: nil) }

        var proven = 0
        for meter in ["m1", "m2", "m3", "m4", "m5", "m9"] {
            for half in Int64(0)...8 {
                let start = hour + half * 1800
                let owner = try await postgres.readingOwner(utility: "u1", meter: meter, start: start)
                #expect(try await sqlite.readingOwner(utility: "u1", meter: meter, start: start) == owner)
                let proof = try await postgres.readingProof(utility: "u1", meter: meter, start: start)
                #expect(try await sqlite.readingProof(utility: "u1", meter: meter, start: start) == proof)
                #expect((proof == nil) == (owner == nil))
                if proof != nil { proven += 1 }
            }
        }
        #expect(proven >= 15)

        #expect(try await postgres.factorRows() == sqlite.factorRows())
        #expect(try await postgres.factorRows().count == 3)
        #expect(try await postgres.zoneTree() == sqlite.zoneTree())
        for consumer in ["c1", "c6", "c7", "nobody"] {
            let (a, b) = (try await postgres.consumer(consumer), try await sqlite.consumer(consumer))
            #expect(a?.consumer == b?.consumer && a?.entry == b?.entry)
        }

        let tiles = [
            Tile(kind: .entries, index: 0, width: Int(size)), Tile(kind: .entries, index: 0, width: 5),
            Tile(kind: .hashes(level: 0), index: 0, width: Int(size)), Tile(kind: .entries, index: 1, width: 1),
        ]
        for tile in tiles {
            let bytes = try await postgres.tile(tile)
            #expect(try await sqlite.tile(tile) == bytes)
            #expect(try await postgres.signatures(tile) == sqlite.signatures(tile))
            let data = try await postgres.dataEntries(tile)
            let sqliteData = try await sqlite.dataEntries(tile)
            #expect(data?.map(\.index) == sqliteData?.map(\.index) && data?.map(\.kind) == sqliteData?.map(\.kind))
            for entry in data ?? [] {
                #expect(try await postgres.dataLines(ofEntry: entry.index, kind: entry.kind)
                    == sqlite.dataLines(ofEntry: entry.index, kind: entry.kind))
            }
        }
        #expect(try await postgres.tile(tiles[0]) != nil)
        #expect(try await postgres.dataEntries(tiles[0])?.count ?? 0 >= 10)
    }

    /// The accounting reads of a month closed, restated and closed again: its signed
    /// scores, each consumer's score with its explanation's basis, emissions by the hour
    /// and by the day (over corrected readings), and what the period closer asks.
    static func expectSameAccountingAnswers(_ sqlite: LedgerReader, _ postgres: LedgerReader) async throws {
        let program = Program()
        let period = program.period(containing: hour)
        let scores = try await postgres.periodScores(period)
        #expect(scores.scores.count >= 4)
        let sqliteScores = try await sqlite.periodScores(period)
        #expect("\(scores.scores)" == "\(sqliteScores.scores)")
        #expect(scores.scoreEntries == sqliteScores.scoreEntries && scores.periodEntry == sqliteScores.periodEntry)
        #expect(!scores.provisional && !sqliteScores.provisional)
        for consumer in ["c1", "c2", "c3", "c6", "c7", "nobody"] {
            let score = try await postgres.consumerScore(period, consumer: consumer)
            #expect("\(String(describing: score))" == "\(String(describing: try await sqlite.consumerScore(period, consumer: consumer)))")
            for step in [EmissionsStepKind.hour, .day] {
                let series = try await postgres.emissions(consumer: consumer, from: hour - 86_400, to: hour + 86_400, step: step)
                #expect(try await sqlite.emissions(consumer: consumer, from: hour - 86_400, to: hour + 86_400, step: step) == series)
                if consumer == "c1" { #expect(!series.isEmpty) }
            }
        }
        let due = try await postgres.periodDue(closeAfter: 0, now: .max)
        #expect(due == period.next)
        #expect(try await sqlite.periodDue(closeAfter: 0, now: .max) == due)
        #expect(try await postgres.closedPeriods(from: 0) == [period])
        #expect(try await sqlite.closedPeriods(from: 0) == [period])
        #expect(try await postgres.openRestatement(of: period) == nil)
    }


}
