import CarbonClient
import CarbonLedger
import CarbonStore
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// What the daemon refuses before it serves anything.
@Suite struct StartupTests {
    /// Runs carbonledgerd to completion and returns its exit status and standard error.
    private func runDaemon(_ arguments: [String]) throws -> (status: Int32, stderr: String) {
        let process = Process()
        process.executableURL = DaemonProcess.binary("carbonledgerd")
        process.arguments = arguments
        let stderr = Pipe()
        process.standardError = stderr
        process.standardOutput = Pipe()
        try process.run()
        let output = stderr.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: output, as: UTF8.self))
    }

    @Test func checkConfigAcceptsAGoodFileAndNamesTheBadKey() throws {
        let daemon = try DaemonProcess()
        let good = try runDaemon(["--config", daemon.configPath, "--check-config"])
        #expect(good.status == 0, "\(good.stderr)")

        try (String(contentsOfFile: daemon.configPath, encoding: .utf8) + "\n[limits]\nidle_timeout = \"soon\"\n")
            .write(toFile: daemon.configPath, atomically: true, encoding: .utf8)
        let bad = try runDaemon(["--config", daemon.configPath, "--check-config"])
        #expect(bad.status == 78)
        #expect(bad.stderr.contains("limits.idle_timeout"), "\(bad.stderr)")
    }

    /// What the daemon refuses at start, `--check-config` refuses too: they share one loader.
    @Test(arguments: [
        ("[[program.static_benchmark]]\nzone = \"CN-ZJ\"\nclass = \"households\"\nug_per_day = 5", "unknown class"),
        ("timezone = \"Mars/Olympus\"", "timezone"),
        ("factors = [\"/nonexistent/factors.csv\"]", "program.factors"),
    ])
    func checkConfigRefusesWhatTheDaemonWouldRefuse(program: String, named: String) throws {
        let daemon = try DaemonProcess(extraConfig: program)
        let check = try runDaemon(["--config", daemon.configPath, "--check-config"])
        #expect(check.status == 78, "\(check.stderr)")
        #expect(check.stderr.contains(named), "\(check.stderr)")
        let start = try runDaemon(["--config", daemon.configPath])
        #expect(start.status != 0)
        #expect(start.stderr.contains(named), "\(start.stderr)")
    }

    /// The key is loaded by the check too: another origin's key fails it.
    @Test func checkConfigRefusesAKeyOfAnotherOrigin() throws {
        let daemon = try DaemonProcess()
        let other = daemon.directory.appendingPathComponent("other.key").path
        _ = try KeyFile.create(path: other, origin: "elsewhere.example/log")
        daemon.keyPath = other
        try daemon.writeConfig()
        let check = try runDaemon(["--config", daemon.configPath, "--check-config"])
        #expect(check.status == 78, "\(check.stderr)")
        #expect(check.stderr.contains("elsewhere.example/log"), "\(check.stderr)")
    }

    @Test func keyFileReadableByOthersIsRefused() throws {
        let daemon = try DaemonProcess()
        let key = daemon.directory.appendingPathComponent("ledger.key").path
        for mode: mode_t in [0o640, 0o604, 0o620] {
            chmod(key, mode)
            let run = try runDaemon(["--config", daemon.configPath])
            #expect(run.status != 0)
            #expect(run.stderr.contains("group and others must have no access"), "mode \(String(mode, radix: 8)): \(run.stderr)")
            #expect(!FileManager.default.fileExists(atPath: daemon.database), "nothing may be created with a bad key")
        }
        chmod(key, 0o600)
        try daemon.start()
        #expect(try daemon.client().get("/v1/health").status == 200)
    }

    @Test func keygenNeverOverwritesAndWritesMode600() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("keygen-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let key = directory.appendingPathComponent("k").path
        func keygen() throws -> (Int32, String) {
            let process = Process()
            process.executableURL = DaemonProcess.binary("carbonctl")
            process.arguments = ["keygen", "--origin", "example.org/log", "--out", key]
            let out = Pipe()
            process.standardOutput = out
            process.standardError = Pipe()
            try process.run()
            let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            process.waitUntilExit()
            return (process.terminationStatus, text)
        }
        let (first, vkey) = try keygen()
        #expect(first == 0)
        #expect(vkey.hasPrefix("example.org/log+"))
        var info = stat()
        #expect(stat(key, &info) == 0)
        #expect(info.st_mode & 0o777 == 0o600)
        let before = try String(contentsOfFile: key, encoding: .utf8)
        #expect(try keygen().0 != 0)
        #expect(try String(contentsOfFile: key, encoding: .utf8) == before)
    }

    @Test func databaseRefusesAnotherKey() throws {
        let daemon = try DaemonProcess()
        try daemon.start()
        #expect(daemon.stop() == 0)
        let key = daemon.directory.appendingPathComponent("ledger.key").path
        try FileManager.default.removeItem(atPath: key)
        let process = Process()
        process.executableURL = DaemonProcess.binary("carbonctl")
        process.arguments = ["keygen", "--origin", daemon.origin, "--out", key]
        process.standardOutput = Pipe()
        try process.run()
        process.waitUntilExit()
        let run = try runDaemon(["--config", daemon.configPath])
        #expect(run.status != 0)
        #expect(run.stderr.contains("belongs to the ledger key"), "\(run.stderr)")
    }

    @Test func aSecondDaemonOnTheSameDatabaseIsRefusedAndTheFirstServesOn() throws {
        let daemon = try DaemonProcess()
        try daemon.start()
        let second = try runDaemon(["--config", daemon.configPath])
        #expect(second.status != 0)
        #expect(second.stderr.contains("in use by another carbonledgerd"), "\(second.stderr)")
        #expect(try daemon.client().get("/v1/health").status == 200)
    }
}
