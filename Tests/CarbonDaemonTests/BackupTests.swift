import CarbonClient
import Foundation
import Synchronization
import Testing
import TransparencyLog

#if canImport(Glibc)
import Glibc
#endif

/// `carbonctl backup` under ingest and `carbonledgerd --restore`, as an operator runs them.
@Suite struct BackupTests {
    static let hour = 1_790_000_000 / 3600 * 3600

    static func readings(batch: Int) -> String {
        (0..<20).map {
            #"{"utility":"u1","meter":"m\#($0)","consumer":"c1","start":\#(hour + batch * 3600),"duration_s":3600,"import_wh":\#(batch)}"#
        }.joined(separator: "\n")
    }

    static func checkpoint(_ client: UnixHTTPClient, _ daemon: DaemonProcess) throws -> Checkpoint {
        try SignedCheckpoint.open(client.get("/v1/ledger/checkpoint").text, verifiers: [daemon.verifier]).checkpoint
    }

    @Test func backupUnderIngestRestoresToALedgerConsistentWithEarlierCheckpoints() throws {
        let daemon = try DaemonProcess(extraConfig: DaemonProcess.periodsStayOpen)
        try daemon.start()
        let client = try daemon.client()
        #expect(try client.post("/v1/consumers", #"{"consumer":"c1","utility":"u1","zone":"CN-ZJ","class":"residential"}"#).status == 200)
        for batch in 0..<5 { #expect(try client.post("/v1/readings", Self.readings(batch: batch)).status == 200) }
        let before = try Self.checkpoint(client, daemon)

        // Ingest runs from before the backup starts until after it has ended.
        let committed = Atomic<Int>(0)
        let stop = Atomic<Bool>(false)
        let ingest = DispatchGroup()
        ingest.enter()
        let socket = daemon.socket
        Thread {
            defer { ingest.leave() }
            guard let writer = try? UnixHTTPClient(socketPath: socket) else { return }
            var batch = 5
            while !stop.load(ordering: .relaxed) && batch < 2_000 {
                if (try? writer.post("/v1/readings", Self.readings(batch: batch)))?.status == 200 {
                    committed.add(1, ordering: .relaxed)
                }
                batch += 1
            }
        }.start()
        while committed.load(ordering: .relaxed) < 3 && ingest.wait(timeout: .now()) == .timedOut { usleep(1000) }
        let file = daemon.directory.appendingPathComponent("backup.db").path
        let backup = try daemon.carbonctl(["backup", "--out", file, "--key", daemon.vkey])
        let duringBackup = committed.load(ordering: .relaxed)
        while committed.load(ordering: .relaxed) < duringBackup + 3 && ingest.wait(timeout: .now()) == .timedOut { usleep(1000) }
        stop.store(true, ordering: .relaxed)
        ingest.wait()
        #expect(backup.status == 0, "\(backup.err)")
        #expect(backup.out.contains("written to \(file) and verified"), "\(backup.out)")
        #expect(!FileManager.default.fileExists(atPath: file + ".partial"))
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: daemon.directory.path).filter { $0.contains(".backup-") }
        #expect(leftovers.isEmpty, "the daemon's copy stays behind: \(leftovers)")
        // Never over an existing file.
        let again = try daemon.carbonctl(["backup", "--out", file])
        #expect(again.status != 0 && again.err.contains("exists already"), "\(again.err)")

        // A daemon holds the database: restore refuses and changes nothing.
        let whileRunning = try DaemonProcess.run("carbonledgerd", ["--config", daemon.configPath, "--restore", file])
        #expect(whileRunning.status != 0)
        #expect(whileRunning.err.contains("in use by another carbonledgerd"), "\(whileRunning.err)")
        let sizeAtStop = try Self.checkpoint(client, daemon).size
        #expect(daemon.stop() == 0)

        let restore = try DaemonProcess.run("carbonledgerd", ["--config", daemon.configPath, "--restore", file])
        #expect(restore.status == 0, "\(restore.err)")
        #expect(restore.out.contains("verified against its signed checkpoint"), "\(restore.out)")
        #expect(restore.out.contains("a ledger of \(sizeAtStop) entries"), "the replaced ledger is named: \(restore.out)")
        #expect(!FileManager.default.fileExists(atPath: daemon.database + "-wal"))
        #expect(!FileManager.default.fileExists(atPath: daemon.database + "-shm"))

        // The daemon signed checkpoints past the backup: signing on from it would fork.
        let refused = try DaemonProcess.run("carbonledgerd", ["--config", daemon.configPath], within: 30)
        #expect(refused.status != 0)
        #expect(refused.err.contains("older than what the ledger has published") && refused.err.contains("--accept-rollback"),
                "\(refused.err)")
        try daemon.start(arguments: ["--accept-rollback"])
        #expect(daemon.log.contains("--accept-rollback given"), "\(daemon.log)")
        let restored = try Self.checkpoint(try daemon.client(), daemon)
        #expect(restored.size >= before.size && restored.size < sizeAtStop, "backup \(restored.size), before \(before.size), at stop \(sizeAtStop)")
        let verify = try daemon.carbonctl(["verify", "--key", daemon.vkey])
        #expect(verify.status == 0, "\(verify.err)")
        #expect(verify.out.contains("verified \(restored.size) entries"), "\(verify.out)")
        // The checkpoint fetched before the backup is a prefix of the restored ledger.
        let proof = try daemon.client().get("/v1/ledger/proof/consistency?from=\(before.size)&to=\(restored.size)").json()
        let hashes = (proof["hashes"] as? [String] ?? []).compactMap { Hash256(base64: $0) }
        try RFC6962.verifyConsistency(
            size1: before.size, size2: restored.size, root1: before.rootHash, root2: restored.rootHash, proof: hashes)
        // The restored ledger takes new batches on top of itself.
        #expect(try daemon.client().post("/v1/readings", Self.readings(batch: 5_000)).status == 200)
        #expect(try Self.checkpoint(try daemon.client(), daemon).size == restored.size + 1)
        // Accepted once: the restored ledger is now the one this daemon has published.
        #expect(daemon.stop() == 0)
        try daemon.start()
        #expect(try Self.checkpoint(try daemon.client(), daemon).size == restored.size + 1)
    }

    @Test func oneBackupAtATimeUntilItsCopyIsClosed() throws {
        let daemon = try DaemonProcess(extraConfig: DaemonProcess.periodsStayOpen)
        try daemon.start()
        let client = try daemon.client()
        #expect(try client.post("/v1/consumers", #"{"consumer":"c1","utility":"u1","zone":"CN-ZJ","class":"residential"}"#).status == 200)
        // A database far larger than what the daemon's write buffers and the socket hold
        // together (a few MiB), so a reader that stops stalls the stream whatever the load.
        func stored() -> Int {
            [daemon.database, daemon.database + "-wal"].reduce(0) {
                $0 + ((try? FileManager.default.attributesOfItem(atPath: $1)[.size] as? Int) ?? 0)
            }
        }
        var batch = 0
        while stored() < 16 << 20 && batch < 80 {
            let body = (0..<5_000).map {
                #"{"utility":"u1","meter":"m\#($0)","consumer":"c1","start":\#(Self.hour + batch * 3600),"duration_s":3600,"import_wh":1}"#
            }.joined(separator: "\n")
            #expect(try client.post("/v1/readings", body).status == 200)
            batch += 1
        }
        let stalled = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: daemon.socket.utf8) }
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(stalled, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        #expect(connected == 0)
        let request = Array("POST /v1/admin/backup HTTP/1.1\r\nHost: localhost\r\nContent-Length: 0\r\n\r\n".utf8)
        #expect(request.withUnsafeBytes { send(stalled, $0.baseAddress, $0.count, 0) } == request.count)
        var first = [UInt8](repeating: 0, count: 16)
        #expect(recv(stalled, &first, first.count, 0) == first.count)  // the answer has begun
        #expect(String(decoding: first, as: UTF8.self).hasPrefix("HTTP/1.1 200"))

        let second = try client.request("POST", "/v1/admin/backup")
        #expect(second.status == 409, "\(second.status)")
        #expect(second.text.contains("backup-running"), "\(second.text)")

        // The reader goes away: its copy is closed, and the next backup runs.
        close(stalled)
        var third = try client.request("POST", "/v1/admin/backup")
        let deadline = Date().addingTimeInterval(60)
        while third.status == 409 && Date() < deadline { third = try client.request("POST", "/v1/admin/backup") }
        #expect(third.status == 200, "\(third.text.prefix(300))")
        #expect(third.header("Ledger-Size") == "\(2 + batch)")  // zones, the consumer, the batches
    }

    @Test func restoreRefusesWhatIsNotABackupOfThisLedger() throws {
        let daemon = try DaemonProcess(extraConfig: DaemonProcess.periodsStayOpen)
        try daemon.start()
        let size = try Self.checkpoint(try daemon.client(), daemon).size
        let stranger = try DaemonProcess(extraConfig: DaemonProcess.periodsStayOpen)
        try stranger.start()
        let foreign = stranger.directory.appendingPathComponent("foreign.db").path
        #expect(try stranger.carbonctl(["backup", "--out", foreign]).status == 0)
        #expect(daemon.stop() == 0)
        func restore(_ file: String) throws -> (status: Int32, out: String, err: String) {
            try DaemonProcess.run("carbonledgerd", ["--config", daemon.configPath, "--restore", file])
        }

        let other = try restore(foreign)
        #expect(other.status != 0 && other.err.contains("belongs to the ledger key \(stranger.vkey)"), "\(other.err)")
        let text = daemon.directory.appendingPathComponent("notes.txt").path
        try "not a database at all, but long enough to be read as one..........................................."
            .write(toFile: text, atomically: true, encoding: .utf8)
        let garbage = try restore(text)
        #expect(garbage.status != 0 && garbage.err.contains("not a SQLite database"), "\(garbage.err)")
        let missing = try restore(daemon.directory.appendingPathComponent("nowhere.db").path)
        #expect(missing.status != 0 && missing.err.contains("cannot read the backup"), "\(missing.err)")

        // Nothing was replaced: the daemon starts on its own ledger.
        let kept = try FileManager.default.contentsOfDirectory(atPath: daemon.directory.path)
        #expect(!kept.contains { $0.contains("before-restore") || $0.contains(".restore-") }, "\(kept)")
        try daemon.start()
        #expect(try Self.checkpoint(try daemon.client(), daemon).size == size)
    }
}
