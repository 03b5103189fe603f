import CarbonClient
import CarbonAPI
import CarbonLedger
import CarbonModel
import CarbonStore
import Foundation
import GRDB
import GRDBSQLite
import TransparencyLog

#if canImport(Glibc)
import Glibc
#endif

/// The benchmark's data: `meters` meters, each with its own consumer, hourly readings.
struct BenchSetup {
    let directory: URL
    let meters: Int
    let prefillHours: Int
    let origin = "bench.carbonledger.local/ingest"
    let firstHour: Int64 = 1_767_196_800  // 2026-01-01T00:00:00+08:00 is 1767196800 - 28800; any whole hour will do

    var keyPath: String { directory.appendingPathComponent("bench.key").path }

    func reading(meter: Int, hour: Int) -> Reading {
        let start = firstHour + Int64(hour) * 3600
        let name = "m\(meter)"
        return Reading(
            utility: "bench-grid", meter: name, consumer: "c\(meter)", start: start, durationS: 3600,
            importWh: Int64(200 + (meter * 7 + hour * 13) % 1800), exportWh: 0,
            quality: .actual, id: "\(name)-\(start)")
    }

    /// One hour of the meters (all by default) as an NDJSON body.
    func ndjsonBatch(hour: Int, meters: Range<Int>? = nil, quality: String = "actual") -> [UInt8] {
        let meters = meters ?? 0..<self.meters
        var body: [UInt8] = []
        body.reserveCapacity(meters.count * 190)
        for meter in meters {
            let r = reading(meter: meter, hour: hour)
            body += Array("""
                {"utility":"\(r.utility)","meter":"\(r.meter)","consumer":"\(r.consumer)","start":\(r.start),\
                "duration_s":3600,"import_wh":\(r.importWh),"quality":"\(quality)","id":"\(r.id!)"}\n
                """.utf8)
        }
        return body
    }

