import CarbonClient
import CarbonLedger
import CarbonModel
import Foundation
import Testing
import TransparencyLog

#if canImport(Glibc)
import Glibc
#endif

/// A `carbonctl witness` process with its own key and state, on a Unix socket of its
/// own or, given a port, on TCP at 127.0.0.1.
final class WitnessProcess {
    let name: String
    let socket: String
    /// The TCP port it listens on; nil: the Unix socket.
    let port: Int?
    let keyPath: String
    let statePath: String
    let logPath: String
    /// The witness's cosignature/v1 key, as a policy names it.
    let vkey: String
    private let logKey: String
    private var process: Process?

    init(name: String, in directory: URL, logKey: String, port: Int? = nil) throws {
        self.name = name
        self.port = port
        self.logKey = logKey
        socket = directory.appendingPathComponent("\(name).sock").path
        keyPath = directory.appendingPathComponent("\(name).key").path
        statePath = directory.appendingPathComponent("\(name)-state").path
        logPath = directory.appendingPathComponent("\(name).log").path
        vkey = try WitnessVerifier(try KeyFile.create(path: keyPath, origin: "witness.example/\(name)")).vkey
    }

    /// Where it listens, as `--listen` takes it.
    var listen: String { port.map { "127.0.0.1:\($0)" } ?? "unix:\(socket)" }

    /// Its submission prefix, as a policy names it.
    var url: String { port.map { "http://127.0.0.1:\($0)/" } ?? "unix:\(socket)" }

    func client() throws -> UnixHTTPClient {
        try port.map { try UnixHTTPClient(host: "127.0.0.1", port: $0) } ?? UnixHTTPClient(socketPath: socket)
    }

    /// A TCP port nothing listens on now (the kernel's pick for port 0).
    static func freePort() throws -> Int {
        let fd = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0
            }
        }
        guard bound else { throw DaemonTestFailure("no free TCP port: \(String(cString: strerror(errno)))") }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    /// Starts the witness and returns once it accepts a connection.
    func start() throws {
        try? FileManager.default.removeItem(atPath: socket)
        let process = Process()
        process.executableURL = DaemonProcess.binary("carbonctl")
        process.arguments = ["witness", "--key", keyPath, "--state", statePath, "--log", logKey, "--listen", listen]
        FileManager.default.createFile(atPath: logPath, contents: nil)
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        self.process = process
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline {
            guard process.isRunning else { throw DaemonTestFailure("witness \(name) exited: \(log)") }
            if (try? client()) != nil { return }
            usleep(10_000)
        }
        throw DaemonTestFailure("witness \(name) did not listen within 60 s: \(log)")
    }

    func stop() {
        guard let process, process.isRunning else { return }
        process.terminate()
        process.waitUntilExit()
    }

    var log: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    /// Sends an add-checkpoint request straight to the witness.
    func addCheckpoint(_ request: AddCheckpointRequest) throws -> HTTPResponse {
        try client().request("POST", "/add-checkpoint", body: Array(request.body.utf8))
    }

    deinit { stop() }
}

/// Two witnesses with a 2-of-2 policy in front of a daemon (docs/operations.md), one
/// on a Unix socket and one on TCP.
@Suite(.serialized) struct WitnessCosigningTests {
    let daemon: DaemonProcess
    let witnesses: [WitnessProcess]
    let policyPath: String

    init() throws {
        daemon = try DaemonProcess(extraConfig: AccountingTests.manualClose)
        let (directory, logKey) = (daemon.directory, daemon.vkey)
        let witnesses = [
            try WitnessProcess(name: "w1", in: directory, logKey: logKey),
            try WitnessProcess(name: "w2", in: directory, logKey: logKey, port: try WitnessProcess.freePort()),
        ]
        self.witnesses = witnesses
        policyPath = daemon.directory.appendingPathComponent("witnesses.policy").path
        try """
            # Both witnesses must cosign.
            log \(daemon.vkey)
            witness w1 \(witnesses[0].vkey) \(witnesses[0].url)
            witness w2 \(witnesses[1].vkey) \(witnesses[1].url)
            group both all w1 w2
            quorum both

            """.write(toFile: policyPath, atomically: true, encoding: .utf8)
        daemon.ledgerConfig = #"witness_policy = "\#(policyPath)""#
        try daemon.writeConfig(extra: AccountingTests.manualClose)
        for witness in witnesses { try witness.start() }
        try daemon.start()
        #expect(try daemon.client().post("/v1/consumers", #"{"consumer":"c1","utility":"u1","zone":"CN-ZJ","class":"residential"}"#).status == 200)
        for hour in 0..<2 { try LyingDaemonTests.addBatch(daemon, hour: hour) }
    }

