import CarbonClient
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// A full disk under the database, during ingest and during an automatic close, then
/// space freed: no acknowledged batch lost, the ledger verifies, and the daemon serves
/// on without a restart. The database lives on a small tmpfs of the test's own.
@Suite(.serialized) struct StorageFaultTests {
    /// A tmpfs mounted at a fresh folder, unmounted when released.
    final class SmallDisk {
        let folder: URL
        init(megabytes: Int) throws {
            folder = URL(fileURLWithPath: "/tmp").appendingPathComponent("cld-disk-\(UUID().uuidString.prefix(8))")
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            try runProgram("/bin/mount", ["-t", "tmpfs", "-o", "size=\(megabytes)m,mode=0755", "tmpfs", folder.path])
        }

        /// Fills the disk with a file, then gives back `leaving` bytes.
        func fill(leaving: Int) throws {
            let path = folder.appendingPathComponent("filler").path
            let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
            guard fd >= 0 else { throw DaemonTestFailure("cannot create \(path)") }
            defer { close(fd) }
            let chunk = [UInt8](repeating: 0xA5, count: 65_536)
            var written = 0
            while true {
                let n = chunk.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
                if n <= 0 { break }
                written += n
            }
            guard ftruncate(fd, off_t(max(0, written - leaving))) == 0 else { throw DaemonTestFailure("ftruncate") }
        }

        func free() { unlink(folder.appendingPathComponent("filler").path) }

        deinit {
            _ = try? runProgram("/bin/umount", ["-l", folder.path], check: false)
            try? FileManager.default.removeItem(at: folder)
        }
    }

    static func consumers(_ count: Int) -> String {
        (0..<count).map { #"{"consumer":"c\#($0)","utility":"u1","zone":"CN-ZJ","class":"residential"}"# }
            .joined(separator: "\n")
    }

    static func readings(batch: Int, consumers: Int, start: String = "2023-05-01T00:00:00+08:00") -> String {
        (0..<consumers).map {
            #"{"utility":"u1","meter":"m\#($0)","consumer":"c\#($0)","start":"\#(start)","duration_s":\#(3600 + batch),"import_wh":\#(batch + 1)}"#
        }.joined(separator: "\n")
    }

    @Test func aFullDiskRefusesWritesWith507AndTheDaemonCarriesOnOnceSpaceIsFreed() throws {
        let disk = try SmallDisk(megabytes: 24)
        let daemon = try DaemonProcess(extraConfig: AccountingTests.manualClose)
        daemon.databaseDirectory = disk.folder
        try daemon.writeConfig(extra: AccountingTests.manualClose)
        try daemon.start()
        let client = try daemon.client()
        #expect(try client.post("/v1/consumers", Self.consumers(200)).status == 200)

        // Fill the disk, keep batching: every batch is acknowledged or refused with 507.
        try disk.fill(leaving: 256 * 1024)
        var acknowledged: [Int] = []
        var refused: HTTPResponse?
        for batch in 0..<400 where refused == nil {
            let meterStart = "2023-05-\(String(format: "%02d", batch % 28 + 1))T\(String(format: "%02d", batch / 28 % 24)):00:00+08:00"
            let answer = try client.post("/v1/readings", Self.readings(batch: 0, consumers: 200, start: meterStart))
            if answer.status == 200 {
                acknowledged.append(batch)
            } else {
                refused = answer
            }
        }
        let full = try #require(refused, "the disk never filled")
        #expect(full.status == 507, "\(full.text)")
        #expect(full.header("Retry-After") != nil, "\(full.headers)")
        #expect(full.text.contains("storage-full"), "\(full.text)")
        let health = try client.get("/v1/health").json()
        #expect(health["status"] as? String == "degraded", "\(health)")
        #expect((health["problems"] as? [String])?.first?.contains("full") == true, "\(health)")
        #expect(daemon.isRunning)

        // Space back: the refused batch goes in, without a restart, and health is ok again.
        disk.free()
        let again = try client.post("/v1/readings", Self.readings(batch: 0, consumers: 200, start: "2023-06-01T00:00:00+08:00"))
        #expect(again.status == 200, "\(again.text)")
        #expect(waitUntil { (try? client.get("/v1/health").json())?["status"] as? String == "ok" })
        for batch in acknowledged {
            let start = "2023-05-\(String(format: "%02d", batch % 28 + 1))T\(String(format: "%02d", batch / 28 % 24)):00:00%2B08:00"
            #expect(try client.get("/v1/readings/u1/m199/\(start)/proof").status == 200, "batch \(batch) lost")
        }
        let verify = try daemon.carbonctl(["verify", "--key", daemon.vkey])
        #expect(verify.status == 0, "\(verify.err)")
        #expect(daemon.stop() == 0)
    }

    @Test func anAutomaticCloseOnAFullDiskIsRetriedAndShownNotAShutdown() throws {
        let disk = try SmallDisk(megabytes: 32)
        let daemon = try DaemonProcess(extraConfig: AccountingTests.manualClose)
        daemon.databaseDirectory = disk.folder
        try daemon.writeConfig(extra: AccountingTests.manualClose)
        try daemon.start()
        let client = try daemon.client()
        #expect(try client.post("/v1/factors?dataset=annual", """
            zone,kind,year,mg_per_kwh,source
            CN-ZJ,average,2023,500000,test
            """, contentType: "text/csv").status == 200)
        #expect(try client.post("/v1/consumers", Self.consumers(3000)).status == 200)
        #expect(try client.post("/v1/readings", Self.readings(batch: 0, consumers: 3000)).status == 200)
        #expect(daemon.stop() == 0)

        // The close of 3,000 consumers needs megabytes; the disk keeps a few hundred KiB.
        try disk.fill(leaving: 384 * 1024)
        try daemon.writeConfig(extra: #"close_after = "1s""#)
        try daemon.start()
        let failing = waitUntil {
            let health = try? daemon.client().get("/v1/health").json()
            return (health?["problems"] as? [String])?.contains { $0.contains("automatic close failed") } == true
        }
        #expect(failing, "health never showed the failing close: \(daemon.log.suffix(2000))")
        #expect(daemon.isRunning, "a failed close stopped the daemon")
        let metrics = try daemon.client().get("/metrics").text
        #expect(metrics.contains("carbonledger_degraded 1"), "\(metrics)")
        #expect(metrics.contains("carbonledger_period_close_failures_total"), "\(metrics)")

        disk.free()
        let closed = waitUntil {
            (try? daemon.client().get("/v1/consumers/c0/score?period=2023-05").json())?["provisional"] as? Bool == false
        }
        #expect(closed, "2023-05 did not close once space was freed")
        // The closer clears its problem once the writer has answered it, just after the commit.
        #expect(waitUntil { (try? daemon.client().get("/v1/health").json())?["status"] as? String == "ok" })
        #expect(daemon.stop() == 0)
    }
}
