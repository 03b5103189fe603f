import ArgumentParser
import CarbonClient
import CarbonLedger
import CarbonPostgres
import CarbonModel
import CarbonStore
import Foundation
import GRDB
import TransparencyLog

/// The ingest benchmark of `make bench`: readings pushed over the socket, end to
/// end, against the floor of raw SQLite inserts of the same rows.
@main
struct CarbonBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "carbonbench",
        abstract: "Measure ingest end to end over the socket against the raw SQLite floor, and closing months.",
        discussion: """
            Fills a database with --prefill-hours hours of --meters meters (10 million
            readings by default; kept in --dir and reused by later runs), then has
            --clients concurrent clients push --hours more hours in head-end order (all
            meters' hour h, then hour h+1), one NDJSON batch per hour, durably, through a
            real carbonledgerd. Then inserts the same rows with the SQLite C API into a copy
            of the same database: the floor. Last, closes the first two months of the
            prefilled hours on another copy: every reading accounted, one signed score per
            consumer, timed with the peak memory it took.
            """)

    @Option(help: "Working folder (the prefilled database is kept here).")
    var dir = "var/bench"
    @Option(name: [.customLong("consumers"), .customLong("meters")],
            help: "Consumers (one meter each); one ingest batch is one hour of all meters.")
    var meters = 10_000
    @Option(help: "Hours of readings already stored before measuring.")
    var prefillHours = 1_000
    @Option(help: "Hours pushed while measuring.")
    var hours = 60
    @Option(help: "Concurrent clients.")
    var clients = 4
    @Flag(help: "Measure only closing months (the accounting benchmark).")
    var closeOnly = false
    @Flag(help: "Measure only the offline audit.")
    var auditOnly = false
    @Flag(help: "Measure only the read path (scores, proofs, emissions beside a bare Hummingbird floor).")
    var readOnly = false
    @Flag(help: "Measure only what two witnesses (2-of-2) cost ingest, and how soon they cosign.")
    var witnessesOnly = false

    @Flag(help: "Measure only corrections against ingest of the same batches.")
    var correctionsOnly = false
    @Flag(help: "Measure only the PostgreSQL write path against its COPY floor (and the SQLite floor beside them).")
    var postgresOnly = false
    @Option(help: "Seconds each read-path load runs.")
    var readSeconds = 10
    @Option(help: "Entries of the audited ledger (a smaller one is audited too, to compare memory).")
    var auditEntries = 1_000_000

    func run() async throws {
        let work = URL(fileURLWithPath: dir, isDirectory: true)
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
        let setup = BenchSetup(directory: work, meters: meters, prefillHours: prefillHours)
        if readOnly {
            try await measureReads(setup: setup, prefilled: try await setup.prefilledDatabase())
            return
        }
        if witnessesOnly {
            try measureWitnesses(setup: setup, prefilled: try await setup.prefilledDatabase())
            return
        }
        if postgresOnly {
            let prefilled = try await setup.prefilledDatabase()
            try await onOwnThread { try measurePostgres(setup: setup, prefilled: prefilled) }
            return
        }
        if correctionsOnly {
            try measureCorrections(setup: setup, prefilled: try await setup.prefilledDatabase())
            return
        }
        if !auditOnly {
            let prefilled = try await setup.prefilledDatabase()
            if !closeOnly {
                try measureIngest(setup: setup, prefilled: prefilled)
                try measureCorrections(setup: setup, prefilled: prefilled)
                try measureWitnesses(setup: setup, prefilled: prefilled)
                try await onOwnThread { try measurePostgres(setup: setup, prefilled: prefilled) }
            }
            try await measureClose(setup: setup, prefilled: prefilled)
            if !closeOnly { try await measureReads(setup: setup, prefilled: prefilled) }
        }
        if !closeOnly { try await measureAudit(setup: setup) }
    }

    private func measureAudit(setup: BenchSetup) async throws {
        let bench = AuditBench(setup: setup)
        let rate = try AuditBench.libsodiumVerifyRate()
        let small = try await bench.run(entries: auditEntries / 10)
        let large = try await bench.run(entries: auditEntries)
        let cores = ProcessInfo.processInfo.activeProcessorCount
        print("""

            audit benchmark: carbonctl audit of an exported bundle (signatures, tiles, root, data, scores recomputed)
            libsodium Ed25519 verify, one core: \(Int(rate))/s; cores: \(cores) (target: >= 80 % of rate x cores)
            | entries | seconds | entries/s | CPU seconds | of libsodium's rate x cores | peak memory MiB |
            |---:|---:|---:|---:|---:|---:|
            """)
        for r in [small, large] {
            let perSecond = Double(r.entries) / r.seconds
            let share = String(format: "%.0f%%", 100 * perSecond / (rate * Double(cores)))
            let memory = String(format: "%.1f", Double(r.maxResidentBytes) / 1_048_576)
            print("| \(r.entries) | \(String(format: "%.1f", r.seconds)) | \(Int(perSecond)) | \(String(format: "%.1f", r.cpuSeconds)) | \(share) | \(memory) |")
        }
    }

    private func measureIngest(setup: BenchSetup, prefilled: URL) throws {
        let batches = (0..<hours).map { setup.ndjsonBatch(hour: prefillHours + $0) }
        let readings = hours * meters

        let endToEnd = try setup.measureDaemon(database: prefilled, batches: batches, clients: clients)
        let floor = try setup.measureFloor(database: prefilled, hours: prefillHours..<(prefillHours + hours))

        func rate(_ seconds: Double) -> Int { Int(Double(readings) / seconds) }
        print("""

            ingest benchmark: \(readings) readings (\(hours) batches of \(meters)) into a database of \
            \(prefillHours * meters) readings, \(clients) clients, synchronous=FULL
            | path | readings/s | disk bytes written/reading | WAL bytes/reading | database growth bytes/reading |
            |---|---:|---:|---:|---:|
            | end to end (socket, NDJSON, ledger) | \(rate(endToEnd.seconds)) | \(endToEnd.bytesWritten / readings) | \
            \(endToEnd.walBytes / readings) | \(endToEnd.databaseGrowth / readings) |
            | floor (SQLite C API, same rows and indexes) | \(rate(floor.seconds)) | \(floor.bytesWritten / readings) | \
            \(floor.walBytes / readings) | \(floor.databaseGrowth / readings) |
            ratio end to end / floor: \(String(format: "%.2f", floor.seconds / endToEnd.seconds))
            """)
    }

    private func measurePostgres(setup: BenchSetup, prefilled: URL) throws {
        let r = try PostgresBench(setup: setup, hours: hours).run()
        let sqlite = try setup.measureFloor(database: prefilled, hours: prefillHours..<(prefillHours + hours))
        let readings = hours * meters
        func rate(_ seconds: Double) -> Int { Int(Double(readings) / seconds) }
        print("""
            PostgreSQL benchmark: \(readings) readings (\(hours) batches of \(meters), one transaction each) onto \
            \(prefillHours * meters) prefilled, PostgreSQL 15 with fsync on, a throwaway cluster on a Unix socket
            | path | readings/s | median ms a batch |
            |---|---:|---:|
            | PostgreSQL floor: one COPY a batch | \(rate(r.floor)) | \(String(format: "%.1f", r.floorMs)) |
            | PostgreSQL ingest: the store's writer (decisions, COPY, hour sums, ledger) | \(rate(r.ingest)) | \
            \(String(format: "%.1f", r.ingestMs)) |
            | SQLite floor (C API, same rows, same run) | \(rate(sqlite.seconds)) | |
            ingest / COPY floor: \(String(format: "%.2f", r.floor / r.ingest)) (target >= 0.8)
            """)
    }

    private func measureWitnesses(setup: BenchSetup, prefilled: URL) throws {
        let batches = (0..<hours).map { setup.ndjsonBatch(hour: prefillHours + $0) }
        let r = try WitnessBench(setup: setup).run(prefilled: prefilled, batches: batches, clients: clients)
        func rate(_ m: Measurement) -> Int { Int(Double(hours * meters) / m.seconds) }
        print("""

            witness benchmark: the ingest above, without witnesses and with two carbonctl witness processes (2-of-2)
            | ingest | readings/s |
            |---|---:|
            | without witnesses | \(rate(r.plain)) |
            | two witnesses, each checkpoint pushed | \(rate(r.witnessed)) |
            with / without: \(String(format: "%.2f", r.plain.seconds / r.witnessed.seconds)); \
            the cosigned checkpoint covered the last batch \(String(format: "%.0f", r.catchUpSeconds * 1000)) ms after its answer
            """)
    }

    private func measureCorrections(setup: BenchSetup, prefilled: URL) throws {
        let r = try CorrectionBench(setup: setup).run(prefilled: prefilled, batches: 20)
        func median(_ xs: [Double]) -> Double { xs.sorted()[xs.count / 2] }
        let (ingest, corrections) = (median(r.ingest), median(r.corrections))
        func rate(_ seconds: Double) -> Int { Int(Double(r.batchSize) / seconds) }
        print("""

            correction benchmark: \(r.ingest.count) batches of \(r.batchSize) readings pushed estimated, each then \
            corrected (one client, one commit a batch, synchronous=FULL); medians
            | batch | ms | readings/s |
            |---|---:|---:|
            | ingest | \(String(format: "%.1f", ingest * 1000)) | \(rate(ingest)) |
            | corrections of the same readings | \(String(format: "%.1f", corrections * 1000)) | \(rate(corrections)) |
            corrections / ingest: \(String(format: "%.2f", ingest / corrections)) (target >= 0.5)
            """)
    }

    private func measureReads(setup: BenchSetup, prefilled: URL) async throws {
        let loads = try await ReadBench(setup: setup, seconds: readSeconds).run(prefilled: prefilled)
        print("""

            read-path benchmark: \(setup.meters) consumers, hourly readings, the first month closed and the next \
            open, 8 connections, \(readSeconds) s a load
            | request | requests/s | p50 ms | p99 ms | p999 ms | max ms | errors | non-2xx |
            |---|---:|---:|---:|---:|---:|---:|---:|
            """)
        for l in loads {
            let ms = [l.p50, l.p99, l.p999, l.max].map { String(format: "%.2f", $0) }.joined(separator: " | ")
            print("| \(l.name) | \(Int(l.rate)) | \(ms) | \(l.errors) | \(l.non2xx) |")
        }
        if let hello = loads.first, let health = loads.first(where: { $0.name == "health" }) {
            print("health / bare Hummingbird: \(String(format: "%.2f", health.rate / hello.rate)) (target >= 0.6)")
        }
    }

    private func measureClose(setup: BenchSetup, prefilled: URL) async throws {
        let results = try await CloseBench(setup: setup).run(database: prefilled)
        print("""

            close benchmark: \(setup.meters) consumers with hourly readings, an hourly factor series, \
            \(setup.meters / 10) certificates a month, synchronous=FULL
            | period | readings | seconds | readings accounted/s | CPU seconds | readings/CPU-second | resident before MiB | peak MiB |
            |---|---:|---:|---:|---:|---:|---:|---:|
            """)
        for r in results {
            let rate = Int(Double(r.readings) / r.seconds)
            let memory = String(format: "%.1f | %.1f", Double(r.residentBefore) / 1_048_576, Double(r.peak) / 1_048_576)
            let perCPU = Int(Double(r.readings) / r.cpuSeconds)
            let cpu = String(format: "%.2f", r.cpuSeconds)
            print("| \(r.period) | \(r.readings) | \(String(format: "%.2f", r.seconds)) | \(rate) | \(cpu) | \(perCPU) | \(memory) |")
        }
    }
}

/// What one measured run did.
struct Measurement {
    var seconds: Double
    /// Bytes the process sent to storage (/proc/PID/io write_bytes): WAL and checkpoints.
    var bytesWritten: Int
    /// WAL frames appended, in bytes (page plus frame header).
    var walBytes: Int
    var databaseGrowth: Int
}