    /// A database holding `prefillHours` hours of every meter, written through the
    /// store itself (so its ledger is real), built once and kept.
    func prefilledDatabase() async throws -> URL {
        let url = directory.appendingPathComponent("prefilled-\(meters)x\(prefillHours).db")
        if FileManager.default.fileExists(atPath: url.path) { return url }
        if !FileManager.default.fileExists(atPath: keyPath) { _ = try KeyFile.create(path: keyPath, origin: origin) }
        let building = directory.appendingPathComponent("building.db")
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: building.path + suffix) }
        let zones = try ZoneTree([Zone(zone: "CN", parent: nil, name: "China"), Zone(zone: "CN-ZJ", parent: "CN", name: "Zhejiang")])
        let store = try CarbonStore(path: building.path, signer: KeyFile.load(path: keyPath), synchronous: .normal, zones: zones)
        let consumers = (0..<meters).map {
            Consumer(id: "c\($0)", utility: "bench-grid", zone: "CN-ZJ", consumerClass: .residential, normalizer: 1)
        }
        _ = try await store.writer.submit(.consumers(ConsumerBatch(
            submitter: Submitter(utility: nil), partial: false, consumers: consumers,
            recordIndex: Array(consumers.indices), parseErrors: [])))
        let started = Date()
        let hoursPerBatch = max(1, 100_000 / meters)
        for firstHour in stride(from: 0, to: prefillHours, by: hoursPerBatch) {
            var readings: [Reading] = []
            for hour in firstHour..<min(firstHour + hoursPerBatch, prefillHours) {
                for meter in 0..<meters { readings.append(reading(meter: meter, hour: hour)) }
            }
            let outcome = try await store.writer.submit(.readings(ReadingBatch(
                submitter: Submitter(utility: nil), batchID: nil, partial: false,
                hashed: HashedReadings(readings: readings, recordIndex: Array(readings.indices)), parseErrors: [])))
            guard case .committed(let result) = outcome, result.accepted == readings.count else {
                throw BenchFailure("prefill batch at hour \(firstHour) was not accepted: \(outcome)")
            }
            if firstHour % (hoursPerBatch * 50) == 0 {
                print("prefill: \(firstHour * meters) readings, \(Int(Date().timeIntervalSince(started)))s")
            }
        }
        store.close()
        try await DatabaseQueue(path: building.path).writeWithoutTransaction { db in
            try db.execute(sql: "PRAGMA wal_checkpoint(TRUNCATE)")
        }
        try FileManager.default.moveItem(at: building, to: url)
        print("prefill: done in \(Int(Date().timeIntervalSince(started)))s")
        return url
    }

    /// A fresh copy of the prefilled database to measure on.
    func copy(_ database: URL, to name: String) throws -> URL {
        let copy = directory.appendingPathComponent(name)
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: copy.path + suffix) }
        try FileManager.default.copyItem(at: database, to: copy)
        // Write the copy out now, so its writeback does not compete with the measured fsyncs.
        sync()
        return copy
    }

    /// End to end: a real daemon, `clients` threads posting the batches.
    /// `ledgerConfig` adds lines to the daemon's `[ledger]`; `beforeStopping` runs once
    /// every batch is answered, with the daemon's socket.
    func measureDaemon(
        database: URL, batches: [[UInt8]], clients: Int, ledgerConfig: String = "",
        beforeStopping: (String) throws -> Void = { _ in }
    ) throws -> Measurement {
        let run = try copy(database, to: "run.db")
        let (daemon, socket) = try startDaemon(database: run, ledgerConfig: ledgerConfig)
        defer {
            daemon.terminate()
            daemon.waitUntilExit()
        }

        let sizeBefore = fileSize(run.path) + fileSize(run.path + "-wal")
        let writtenBefore = try ProcessIO.writeBytes(pid: daemon.processIdentifier)
        let walBefore = try metric(socket, "carbonledger_wal_bytes_written_total")
        let next = Counter()
        let failures = Failures()
        let started = DispatchTime.now()
        let done = DispatchGroup()
        for _ in 0..<clients {
            done.enter()
            Thread {
                defer { done.leave() }
                do {
                    let client = try UnixHTTPClient(socketPath: socket)
                    while let index = next.take(below: batches.count) {
                        let response = try client.request(
                            "POST", "/v1/readings?batch=bench-\(index)",
                            headers: [("Content-Type", "application/x-ndjson")], body: batches[index])
                        guard response.status == 200, response.text.contains("\"accepted\":\(meters)") else {
                            throw BenchFailure("batch \(index): HTTP \(response.status) \(response.text.prefix(400))")
                        }
                    }
                } catch {
                    failures.add("\(error)")
                }
            }.start()
        }
        done.wait()
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - started.uptimeNanoseconds) / 1e9
        if let failure = failures.first { throw BenchFailure(failure) }
        try beforeStopping(socket)
        let walAfter = try metric(socket, "carbonledger_wal_bytes_written_total")
        return Measurement(
            seconds: seconds, bytesWritten: try ProcessIO.writeBytes(pid: daemon.processIdentifier) - writtenBefore,
            walBytes: Int(walAfter - walBefore),
            databaseGrowth: fileSize(run.path) + fileSize(run.path + "-wal") - sizeBefore)
    }

    /// The floor: the same rows inserted with prepared statements, one durable transaction per batch.
    func measureFloor(database: URL, hours: Range<Int>) throws -> Measurement {
        let floor = try copy(database, to: "floor.db")
        var handle: OpaquePointer?
        guard sqlite3_open(floor.path, &handle) == SQLITE_OK, let db = handle else { throw BenchFailure("open floor.db") }
        defer { sqlite3_close(db) }
        func exec(_ sql: String) throws {
            guard sqlite3_exec(db, sql, nil, nil, nil) == SQLITE_OK else {
                throw BenchFailure("\(sql): \(String(cString: sqlite3_errmsg(db)))")
            }
        }
        try exec("PRAGMA journal_mode = WAL")
        try exec("PRAGMA synchronous = FULL")
        try exec("PRAGMA cache_size = -65536")
        let monitor = WALMonitor()
        monitor.install(on: db)

        // The ids the daemon gave meters and consumers are the same in the copy.
        var meterID: [Int64] = []
        var consumerID: [Int64] = []
        var lookup: OpaquePointer?
        sqlite3_prepare_v2(db, "SELECT id FROM meters WHERE meter = ?", -1, &lookup, nil)
        var consumerLookup: OpaquePointer?
        sqlite3_prepare_v2(db, "SELECT id FROM consumers WHERE consumer = ?", -1, &consumerLookup, nil)
        for meter in 0..<meters {
            sqlite3_bind_text(lookup, 1, "m\(meter)", -1, SQLiteTransient)
            sqlite3_step(lookup)
            meterID.append(sqlite3_column_int64(lookup, 0))
            sqlite3_reset(lookup)
            sqlite3_bind_text(consumerLookup, 1, "c\(meter)", -1, SQLiteTransient)
            sqlite3_step(consumerLookup)
            consumerID.append(sqlite3_column_int64(consumerLookup, 0))
            sqlite3_reset(consumerLookup)
        }
        sqlite3_finalize(lookup)
        sqlite3_finalize(consumerLookup)

        var insert: OpaquePointer?
        sqlite3_prepare_v2(db, """
            INSERT INTO readings(start, meter, consumer, duration_s, import_wh, export_wh, quality, ref, batch, position)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """, -1, &insert, nil)
        defer { sqlite3_finalize(insert) }
        // Rows are built before the clock starts, as the daemon's clients build their bodies.
        let rows = hours.map { hour in (0..<meters).map { reading(meter: $0, hour: hour) } }
        let sizeBefore = fileSize(floor.path) + fileSize(floor.path + "-wal")
        let writtenBefore = try ProcessIO.writeBytes(pid: getpid())
        let started = DispatchTime.now()
        for (number, batch) in rows.enumerated() {
            try exec("BEGIN IMMEDIATE")
            sqlite3_bind_int64(insert, 9, Int64(1_000_000 + number))
            for (meter, r) in batch.enumerated() {
                sqlite3_bind_int64(insert, 1, r.start)
                sqlite3_bind_int64(insert, 2, meterID[meter])
                sqlite3_bind_int64(insert, 3, consumerID[meter])
                sqlite3_bind_int64(insert, 4, r.durationS)
                sqlite3_bind_int64(insert, 5, r.importWh)
                sqlite3_bind_int64(insert, 6, r.exportWh)
                sqlite3_bind_int64(insert, 7, 0)
                sqlite3_bind_text(insert, 8, r.id!, -1, SQLiteTransient)
                sqlite3_bind_int64(insert, 10, Int64(meter))
                guard sqlite3_step(insert) == SQLITE_DONE else { throw BenchFailure(String(cString: sqlite3_errmsg(db))) }
                sqlite3_reset(insert)
            }
            try exec("COMMIT")
        }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - started.uptimeNanoseconds) / 1e9
        return Measurement(
            seconds: seconds, bytesWritten: try ProcessIO.writeBytes(pid: getpid()) - writtenBefore,
            walBytes: monitor.bytesWritten(),
            databaseGrowth: fileSize(floor.path) + fileSize(floor.path + "-wal") - sizeBefore)
    }

    /// A real carbonledgerd (built beside this binary) on `database`, answering on its socket.
    func startDaemon(database: URL, ledgerConfig: String = "") throws -> (Process, String) {
        // Every bench database is a ledger of its own under the one bench key: the
        // record of the highest checkpoint signed belongs to whichever ran last, and
        // the daemon would rightly refuse to sign on from another.
        try? FileManager.default.removeItem(atPath: HighestCheckpoint.path(keyPath: keyPath, origin: origin))
        let socket = directory.appendingPathComponent("bench.sock").path
        let config = directory.appendingPathComponent("bench.toml")
        try """
            [daemon]
            socket = "\(socket)"
            database = "\(database.path)"
            [ledger]
            origin = "\(origin)"
            key = "\(keyPath)"
            \(ledgerConfig)
            [program]
            factors = []
            close_after = "36500d"
            [limits]
            max_records_per_batch = 100000
            [[access.grant]]
            self = true
            role = "admin"
            """.write(to: config, atomically: true, encoding: .utf8)
        let daemon = Process()
        daemon.executableURL = Self.sibling("carbonledgerd")
        daemon.arguments = ["--config", config.path, "--log-level", "warning"]
        try daemon.run()
        try waitForSocket(socket, process: daemon)
        return (daemon, socket)
    }

    /// An executable built beside this one.
    static func sibling(_ name: String) -> URL {
        URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent(name)
    }

    private func waitForSocket(_ path: String, process: Process) throws {
        let deadline = Date().addingTimeInterval(120)
        while Date() < deadline {
            guard process.isRunning else { throw BenchFailure("carbonledgerd exited with \(process.terminationStatus)") }
            if let client = try? UnixHTTPClient(socketPath: path), (try? client.request("GET", "/v1/health"))?.status == 200 {
                return
            }
            usleep(20_000)
        }
        throw BenchFailure("carbonledgerd did not answer on \(path)")
    }

    private func metric(_ socket: String, _ name: String) throws -> Double {
        let text = try UnixHTTPClient(socketPath: socket).request("GET", "/metrics").text
        for line in text.split(separator: "\n") where line.hasPrefix(name + " ") {
            if let value = Double(line.dropFirst(name.count + 1)) { return value }
        }
        throw BenchFailure("/metrics has no \(name)")
    }
}

private let SQLiteTransient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

func fileSize(_ path: String) -> Int {
    ((try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? NSNumber)?.intValue ?? 0
}

/// Bytes a process has sent to storage, from /proc/PID/io.
enum ProcessIO {
    static func writeBytes(pid: Int32) throws -> Int {
        let text = try String(contentsOfFile: "/proc/\(pid)/io", encoding: .utf8)
        for line in text.split(separator: "\n") where line.hasPrefix("write_bytes:") {
            return Int(line.dropFirst("write_bytes:".count).trimmingCharacters(in: .whitespaces)) ?? 0
        }
        throw BenchFailure("/proc/\(pid)/io has no write_bytes")
    }
}

final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var value = 0

    func take(below limit: Int) -> Int? {
        lock.lock()
        defer { lock.unlock() }
        guard value < limit else { return nil }
        value += 1
        return value - 1
    }
}

final class Failures: @unchecked Sendable {
    private let lock = NSLock()
    private var messages: [String] = []

    func add(_ message: String) {
        lock.lock()
        messages.append(message)
        lock.unlock()
    }

    var first: String? {
        lock.lock()
        defer { lock.unlock() }
        return messages.first
    }
}

struct BenchFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
