import CarbonAccounting
import CarbonLedger
import CarbonModel
import CarbonStore
import Foundation
import GRDB
import TransparencyLog

/// The offline audit of `make bench`: a ledger of small readings batches, closed
/// month by month, exported by `carbonctl export` from a real daemon and audited by
/// `carbonctl audit`, against libsodium's own Ed25519 verify rate on this machine.
struct AuditBench {
    let setup: BenchSetup
    /// Meters (and consumers); entry k holds one reading of meter k % meters.
    let meters = 100

    struct Result {
        var entries: UInt64
        var seconds: Double
        var cpuSeconds: Double
        var maxResidentBytes: Int
    }

    /// Builds (or reuses) a ledger of about `entries` entries and audits its export.
    func run(entries: Int) async throws -> Result {
        let database = try await ledger(entries: entries)
        let (daemon, socket) = try setup.startDaemon(database: try setup.copy(database, to: "audit-run.db"))
        let bundle = setup.directory.appendingPathComponent("audit-bundle-\(entries)")
        try? FileManager.default.removeItem(at: bundle)
        do {
            let export = try Self.carbonctl(["export", bundle.path, "--socket", socket])
            guard export.status == 0 else { throw BenchFailure("export failed: \(export.err)") }
        } catch {
            daemon.terminate()
            throw error
        }
        daemon.terminate()
        daemon.waitUntilExit()
        let vkey = try KeyFile.load(path: setup.keyPath).verifier.vkey
        let state = setup.directory.appendingPathComponent("audit-state-\(getpid())")
        let audit = try Self.carbonctl(["audit", bundle.path, "--key", vkey, "--state", state.path])
        try? FileManager.default.removeItem(at: state)
        guard audit.status == 0 else { throw BenchFailure("the audit failed: \(audit.err.prefix(2000))") }
        let size = try String(contentsOf: bundle.appendingPathComponent("checkpoint"), encoding: .utf8)
            .split(separator: "\n")[1]
        return Result(
            entries: UInt64(size) ?? 0, seconds: audit.seconds, cpuSeconds: audit.cpuSeconds,
            maxResidentBytes: audit.maxResidentBytes)
    }

    /// Ed25519 verifications per second of one core, by libsodium, on an entry-sized message.
    static func libsodiumVerifyRate() throws -> Double {
        let signer = try NoteSigner(skey: NoteSigner.generate(name: "bench.carbonledger.local/verify").skey)
        let entry = Array(String(repeating: "x", count: 240).utf8)
        let signature = EntrySignature.sign(entry: entry, signer: signer)
        let count = 20_000
        let started = DispatchTime.now()
        var ok = 0
        for _ in 0..<count where EntrySignature.verify(entry: entry, signature: signature, verifier: signer.verifier) {
            ok += 1
        }
        guard ok == count else { throw BenchFailure("a good signature did not verify") }
        return Double(count) / (Double(DispatchTime.now().uptimeNanoseconds - started.uptimeNanoseconds) / 1e9)
    }

