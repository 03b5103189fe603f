import CarbonClient
import CarbonLedger
import CarbonPostgres
import CarbonStore
import Foundation
import TransparencyLog

#if canImport(Glibc)
import Glibc
#endif

/// A real carbonledgerd process in a temporary folder of its own, with its own
/// key, config and database. Stopped (SIGTERM) and removed when released.
final class DaemonProcess: @unchecked Sendable {
    let directory: URL
    let vkey: String
    let verifier: NoteVerifier
    /// The ledger's origin (every test daemon has the same unless it runs as a shard of its own).
    let origin: String
    private(set) var process: Process?
    /// A daemon started by `start(passing:)` instead (Foundation's Process cannot pass descriptors).
    private var spawned: pid_t?
    private var spawnedStatus: Int32?
    var grants: String
    /// The key file `[ledger] key` names (a rotation test points it at the new key).
    var keyPath: String
    /// More `[ledger]` lines, such as `key_overlap`.
    var ledgerConfig = ""

    var socket: String { directory.appendingPathComponent("api.sock").path }
    /// Where the database lives: the test's folder unless a test names another.
    var databaseDirectory: URL?
    /// A PostgreSQL server's URL to run on instead of an SQLite file in the folder.
    var databaseURL: String?
    /// The throwaway PostgreSQL cluster the daemon runs on (`engine: .postgresql`),
    /// stopped after the daemon.
    private(set) var cluster: LocalCluster?
    var database: String { databaseURL ?? (databaseDirectory ?? directory).appendingPathComponent("ledger.db").path }
    /// More `[daemon]` lines (`writer = ...`).
    var daemonConfig = ""
    var configPath: String { directory.appendingPathComponent("carbonledger.toml").path }
    var logPath: String { directory.appendingPathComponent("daemon.log").path }

