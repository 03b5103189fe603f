import Foundation
import Testing

/// carbonctl against a real daemon: what an operator and an auditor run.
@Suite struct CarbonctlTests {
    /// Runs carbonctl with the daemon's socket; returns exit status, stdout and stderr.
    private func carbonctl(_ daemon: DaemonProcess, _ arguments: [String]) throws -> (status: Int32, out: String, err: String) {
        let process = Process()
        process.executableURL = DaemonProcess.binary("carbonctl")
        process.arguments = arguments + ["--socket", daemon.socket]
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

    @Test func ingestThenVerifyAndProveWithTheVerifierKey() throws {
        let daemon = try DaemonProcess()
        try daemon.start()
        let consumers = daemon.directory.appendingPathComponent("consumers.csv")
        try "consumer,utility,zone,class\nc1,u1,CN-ZJ,residential\n".write(to: consumers, atomically: true, encoding: .utf8)
        let readings = daemon.directory.appendingPathComponent("readings.ndjson")
        try (0..<25).map {
            #"{"utility":"u1","meter":"m\#($0 % 5)","consumer":"c1","start":\#(1_790_000_000 / 3600 * 3600 + ($0 / 5) * 3600),"duration_s":3600,"import_wh":\#($0)}"#
        }.joined(separator: "\n").write(to: readings, atomically: true, encoding: .utf8)

        #expect(try carbonctl(daemon, ["consumers", "add", consumers.path]).status == 0)
        let ingest = try carbonctl(daemon, ["ingest", readings.path, "--batch-size", "10"])
        #expect(ingest.status == 0, "\(ingest.err)")
        #expect(ingest.out.contains("25 readings accepted, 0 duplicates"), "\(ingest.out)")
        // Batch ids come from the content: running it again stores nothing.
        let again = try carbonctl(daemon, ["ingest", readings.path, "--batch-size", "10"])
        #expect(again.out.contains("25 readings accepted"), "replayed answers repeat the original: \(again.out)")
        let health = try daemon.client().get("/v1/health").json()
        #expect(health["size"] as? Int == 1 + 1 + 3)  // zones, the consumer, three batches

        let verify = try carbonctl(daemon, ["verify", "--key", daemon.vkey])
        #expect(verify.status == 0, "\(verify.err)")
        #expect(verify.out.contains("verified 5 entries"), "\(verify.out)")
        let start = 1_790_000_000 / 3600 * 3600 + 3600
        let proof = try carbonctl(daemon, ["proof", "--key", daemon.vkey, "--reading", "u1/m2/\(start)"])
        #expect(proof.status == 0, "\(proof.err)")
        #expect(proof.out.contains("\"import_wh\":7"), "\(proof.out)")

        // Another ledger's key verifies nothing, with its own exit status.
        let stranger = try DaemonProcess()
        let wrong = try carbonctl(daemon, ["verify", "--key", stranger.vkey])
        #expect(wrong.status == 3, "\(wrong.out) \(wrong.err)")
        #expect(wrong.err.contains("does not verify"), "\(wrong.err)")
    }
}