    /// A ledger of about `entries` entries: the zone tree, one factor dataset, the
    /// consumers, then one-reading batches hour after hour, each month closed once
    /// the next begins. Built once and kept.
    private func ledger(entries: Int) async throws -> URL {
        let url = setup.directory.appendingPathComponent("audit-ledger-\(entries).db")
        if FileManager.default.fileExists(atPath: url.path) { return url }
        if !FileManager.default.fileExists(atPath: setup.keyPath) {
            _ = try KeyFile.create(path: setup.keyPath, origin: setup.origin)
        }
        let building = setup.directory.appendingPathComponent("audit-building.db")
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: building.path + suffix) }
        let calendar = FixedOffsetCalendar(offsetSeconds: 8 * 3_600, identifier: "Etc/GMT-8")
        let program = Program(calendar: calendar)
        let zones = try ZoneTree([
            Zone(zone: "CN", parent: nil, name: "China"), Zone(zone: "CN-ZJ", parent: "CN", name: "Zhejiang"),
        ])
        let first = program.period(containing: setup.firstHour).firstDate.year
        let rows = (first...(first + 3)).map {
            FactorRow.annual(
                zone: "CN-ZJ", kind: .average, year: $0, mgPerKWh: 500_000, source: "bench", dataset: "annual",
                calendar: calendar)
        }
        let store = try CarbonStore(
            path: building.path, signer: KeyFile.load(path: setup.keyPath), synchronous: .normal, zones: zones,
            factorDatasets: [FactorDataset(name: "annual", rows: rows)], program: program)
        let consumers = (0..<meters).map {
            Consumer(id: "c\($0)", utility: "bench-grid", zone: "CN-ZJ", consumerClass: .residential, normalizer: 1)
        }
        _ = try await store.writer.submit(.consumers(ConsumerBatch(
            submitter: Submitter(utility: nil), partial: false, consumers: consumers,
            recordIndex: Array(consumers.indices), parseErrors: [])))
        let started = Date()
        var month = program.period(containing: setup.firstHour)
        let chunk = 2_000
        for base in stride(from: 0, to: entries, by: chunk) {
            // Concurrent submissions: the writer commits them in groups.
            try await withThrowingTaskGroup(of: Void.self) { group in
                for k in base..<min(base + chunk, entries) {
                    let reading = setup.reading(meter: k % meters, hour: k / meters)
                    let batch = ReadingBatch(
                        submitter: Submitter(utility: nil), batchID: nil, partial: false,
                        hashed: HashedReadings(readings: [reading], recordIndex: [0]), parseErrors: [])
                    group.addTask {
                        guard case .committed = try await store.writer.submit(.readings(batch)) else {
                            throw BenchFailure("reading \(k) was refused")
                        }
                    }
                }
                try await group.waitForAll()
            }
            let next = program.period(containing: setup.firstHour + Int64(min(base + chunk, entries) / meters) * 3600)
            while month < next {
                guard case .closed = try await store.writer.close(month) else {
                    throw BenchFailure("closing \(month) failed")
                }
                month = month.next
            }
            if base % 100_000 == 0 { print("audit ledger: \(base) entries, \(Int(Date().timeIntervalSince(started)))s") }
        }
        store.close()
        try await DatabaseQueue(path: building.path).writeWithoutTransaction { db in
            try db.execute(sql: "PRAGMA wal_checkpoint(TRUNCATE)")
        }
        try FileManager.default.moveItem(at: building, to: url)
        return url
    }

    /// Runs carbonctl; returns its status, output, wall and CPU time, and peak memory.
    /// (Spawned and reaped here, not by Foundation's Process, so that wait4 gets its usage.)
    static func carbonctl(_ arguments: [String]) throws
        -> (status: Int32, err: String, seconds: Double, cpuSeconds: Double, maxResidentBytes: Int)
    {
        let errors = setupDirectoryFile("carbonctl-\(getpid()).err")
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 2, errors, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        let argv = ([BenchSetup.sibling("carbonctl").path] + arguments).map { strdup($0) } + [nil]
        defer { for p in argv { free(p) } }
        var pid: pid_t = 0
        let started = DispatchTime.now()
        guard let path = argv[0], posix_spawn(&pid, path, &actions, nil, argv, environ) == 0 else {
            throw BenchFailure("cannot run carbonctl")
        }
        var status: Int32 = 0
        var usage = rusage()
        guard wait4(pid, &status, 0, &usage) == pid else { throw BenchFailure("cannot wait for carbonctl") }
        defer { unlink(errors) }
        let errorText = (try? String(contentsOfFile: errors, encoding: .utf8)) ?? ""
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - started.uptimeNanoseconds) / 1e9
        let cpu = Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec)
            + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
        let exit = (status >> 8) & 0xff
        return (exit, errorText, seconds, cpu, usage.ru_maxrss * 1024)
    }

    private static func setupDirectoryFile(_ name: String) -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent(name).path
    }
}
