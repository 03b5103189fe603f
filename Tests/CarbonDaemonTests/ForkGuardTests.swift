import CarbonClient
import CarbonLedger
import CarbonStore
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The daemon never signs a fork: it keeps its highest signed checkpoint beside the
/// key and starts only on a ledger that extends it, across SIGKILL, key rotation and
/// a database replaced by another branch of the same key.
@Suite struct ForkGuardTests {
    static let consumer = #"{"consumer":"c1","utility":"u1","zone":"CN-ZJ","class":"residential"}"#

    static func checkpointFile(_ daemon: DaemonProcess) -> String {
        daemon.directory.appendingPathComponent("test.carbonledger.local_daemon.checkpoint").path
    }

    static func size(_ daemon: DaemonProcess) throws -> Int {
        try #require(try daemon.client().get("/v1/health").json()["size"] as? Int)
    }

    @Test func aDaemonKilledDuringIngestStartsAgainOnItsOwnLedger() throws {
        let daemon = try DaemonProcess()
        try daemon.start()
        #expect(try daemon.client().post("/v1/consumers", Self.consumer).status == 200)
        for hour in 0..<5 {
            #expect(try daemon.client().post("/v1/readings", AuditTests.reading("m1", hour: hour, wh: 5)).status == 200)
        }
        let size = try Self.size(daemon)
        _ = daemon.stop(signal: SIGKILL)
        var info = stat()
        #expect(stat(Self.checkpointFile(daemon), &info) == 0 && info.st_mode & 0o777 == 0o600)
        try daemon.start()
        #expect(try Self.size(daemon) == size)
        #expect(try daemon.client().post("/v1/readings", AuditTests.reading("m1", hour: 6, wh: 5)).status == 200)
    }

    @Test func afterAKeyRotationTheGuardFollowsTheKeyChain() throws {
        let daemon = try DaemonProcess()
        try daemon.start()
        #expect(try daemon.client().post("/v1/consumers", Self.consumer).status == 200)
        #expect(daemon.stop() == 0)
        let beforeRotation = try AuditTests.snapshot(daemon, to: "before-rotation.db")
        let oldKey = daemon.keyPath
        try daemon.start()
        let rotated = try KeyRotationTests.rotate(daemon)
        #expect(rotated.run.status == 0, "\(rotated.run.err)")
        #expect(try daemon.client().post("/v1/readings", AuditTests.reading("m1", hour: 0, wh: 5)).status == 200)
        #expect(daemon.stop() == 0)
        // Restarted on the new key (beside the old one): the checkpoints it signed are its own.
        daemon.keyPath = rotated.path
        try daemon.writeConfig()
        try daemon.start()
        #expect(try daemon.client().post("/v1/readings", AuditTests.reading("m1", hour: 1, wh: 5)).status == 200)
        #expect(daemon.stop() == 0)
        // The copy from before the rotation, started on the old key again: that key would
        // sign on where the new one has signed already. Refused on either key.
        try AuditTests.restore(daemon, from: beforeRotation)
        daemon.keyPath = oldKey
        try daemon.writeConfig()
        let refused = try DaemonProcess.run("carbonledgerd", ["--config", daemon.configPath], within: 30)
        #expect(refused.status != 0)
        // (Checkpoints of the overlap are co-signed by the old key, so it still verifies one.)
        #expect(refused.err.contains("older than what the ledger has published")
                    || refused.err.contains("holds no checkpoint that verifies with this ledger's keys"), "\(refused.err)")
    }

    /// SIGKILL while a key rotation is being committed: the rotation happened wholly or
    /// not at all, the daemon starts on the key in force (the new one, or the old one
    /// when the rotation did not commit), the guard accepts its own ledger, and the
    /// ledger verifies from the old key.
    @Test func aDaemonKilledDuringAKeyRotationStartsOnTheKeyInForce() throws {
        let daemon = try DaemonProcess()
        try daemon.start()
        #expect(try daemon.client().post("/v1/consumers", Self.consumer).status == 200)
        let oldKey = daemon.keyPath
        let newKey = daemon.directory.appendingPathComponent("ledger-2.key").path
        _ = try KeyFile.create(path: newKey, origin: daemon.origin)
        let rotation = Process()
        rotation.executableURL = DaemonProcess.binary("carbonctl")
        rotation.arguments = ["rotate-key", "--new-key", newKey, "--socket", daemon.socket]
        rotation.standardOutput = FileHandle.nullDevice
        rotation.standardError = FileHandle.nullDevice
        try rotation.run()
        _ = daemon.stop(signal: SIGKILL)
        rotation.waitUntilExit()

        daemon.keyPath = newKey
        try daemon.writeConfig()
        if (try? daemon.start()) == nil {
            // The rotation did not commit: the database still belongs to the old key.
            #expect(daemon.log.contains("belongs to the ledger key"), "\(daemon.log)")
            daemon.keyPath = oldKey
            try daemon.writeConfig()
            try daemon.start()
        }
        #expect(try daemon.client().post("/v1/readings", AuditTests.reading("m1", hour: 0, wh: 5)).status == 200)
        let verify = try daemon.carbonctl(["verify", "--key", daemon.vkey])
        #expect(verify.status == 0, "\(verify.err)")
    }

    /// Two branches of one key: a copy of the common database, extended elsewhere to the
    /// same size with other data, then put in the place of this daemon's database.
    @Test func anotherBranchOfTheSameSizeIsRefused() throws {
        let daemon = try DaemonProcess()
        try daemon.start()
        #expect(try daemon.client().post("/v1/consumers", Self.consumer).status == 200)
        #expect(daemon.stop() == 0)
        let common = try AuditTests.snapshot(daemon, to: "common.db")
        try daemon.start()
        #expect(try daemon.client().post("/v1/readings", AuditTests.reading("m1", hour: 0, wh: 5)).status == 200)
        let size = try Self.size(daemon)
        #expect(daemon.stop() == 0)

        // The other branch: the same key (a copy beside its own database), the same origin.
        let other = try DaemonProcess()
        other.keyPath = other.directory.appendingPathComponent("copied.key").path
        try FileManager.default.copyItem(atPath: daemon.keyPath, toPath: other.keyPath)
        try other.writeConfig()
        try AuditTests.restore(other, from: common)
        try other.start()
        #expect(try other.client().post("/v1/readings", AuditTests.reading("m1", hour: 0, wh: 7)).status == 200)
        #expect(try Self.size(other) == size)
        #expect(other.stop() == 0)

        // The other branch's database with its WAL folded in: the file alone may lack the last commit.
        try AuditTests.restore(daemon, from: AuditTests.snapshot(other, to: "branch.db"))
        let refused = try DaemonProcess.run("carbonledgerd", ["--config", daemon.configPath], within: 30)
        #expect(refused.status != 0)
        #expect(refused.err.contains("another root"), "\(refused.err)")
    }
}