    /// `grants`: TOML `[[access.grant]]` tables; the default makes the test itself admin.
    init(
        origin: String = "test.carbonledger.local/daemon", grants: String = DaemonProcess.selfAdmin, extraConfig: String = "",
        engine: StorageEngine = .sqlite
    ) throws {
        self.origin = origin
        directory = URL(fileURLWithPath: "/tmp").appendingPathComponent("cld-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        // Other users (the role tests' throwaway users) must reach the socket inside.
        chmod(directory.path, 0o755)
        keyPath = directory.appendingPathComponent("ledger.key").path
        vkey = try KeyFile.create(path: keyPath, origin: origin)
        verifier = try NoteVerifier(vkey)
        self.grants = grants
        if engine == .postgresql {
            let cluster = try LocalCluster()
            self.cluster = cluster
            databaseURL = cluster.url
        }
        try writeConfig(extra: extraConfig)
    }

    /// `[program]` lines that keep every period open: a test that counts ledger entries
    /// must not see a period of its (past) readings close by itself and add entries.
    static let periodsStayOpen = #"close_after = "36500d""#

    /// Test readings lie in past months; they close only when a test asks (or sets its own close_after).
    static let periodsCloseOnlyWhenAsked = #"close_after = "36500d""#

    static let selfAdmin = """
        [[access.grant]]
        self = true
        role = "admin"
        """

    /// The zone file of `[program]`: the shipped one unless a test names another.
    var zonesPath = DaemonProcess.repositoryRoot.appendingPathComponent("config/factors/cn-zones.csv").path

    func writeConfig(extra: String = "") throws {
        let zones = zonesPath
        try """
            [daemon]
            socket = "\(socket)"
            socket_mode = "0666"
            database = "\(database)"
            \(daemonConfig)
            [ledger]
            origin = "\(origin)"
            key = "\(keyPath)"
            \(ledgerConfig)
            [program]
            zones = "\(zones)"
            \(extra.contains("close_after") ? "" : Self.periodsCloseOnlyWhenAsked)
            \(extra)
            \(grants)
            """.write(toFile: configPath, atomically: true, encoding: .utf8)
    }

    /// Starts the daemon and returns once it answers on its socket.
    func start(
        environment extra: [String: String] = [:], arguments: [String] = [], waitUntilServing wait: Bool = true
    ) throws {
        let process = Process()
        process.executableURL = Self.binary("carbonledgerd")
        process.arguments = ["--config", configPath, "--log-level", "debug"] + arguments
        if !extra.isEmpty { process.environment = ProcessInfo.processInfo.environment.merging(extra) { $1 } }
        // Truncated in place, so the file keeps its inode (JOURNAL_STREAM names it).
        close(open(logPath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644))
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        try process.run()
        self.process = process
        if wait { try waitUntilServing() }
    }

    /// Starts the daemon as systemd's socket activation does: `listening` becomes its
    /// descriptor 3, `LISTEN_FDS=1`, and `LISTEN_PID` its own pid (set by a shell that
    /// then execs the daemon, so the pid is known only in the child).
    func start(passing listening: Int32, environment extra: [String: String] = [:]) throws {
        // dup2 onto the same number would leave close-on-exec set; keep the source above 3.
        let source = fcntl(listening, F_DUPFD_CLOEXEC, 10)
        guard source >= 0 else { throw DaemonTestFailure("dup: \(errno)") }
        defer { close(source) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, source, 3)
        posix_spawn_file_actions_addopen(&actions, 2, logPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        let arguments = [
            "/bin/sh", "-c", #"LISTEN_PID=$$ LISTEN_FDS=1 LISTEN_FDNAMES=api; export LISTEN_PID LISTEN_FDS LISTEN_FDNAMES; exec "$0" "$@""#,
            Self.binary("carbonledgerd").path, "--config", configPath, "--log-level", "debug",
        ]
        let environment = ProcessInfo.processInfo.environment.merging(extra) { $1 }.map { "\($0)=\($1)" }
        var argv = arguments.map { strdup($0) } + [nil]
        var envp = environment.map { strdup($0) } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        var pid: pid_t = 0
        let result = posix_spawn(&pid, "/bin/sh", &actions, nil, &argv, &envp)
        guard result == 0 else { throw DaemonTestFailure("posix_spawn: \(result)") }
        spawned = pid
        spawnedStatus = nil
    }

    /// Whether the daemon process still runs (reaping a spawned one that ended).
    var isRunning: Bool {
        if let process { return process.isRunning }
        guard let spawned, spawnedStatus == nil else { return false }
        var status: Int32 = 0
        guard waitpid(spawned, &status, WNOHANG) == spawned else { return true }
        spawnedStatus = status
        return false
    }

    /// The daemon's pid.
    var pid: pid_t? { process?.processIdentifier ?? spawned }

    /// Polls the socket until /v1/health answers (or the process dies).
    func waitUntilServing(socket: String? = nil) throws {
        let socket = socket ?? self.socket
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline {
            guard isRunning else {
                throw DaemonTestFailure("carbonledgerd exited: \(log)")
            }
            if let client = try? UnixHTTPClient(socketPath: socket), let answer = try? client.request("GET", "/v1/health"),
                answer.status != 0
            {
                return
            }
            usleep(10_000)
        }
        throw DaemonTestFailure("carbonledgerd did not answer within 60 s: \(log)")
    }

    /// Sends `signal` and waits for the process to end; returns its exit status.
    @discardableResult
    func stop(signal: Int32 = SIGTERM) -> Int32 {
        if let spawned {
            if spawnedStatus == nil {
                kill(spawned, signal)
                var status: Int32 = 0
                while waitpid(spawned, &status, 0) < 0 && errno == EINTR {}
                spawnedStatus = status
            }
            // Exit status as Process reports it: the code, or the signal that ended it.
            let status = spawnedStatus ?? 0
            return status & 0x7f == 0 ? (status >> 8) & 0xff : status & 0x7f
        }
        guard let process, process.isRunning else { return process?.terminationStatus ?? 0 }
        kill(process.processIdentifier, signal)
        process.waitUntilExit()
        return process.terminationStatus
    }

    /// Waits for a spawned daemon to end by itself; returns its exit status.
    func waitForExit() -> Int32 {
        guard let spawned else {
            process?.waitUntilExit()
            return process?.terminationStatus ?? 0
        }
        if spawnedStatus == nil {
            var status: Int32 = 0
            while waitpid(spawned, &status, 0) < 0 && errno == EINTR {}
            spawnedStatus = status
        }
        return stop()
    }

    var log: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    func client() throws -> UnixHTTPClient { try UnixHTTPClient(socketPath: socket) }

    deinit {
        stop(signal: SIGKILL)
        try? FileManager.default.removeItem(at: directory)
    }

    /// Runs one of the package's executables to its end; returns exit status, stdout and
    /// stderr. A run still going after `seconds` (a daemon expected to refuse its start
    /// that serves instead) is killed and reported as status -1, so such a test fails
    /// rather than waits forever.
    static func run(
        _ name: String, _ arguments: [String], environment extra: [String: String] = [:], within seconds: Double = 300
    ) throws -> (status: Int32, out: String, err: String) {
        let process = Process()
        process.executableURL = binary(name)
        process.arguments = arguments
        if !extra.isEmpty { process.environment = ProcessInfo.processInfo.environment.merging(extra) { $1 } }
        // Files, not pipes: a process that writes much and never ends cannot block on them.
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("run-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let outURL = folder.appendingPathComponent("out")
        let errURL = folder.appendingPathComponent("err")
        FileManager.default.createFile(atPath: outURL.path, contents: nil)
        FileManager.default.createFile(atPath: errURL.path, contents: nil)
        process.standardOutput = try FileHandle(forWritingTo: outURL)
        process.standardError = try FileHandle(forWritingTo: errURL)
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let deadline = Date().addingTimeInterval(seconds)
        while process.isRunning && Date() < deadline { usleep(2_000) }
        let timedOut = process.isRunning
        if timedOut { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
        let output = (try? String(contentsOf: outURL, encoding: .utf8)) ?? ""
        let errors = (try? String(contentsOf: errURL, encoding: .utf8)) ?? ""
        if timedOut { return (-1, output, "still running after \(Int(seconds)) s, killed\n" + errors) }
        return (process.terminationStatus, output, errors)
    }

    /// Runs carbonctl against this daemon, with client state of this daemon's own
    /// (every test daemon has the same origin).
    func carbonctl(_ arguments: [String], environment: [String: String] = [:]) throws -> (status: Int32, out: String, err: String) {
        try Self.run(
            "carbonctl", arguments + ["--socket", socket],
            environment: environment.merging(
                ["CARBONLEDGER_STATE_DIR": directory.appendingPathComponent("client-state").path]) { $1 })
    }

    /// The package root (this file is Tests/CarbonDaemonTests/DaemonProcess.swift).
    static let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    /// A product built next to the test bundle (`swift build --build-tests` builds the executables too).
    static func binary(_ name: String) -> URL {
        var directory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        while directory.path != "/" {
            let candidate = directory.appendingPathComponent(name)
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
            directory = directory.deletingLastPathComponent()
        }
        return repositoryRoot.appendingPathComponent(".build/debug/\(name)")
    }
}

struct DaemonTestFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

extension UnixHTTPClient {
    func post(_ path: String, _ body: String, contentType: String = "application/x-ndjson",
              headers: [(String, String)] = []) throws -> HTTPResponse {
        try request("POST", path, headers: [("Content-Type", contentType)] + headers, body: Array(body.utf8))
    }

    func get(_ path: String) throws -> HTTPResponse { try request("GET", path) }
}

extension HTTPResponse {
    /// The body as a JSON object (fails the test if it is not one).
    func json() throws -> [String: Any] {
        guard let object = try JSONSerialization.jsonObject(with: Data(body)) as? [String: Any] else {
            throw DaemonTestFailure("not a JSON object: \(text)")
        }
        return object
    }
}