    /// The latest plain checkpoint's size.
    private func latestSize() throws -> UInt64 {
        try SignedCheckpoint.unverified(try daemon.client().get("/v1/ledger/checkpoint").text).size
    }

    /// The cosigned checkpoint's note once it has `size` (the witnesses answer within their round).
    private func cosigned(atLeast size: UInt64) throws -> String {
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline {
            let answer = try daemon.client().get("/v1/ledger/checkpoint/cosigned")
            if answer.status == 200, (try? SignedCheckpoint.unverified(answer.text).size) ?? 0 >= size { return answer.text }
            usleep(10_000)
        }
        throw DaemonTestFailure("no cosigned checkpoint of size \(size) within 60 s: \(daemon.log)")
    }

    @Test func theCosignedCheckpointCarriesBothWitnessesAndEveryCommandChecksIt() throws {
        let note = try cosigned(atLeast: try latestSize())
        let checkpoint = try SignedCheckpoint.open(note, verifiers: [daemon.verifier]).checkpoint
        let policy = try WitnessPolicy(parsing: try String(contentsOfFile: policyPath, encoding: .utf8))
        let signatures = try #require(try? SignedNote.open(note, verifiers: [daemon.verifier]).unverified)
        #expect(policy.cosigners(of: checkpoint.text, among: signatures).map(\.witness.name) == ["w1", "w2"])

        let shown = try daemon.carbonctl(["checkpoint", "--policy", policyPath])
        #expect(shown.status == 0 && shown.out.contains("cosigned by w1, w2"), "\(shown.err)")
        let json = try daemon.carbonctl(["checkpoint", "--policy", policyPath, "--json"])
        #expect(json.out.contains(#""cosigned_by":["w1","w2"]"#) && json.out.contains(#""verified":true"#), "\(json.out) \(json.err)")
        let proofFile = daemon.directory.appendingPathComponent("reading.tlog-proof").path
        let proof = try daemon.carbonctl([
            "proof", "--policy", policyPath, "--reading", LyingDaemonTests.key("m2", hour: 1), "--out", proofFile,
        ])
        #expect(proof.status == 0 && proof.out.contains("cosigned by w1, w2"), "\(proof.err)")
        // Offline, with the shorthand: both witness keys, both required.
        let keys = ["--witness", witnesses[0].vkey, "--witness", witnesses[1].vkey]
        let offline = try AuditTests.carbonctl(
            ["verify-proof", proofFile, "--key", daemon.vkey] + keys + ["--min-witnesses", "2"], socket: "/nonexistent")
        // Without a policy file, witnesses go by their key names.
        #expect(offline.status == 0 && offline.out.contains("cosigned by witness.example/w1, witness.example/w2"), "\(offline.err)")
        let verified = try daemon.carbonctl(["verify", "--policy", policyPath])
        #expect(verified.status == 0 && verified.out.contains("cosigned by w1, w2"), "\(verified.err)")
        let audited = try daemon.carbonctl(["audit", "--policy", policyPath])
        #expect(audited.status == 0, "\(audited.err)")

        // The daemon's plain checkpoint carries no cosignature: refused under the policy.
        let plainFile = daemon.directory.appendingPathComponent("plain.tlog-proof").path
        #expect(try daemon.carbonctl(["proof", "--key", daemon.vkey, "--index", "1", "--out", plainFile]).status == 0)
        let plain = try AuditTests.carbonctl(["verify-proof", plainFile, "--policy", policyPath], socket: "/nonexistent")
        #expect(plain.status == 3 && plain.err.contains("does not meet the witness policy"), "\(plain.err)")
        // One witness's key and a demand for two is refused before anything is read.
        let impossible = try AuditTests.carbonctl(
            ["verify-proof", proofFile, "--witness", witnesses[0].vkey, "--min-witnesses", "2"], socket: "/nonexistent")
        #expect(impossible.status != 0 && impossible.err.contains("--min-witnesses"), "\(impossible.err)")
    }

