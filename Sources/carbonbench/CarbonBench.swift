import ArgumentParser
import CarbonClient
import CarbonLedger
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
        abstract: "Measure ingest end to end over the socket against the raw SQLite floor.",
        discussion: """
            Fills a database with --prefill-hours hours of --meters meters (10 million
            readings by default; kept in --dir and reused by later runs), then has
            --clients concurrent clients push --hours more hours in head-end order (all
            meters' hour h, then hour h+1), one NDJSON batch per hour, durably, through a
            real carbonledgerd. Then inserts the same rows with the SQLite C API into a copy
            of the same database: the floor.
            """)

    @Option(help: "Working folder (the prefilled database is kept here).")
    var dir = "var/bench"
    @Option(help: "Meters (and consumers); one batch is one hour of all meters.")
    var meters = 10_000
    @Option(help: "Hours of readings already stored before measuring.")
    var prefillHours = 1_000
    @Option(help: "Hours pushed while measuring.")
    var hours = 60
    @Option(help: "Concurrent clients.")
    var clients = 4

    func run() async throws {
        let work = URL(fileURLWithPath: dir, isDirectory: true)
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
        let setup = BenchSetup(directory: work, meters: meters, prefillHours: prefillHours)
        let prefilled = try await setup.prefilledDatabase()
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
