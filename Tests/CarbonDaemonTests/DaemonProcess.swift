import CarbonClient
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
    let origin = "test.carbonledger.local/daemon"
    private(set) var process: Process?
    var grants: String

    var socket: String { directory.appendingPathComponent("api.sock").path }
    var database: String { directory.appendingPathComponent("ledger.db").path }
    var configPath: String { directory.appendingPathComponent("carbonledger.toml").path }
    var logPath: String { directory.appendingPathComponent("daemon.log").path }

    /// `grants`: TOML `[[access.grant]]` tables; the default makes the test itself admin.
    init(grants: String = DaemonProcess.selfAdmin, extraConfig: String = "") throws {
        directory = URL(fileURLWithPath: "/tmp").appendingPathComponent("cld-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        // Other users (the role tests' throwaway users) must reach the socket inside.
        chmod(directory.path, 0o755)
        vkey = try KeyFile.create(path: directory.appendingPathComponent("ledger.key").path, origin: origin)
        verifier = try NoteVerifier(vkey)
        self.grants = grants
        try writeConfig(extra: extraConfig)
    }

    static let selfAdmin = """
        [[access.grant]]
        self = true
        role = "admin"
        """

    func writeConfig(extra: String = "") throws {
        let zones = Self.repositoryRoot.appendingPathComponent("config/factors/cn-zones.csv").path
        try """
            [daemon]
            socket = "\(socket)"
            socket_mode = "0666"
            database = "\(database)"
            [ledger]
            origin = "\(origin)"
            key = "\(directory.appendingPathComponent("ledger.key").path)"
            [program]
            zones = "\(zones)"
            \(extra)
            \(grants)
            """.write(toFile: configPath, atomically: true, encoding: .utf8)
    }

    /// Starts the daemon and returns once it answers on its socket.
    func start(environment extra: [String: String] = [:], waitUntilServing wait: Bool = true) throws {
        let process = Process()
        process.executableURL = Self.binary("carbonledgerd")
        process.arguments = ["--config", configPath, "--log-level", "debug"]
        if !extra.isEmpty { process.environment = ProcessInfo.processInfo.environment.merging(extra) { $1 } }
        FileManager.default.createFile(atPath: logPath, contents: nil)
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        try process.run()
        self.process = process
        if wait { try waitUntilServing() }
    }

    /// Polls the socket until /v1/health answers (or the process dies).
    func waitUntilServing() throws {
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline {
            guard let process, process.isRunning else {
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
        guard let process, process.isRunning else { return process?.terminationStatus ?? 0 }
        kill(process.processIdentifier, signal)
        process.waitUntilExit()
        return process.terminationStatus
    }

    var log: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    func client() throws -> UnixHTTPClient { try UnixHTTPClient(socketPath: socket) }

    deinit {
        stop(signal: SIGKILL)
        try? FileManager.default.removeItem(at: directory)
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

/// Runs carbonctl with `environment` added to the test's own; returns its exit status,
/// stdout and stderr.
func runCarbonctl(_ arguments: [String], environment extra: [String: String]) throws
    -> (status: Int32, out: String, err: String)
{
    let process = Process()
    process.executableURL = DaemonProcess.binary("carbonctl")
    process.arguments = arguments
    process.environment = ProcessInfo.processInfo.environment.merging(extra) { _, new in new }
    let out = Pipe()
    let err = Pipe()
    process.standardOutput = out
    process.standardError = err
    try process.run()
    let output = out.fileHandleForReading.readDataToEndOfFile()
    let errors = err.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: output, as: UTF8.self), String(decoding: errors, as: UTF8.self))
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