    @Test func eachWitnessAndCarbonctlRefuseARolledBackOrForkedCheckpoint() throws {
        let note = try cosigned(atLeast: try latestSize())
        let held = try SignedCheckpoint.unverified(note)
        let key = try KeyFile.load(path: daemon.keyPath)
        // The daemon's own key signing what no honest daemon signs: another root at the size held, and an older size.
        let fork = try SignedCheckpoint.sign(
            try Checkpoint(origin: held.origin, size: held.size, rootHash: RFC6962.leafHash(Array("fork".utf8))), signers: [key])
        let older = try SignedCheckpoint.sign(
            try Checkpoint(origin: held.origin, size: held.size - 1, rootHash: RFC6962.leafHash(Array("old".utf8))), signers: [key])
        for witness in witnesses {
            let forked = try witness.addCheckpoint(AddCheckpointRequest(oldSize: held.size, proof: [], note: fork.note))
            #expect(forked.status == 422, "\(witness.name): \(forked.text)")
            let rolledBack = try witness.addCheckpoint(AddCheckpointRequest(oldSize: held.size, proof: [], note: older.note))
            #expect(rolledBack.status == 400, "\(witness.name): \(rolledBack.text)")
            let claimed = try witness.addCheckpoint(AddCheckpointRequest(oldSize: held.size - 1, proof: [], note: older.note))
            #expect(claimed.status == 409 && claimed.text == "\(held.size)\n", "\(witness.name): \(claimed.text)")
            #expect(claimed.headers.contains { $0.0.lowercased() == "content-type" && $0.1 == "text/x.tlog.size" })
        }
        // carbonctl refuses the forked checkpoint: no witness cosigned it.
        let forkFile = daemon.directory.appendingPathComponent("fork.tlog-proof").path
        let extra = JSONValue.object(["entry": .string("x")])
        try (["c2sp.org/tlog-proof@v1", "extra " + Base64.encode(extra.canonicalBytes()), "index 0"].joined(separator: "\n")
            + "\n\n" + fork.note).write(toFile: forkFile, atomically: true, encoding: .utf8)
        let refused = try AuditTests.carbonctl(["verify-proof", forkFile, "--policy", policyPath], socket: "/nonexistent")
        #expect(refused.status == 3 && refused.err.contains("does not meet the witness policy"), "\(refused.err)")
        // And the cosigned checkpoint is still the one held.
        #expect(try SignedCheckpoint.unverified(try cosigned(atLeast: held.size)).rootHash == held.rootHash)
    }

    @Test func theCosignedCheckpointOutlivesARestartWhileAWitnessIsAway() throws {
        let before = try cosigned(atLeast: try latestSize())
        witnesses[1].stop()
        #expect(daemon.stop() == 0)
        try daemon.start()
        // Taken back from beside the key: still served, though w2 cannot cosign again.
        #expect(try cosigned(atLeast: try SignedCheckpoint.unverified(before).size) == before)
    }

    @Test func aPolicyNotMetHoldsTheCosignedCheckpointBackWhileIngestGoesOn() throws {
        let before = try cosigned(atLeast: try latestSize())
        let cosignedSize = try SignedCheckpoint.unverified(before).size
        witnesses[1].stop()
        try LyingDaemonTests.addBatch(daemon, hour: 2)
        let latest = try latestSize()
        #expect(latest > cosignedSize)
        // Health says why, metrics say it is not met, and the cosigned checkpoint stays.
        let deadline = Date().addingTimeInterval(60)
        var health = ""
        while Date() < deadline {
            health = try daemon.client().get("/v1/health").text
            if health.contains("witness policy") { break }
            usleep(10_000)
        }
        #expect(health.contains("degraded") && health.contains("w2"), "\(health)")
        let metrics = try daemon.client().get("/metrics").text
        #expect(metrics.contains("carbonledger_witness_policy_met 0"), "\(metrics)")
        #expect(metrics.contains("carbonledger_cosigned_checkpoint_size \(cosignedSize)"))
        #expect(try daemon.client().get("/v1/ledger/checkpoint/cosigned").text == before)
        // Ingest went on: the reading is in the ledger.
        #expect(try daemon.client().get(LyingDaemonTests.proofPath("m1", hour: 2)).status == 200)

        // The witness comes back with its state: the next checkpoint is cosigned by both again.
        try witnesses[1].start()
        try LyingDaemonTests.addBatch(daemon, hour: 3)
        let after = try cosigned(atLeast: try latestSize())
        #expect(try SignedCheckpoint.unverified(after).size == (try latestSize()))
        #expect(!(try daemon.client().get("/v1/health").text.contains("witness policy")))
    }
}
