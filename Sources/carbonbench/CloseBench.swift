import CarbonAccounting
import CarbonLedger
import CarbonModel
import CarbonStore
import Foundation
import TransparencyLog

/// Closing months of the prefilled database: every reading of the month accounted,
/// one `score` entry per consumer signed, all in one durable transaction.
struct CloseBench {
    let setup: BenchSetup

    struct Result {
        var period: Period
        var readings: Int
        var seconds: Double
        /// CPU time the process spent (the writer thread, nearly all of it).
        var cpuSeconds: Double
        /// Resident memory before the close, and its peak during it.
        var residentBefore: Int
        var peak: Int
    }

    /// Closes the first month of the prefilled hours, then the next, on a copy of `database`.
    func run(database: URL) async throws -> [Result] {
        let copy = try setup.copy(database, to: "close.db")
        let program = Program(calendar: try SystemTimeZones.calendar("Asia/Shanghai"))
        let store = try CarbonStore(
            path: copy.path, signer: KeyFile.load(path: setup.keyPath), synchronous: .full, zones: nil, program: program)
        defer { store.close() }
        let firstMonth = program.period(containing: setup.firstHour)
        try await Self.loadFactorsAndCertificates(store, meters: setup.meters, months: [firstMonth, firstMonth.next])

        var results: [Result] = []
        for period in [firstMonth, firstMonth.next] {
            let (start, end) = program.span(of: period)
            let hours = min(Int((end - start) / 3600), setup.prefillHours - Int((start - setup.firstHour) / 3600))
            Memory.resetPeak()
            let before = Memory.resident()
            let started = DispatchTime.now()
            let cpuBefore = Memory.cpuSeconds()
            let outcome = try await store.writer.close(period)
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - started.uptimeNanoseconds) / 1e9
            let cpuSeconds = Memory.cpuSeconds() - cpuBefore
            guard case .closed(let answer) = outcome, answer.consumers == setup.meters else {
                throw BenchFailure("closing \(period) failed: \(outcome)")
            }
            results.append(Result(
                period: period, readings: hours * setup.meters, seconds: seconds, cpuSeconds: cpuSeconds,
                residentBefore: before, peak: Memory.peak()))
        }
        return results
    }

    /// An annual dataset and an hourly series for the bench zone, and a monthly
    /// certificate for one consumer in ten, so every code path of the close runs.
    static func loadFactorsAndCertificates(_ store: CarbonStore, meters: Int, months: [Period]) async throws {
        let program = store.program
        let year = months[0].firstDate.year
        let annual = [
            FactorRow.annual(zone: "CN", kind: .average, year: year, mgPerKWh: 581_000, source: "bench", dataset: "annual", calendar: program.calendar),
            FactorRow.annual(zone: "CN", kind: .residual, year: year, mgPerKWh: 604_000, source: "bench", dataset: "annual", calendar: program.calendar),
        ]
        var hourly: [FactorRow] = []
        let (from, _) = program.span(of: months[0])
        let (_, to) = program.span(of: months[months.count - 1])
        for (k, hour) in stride(from: from, to: to, by: 3600).enumerated() {
            hourly.append(FactorRow(
                zone: "CN-ZJ", kind: .average, start: hour, end: hour + 3600, mgPerKWh: Int64(450_000 + (k * 7_919) % 200_000),
                source: "bench-hourly", dataset: "hourly"))
        }
        for dataset in [FactorDataset(name: "annual", rows: annual), FactorDataset(name: "hourly", rows: hourly)] {
            guard case .committed = try await store.writer.submit(.factors(dataset)) else {
                throw BenchFailure("loading factor dataset \(dataset.name) failed")
            }
        }
        var certificates: [Certificate] = []
        for month in months {
            let (start, end) = program.span(of: month)
            for consumer in stride(from: 0, to: meters, by: 10) {
                certificates.append(Certificate(
                    id: "gec-\(month)-\(consumer)", consumer: "c\(consumer)", start: start, end: end, wh: 300_000,
                    technology: "solar", issuer: "bench"))
            }
        }
        let outcome = try await store.writer.submit(.certificates(CertificateBatch(
            submitter: Submitter(utility: nil), certificates: certificates, recordIndex: Array(certificates.indices),
            parseErrors: [])))
        guard case .committed = outcome else { throw BenchFailure("registering certificates failed: \(outcome)") }
    }
}

/// This process's resident memory, from /proc/self/status, and CPU time.
enum Memory {
    static func cpuSeconds() -> Double {
        var time = timespec()
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &time)
        return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
    }

    static func resident() -> Int { status("VmRSS:") }
    static func peak() -> Int { status("VmHWM:") }

    /// Restarts the peak (VmHWM) from the current resident size.
    static func resetPeak() {
        try? "5".write(toFile: "/proc/self/clear_refs", atomically: false, encoding: .utf8)
    }

    private static func status(_ field: String) -> Int {
        guard let text = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return 0 }
        for line in text.split(separator: "\n") where line.hasPrefix(field) {
            let kilobytes = line.dropFirst(field.count).split(whereSeparator: \.isWhitespace).first.flatMap { Int($0) } ?? 0
            return kilobytes * 1024
        }
        return 0
    }
}
