import CarbonClient
import Foundation

/// Corrections against ingest, batch for batch: one client pushes an hour of every
/// meter, then corrects every reading of that hour (an estimate replaced by the
/// metered value), one durable commit each, through the daemon's socket.
struct CorrectionBench {
    let setup: BenchSetup

    struct Result {
        /// Records in each batch.
        var batchSize: Int
        /// Seconds each ingest batch took, and each correction batch of the same readings.
        var ingest: [Double]
        var corrections: [Double]
    }

    func run(prefilled: URL, batches: Int) throws -> Result {
        let database = try setup.copy(prefilled, to: "corrections.db")
        let (daemon, socket) = try setup.startDaemon(database: database)
        defer {
            daemon.terminate()
            daemon.waitUntilExit()
        }
        let client = try UnixHTTPClient(socketPath: socket)
        func post(_ path: String, _ body: [UInt8]) throws -> Double {
            let started = DispatchTime.now()
            let response = try client.request(
                "POST", path, headers: [("Content-Type", "application/x-ndjson")], body: body)
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - started.uptimeNanoseconds) / 1e9
            guard response.status == 200, response.text.contains("\"accepted\":\(setup.meters)") else {
                throw BenchFailure("\(path): HTTP \(response.status) \(response.text.prefix(400))")
            }
            return seconds
        }
        var result = Result(batchSize: setup.meters, ingest: [], corrections: [])
        for k in 0..<batches {
            let hour = setup.prefillHours + 10_000 + k  // past anything the other benchmarks push
            result.ingest.append(try post("/v1/readings", setup.ndjsonBatch(hour: hour, quality: "estimated")))
            result.corrections.append(try post("/v1/readings?correct=true", correctionBatch(hour: hour)))
        }
        return result
    }

    /// Every meter's reading of `hour` again, metered now, with 11 Wh more.
    private func correctionBatch(hour: Int) -> [UInt8] {
        var body: [UInt8] = []
        body.reserveCapacity(setup.meters * 220)
        for meter in 0..<setup.meters {
            let r = setup.reading(meter: meter, hour: hour)
            body += Array("""
                {"utility":"\(r.utility)","meter":"\(r.meter)","consumer":"\(r.consumer)","start":\(r.start),\
                "duration_s":3600,"import_wh":\(r.importWh + 11),"quality":"actual","id":"\(r.id!)",\
                "reason":"estimated_to_actual"}\n
                """.utf8)
        }
        return body
    }
}
