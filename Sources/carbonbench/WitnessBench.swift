import CarbonClient
import CarbonLedger
import CarbonStore
import Foundation
import TransparencyLog

/// What witnesses cost ingest: the same batches pushed end to end without witnesses
/// and with two `carbonctl witness` processes under a 2-of-2 policy, and how long
/// after the last batch is answered the cosigned checkpoint covers it.
struct WitnessBench {
    let setup: BenchSetup

    struct Result {
        let plain: Measurement
        let witnessed: Measurement
        /// Seconds from the last answer to a cosigned checkpoint of the ledger's size.
        let catchUpSeconds: Double
    }

    func run(prefilled: URL, batches: [[UInt8]], clients: Int) throws -> Result {
        let plain = try setup.measureDaemon(database: prefilled, batches: batches, clients: clients)
        let folder = setup.directory.appendingPathComponent("witnesses")
        try? FileManager.default.removeItem(at: folder)
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        // A cosigned checkpoint kept by an earlier run belongs to another ledger.
        try? FileManager.default.removeItem(atPath: String(
            HighestCheckpoint.path(keyPath: setup.keyPath, origin: setup.origin).dropLast(".checkpoint".count)) + ".cosigned")
        let logKey = try KeyFile.load(path: setup.keyPath).verifier.vkey
        var policy = "log \(logKey)\n"
        var witnesses: [Process] = []
        defer {
            for witness in witnesses {
                witness.terminate()
                witness.waitUntilExit()
            }
        }
        for name in ["w1", "w2"] {
            let keyPath = folder.appendingPathComponent("\(name).key").path
            let vkey = try WitnessVerifier(try KeyFile.create(path: keyPath, origin: "bench.witness/\(name)")).vkey
            let socket = folder.appendingPathComponent("\(name).sock").path
            let process = Process()
            process.executableURL = BenchSetup.sibling("carbonctl")
            process.arguments = [
                "witness", "--key", keyPath, "--state", folder.appendingPathComponent("\(name)-state").path,
                "--log", logKey, "--listen", "unix:\(socket)",
            ]
            process.standardError = FileHandle.nullDevice
            try process.run()
            witnesses.append(process)
            try waitForSocket(socket, process: process)
            policy += "witness \(name) \(vkey) unix:\(socket)\n"
        }
        policy += "group both all w1 w2\nquorum both\n"
        let policyPath = folder.appendingPathComponent("witnesses.policy").path
        try policy.write(toFile: policyPath, atomically: true, encoding: .utf8)

        var catchUp = 0.0
        let witnessed = try setup.measureDaemon(
            database: prefilled, batches: batches, clients: clients, ledgerConfig: #"witness_policy = "\#(policyPath)""#
        ) { socket in
            let started = DispatchTime.now()
            let client = try UnixHTTPClient(socketPath: socket)
            let latest = try SignedCheckpoint.unverified(client.request("GET", "/v1/ledger/checkpoint").text).size
            let deadline = Date().addingTimeInterval(60)
            while Date() < deadline {
                let answer = try client.request("GET", "/v1/ledger/checkpoint/cosigned")
                if answer.status == 200, (try? SignedCheckpoint.unverified(answer.text).size) == latest {
                    catchUp = Double(DispatchTime.now().uptimeNanoseconds - started.uptimeNanoseconds) / 1e9
                    return
                }
                usleep(1_000)
            }
            throw BenchFailure("the witnesses did not cosign the checkpoint of size \(latest) within 60 s")
        }
        return Result(plain: plain, witnessed: witnessed, catchUpSeconds: catchUp)
    }

    private func waitForSocket(_ path: String, process: Process) throws {
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline {
            guard process.isRunning else { throw BenchFailure("carbonctl witness exited with \(process.terminationStatus)") }
            if (try? UnixHTTPClient(socketPath: path)) != nil { return }
            usleep(10_000)
        }
        throw BenchFailure("carbonctl witness did not listen on \(path)")
    }
}
