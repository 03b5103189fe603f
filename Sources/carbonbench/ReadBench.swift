import CarbonAccounting
import CarbonClient
import CarbonLedger
import CarbonModel
import CarbonStore
import Foundation

/// The read side on the prefilled database with its first month closed and the next
/// one open: what consumers, portals and auditors ask most, at 8 connections, each
/// beside its floor from the same run (a bare Hummingbird answer on a Unix socket).
struct ReadBench {
    let setup: BenchSetup
    let seconds: Int
    let connections = 8

    /// What `uload` reported for one run.
    struct Load {
        var name: String
        var requests: Int
        var rate: Double
        var errors: Int
        var non2xx: Int
        var p50: Double
        var p99: Double
        var p999: Double
        var max: Double
    }

    func run(prefilled: URL) async throws -> [Load] {
        let database = try await prepare(prefilled)
        var loads: [Load] = []

        let helloSocket = setup.directory.appendingPathComponent("hello.sock").path
        try? FileManager.default.removeItem(atPath: helloSocket)
        let hello = Process()
        hello.executableURL = BenchSetup.sibling("benchhello")
        hello.arguments = [helloSocket]
        try hello.run()
        defer {
            hello.terminate()
            hello.waitUntilExit()
        }
        try waitForFile(helloSocket)
        loads.append(try uload("bare Hummingbird hello (floor)", socket: helloSocket, paths: ["/hello"]))

        let (daemon, socket) = try setup.startDaemon(database: database)
        defer {
            daemon.terminate()
            daemon.waitUntilExit()
        }
        let program = Program(calendar: try SystemTimeZones.calendar("Asia/Shanghai"))
        let closed = program.period(containing: setup.firstHour)
        let open = closed.next
        let consumers = (0..<256).map { ($0 * 7_919) % setup.meters }
        let closedHours = Int((program.span(of: closed).end - setup.firstHour) / 3600)
        loads.append(try uload("health", socket: socket, paths: ["/v1/health"]))
        loads.append(try uload(
            "closed score", socket: socket, paths: consumers.map { "/v1/consumers/c\($0)/score?period=\(closed)" }))
        let provisional = consumers.map { "/v1/consumers/c\($0)/score?period=\(open)" }
        // The first request for an open period waits for its snapshot (every consumer's figures).
        let started = DispatchTime.now()
        let first = try UnixHTTPClient(socketPath: socket).request("GET", provisional[0])
        guard first.status == 200 else { throw BenchFailure("first provisional score: HTTP \(first.status)") }
        let milliseconds = Double(DispatchTime.now().uptimeNanoseconds - started.uptimeNanoseconds) / 1e6
        loads.append(Load(
            name: "first provisional score of the open month (computes its snapshot)", requests: 1, rate: 0, errors: 0,
            non2xx: 0, p50: milliseconds, p99: milliseconds, p999: milliseconds, max: milliseconds))
        loads.append(try uload("provisional score, quiet", socket: socket, paths: provisional))
        loads.append(try underIngest(socket: socket) {
            try uload("provisional score, one batch a second arriving", socket: socket, paths: provisional)
        })
        loads.append(try uload(
            "reading proof (\(min(setup.meters * max(1, 100_000 / setup.meters), 100_000))-reading batches)",
            socket: socket,
            paths: consumers.enumerated().map { k, meter in
                let start = setup.firstHour + Int64((k * 37) % closedHours) * 3600
                return "/v1/readings/bench-grid/m\(meter)/\(Timestamp.format(start))/proof"
            }))
        loads.append(try uload(
            "emissions of a month by day", socket: socket,
            paths: consumers.map { "/v1/consumers/c\($0)/emissions?from=\(closed)&to=\(closed)&step=day" }))
        return loads
    }

    /// A copy of the prefilled database with factors, certificates and its first month closed.
    private func prepare(_ prefilled: URL) async throws -> URL {
        let copy = try setup.copy(prefilled, to: "read.db")
        let program = Program(calendar: try SystemTimeZones.calendar("Asia/Shanghai"))
        let store = try CarbonStore(
            path: copy.path, signer: KeyFile.load(path: setup.keyPath), synchronous: .normal, zones: nil, program: program)
        defer { store.close() }
        let first = program.period(containing: setup.firstHour)
        try await CloseBench.loadFactorsAndCertificates(store, meters: setup.meters, months: [first, first.next])
        guard case .closed = try await store.writer.close(first) else { throw BenchFailure("closing \(first) failed") }
        return copy
    }

    /// Runs `body` while another client pushes one batch of 100 readings a second.
    private func underIngest(socket: String, _ body: () throws -> Load) throws -> Load {
        let stop = StopSignal()
        let failures = Failures()
        let pushed = DispatchGroup()
        pushed.enter()
        // The hours after the prefill: the open month's next readings.
        let hour0 = setup.prefillHours
        Thread {
            defer { pushed.leave() }
            do {
                let client = try UnixHTTPClient(socketPath: socket)
                var hour = hour0
                while !stop.isRaised {
                    let body = setup.ndjsonBatch(hour: hour, meters: 0..<min(100, setup.meters))
                    let answer = try client.request(
                        "POST", "/v1/readings", headers: [("Content-Type", "application/x-ndjson")], body: body)
                    guard answer.status == 200 else { throw BenchFailure("background batch: HTTP \(answer.status)") }
                    hour += 1
                    usleep(1_000_000)
                }
            } catch {
                failures.add("\(error)")
            }
        }.start()
        let load = try body()
        stop.raise()
        pushed.wait()
        if let failure = failures.first { throw BenchFailure(failure) }
        return load
    }

    /// `uload` (built beside this binary from Tools/uload.c) at `connections` connections.
    private func uload(_ name: String, socket: String, paths: [String]) throws -> Load {
        let process = Process()
        process.executableURL = BenchSetup.sibling("uload")
        process.arguments = [socket, "\(connections)", "\(seconds)"] + paths
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        // requests N rate R/s errors E non2xx X p50 A ms p99 B ms p999 C ms max D ms
        let words = String(decoding: data, as: UTF8.self).split(whereSeparator: \.isWhitespace).map(String.init)
        func value(after key: String) -> Double? {
            guard let i = words.firstIndex(of: key), i + 1 < words.count else { return nil }
            return Double(words[i + 1].replacingOccurrences(of: "/s", with: ""))
        }
        guard process.terminationStatus == 0, let requests = value(after: "requests"), let rate = value(after: "rate"),
            let errors = value(after: "errors"), let non2xx = value(after: "non2xx"), let p50 = value(after: "p50"),
            let p99 = value(after: "p99"), let p999 = value(after: "p999"), let max = value(after: "max")
        else { throw BenchFailure("uload for \(name): \(String(decoding: data, as: UTF8.self))") }
        return Load(
            name: name, requests: Int(requests), rate: rate, errors: Int(errors), non2xx: Int(non2xx), p50: p50, p99: p99,
            p999: p999, max: max)
    }

    private func waitForFile(_ path: String) throws {
        let deadline = Date().addingTimeInterval(30)
        while !FileManager.default.fileExists(atPath: path) {
            guard Date() < deadline else { throw BenchFailure("nothing listens on \(path)") }
            usleep(10_000)
        }
    }
}

/// A flag one thread raises and others read.
final class StopSignal: @unchecked Sendable {
    private let lock = NSLock()
    private var raised = false

    func raise() {
        lock.lock()
        raised = true
        lock.unlock()
    }

    var isRaised: Bool {
        lock.lock()
        defer { lock.unlock() }
        return raised
    }
}
