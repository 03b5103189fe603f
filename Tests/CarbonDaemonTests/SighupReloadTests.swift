import CarbonClient
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// SIGHUP puts new grants and limits in force without a restart.
@Suite struct SighupReloadTests {
    /// Polls `condition` (a bounded wait on a condition, not a pause).
    private func eventually(_ what: String, _ condition: () throws -> Bool) throws {
        let deadline = Date().addingTimeInterval(20)
        while Date() < deadline {
            if try condition() { return }
            usleep(20_000)
        }
        throw DaemonTestFailure("never happened: \(what)")
    }

    private func hangUp(_ daemon: DaemonProcess) throws {
        let pid = try #require(daemon.process?.processIdentifier)
        kill(pid, SIGHUP)
    }

    @Test func sighupChangesLimitsAndGrantsWithoutARestart() throws {
        let daemon = try DaemonProcess()
        try daemon.start()
        let pid = daemon.process?.processIdentifier
        let client = try daemon.client()
        #expect(try client.post("/v1/consumers", #"{"consumer":"c1","utility":"u1","zone":"CN-ZJ","class":"public"}"#).status == 200)
        let three = (0..<3).map {
            #"{"utility":"u1","meter":"m\#($0)","consumer":"c1","start":1790000000,"duration_s":60,"import_wh":1}"#
        }.joined(separator: "\n")

        // A limit.
        try daemon.writeConfig(extra: "[limits]\nmax_records_per_batch = 2")
        try hangUp(daemon)
        try eventually("max_records_per_batch = 2 in force") {
            try daemon.client().post("/v1/readings", three).status == 413
        }
        #expect(daemon.log.contains("limits.max_records_per_batch: 100000 -> 2"), "\(daemon.log)")

        // A grant: root now matches an auditor grant first, on the open connection too.
        #expect(try (client.get("/v1/whoami").json()["role"] as? String) == "admin")
        daemon.grants = "[[access.grant]]\nuid = 0\nrole = \"auditor\"\n" + DaemonProcess.selfAdmin
        try daemon.writeConfig(extra: "[limits]\nmax_records_per_batch = 2")
        try hangUp(daemon)
        try eventually("the auditor grant in force") {
            (try daemon.client().get("/v1/whoami").json()["role"] as? String) == "auditor"
        }
        #expect(try (client.get("/v1/whoami").json()["role"] as? String) == "auditor")

        // A config that does not validate changes nothing.
        try "[limits]\nmax_records_per_batch = \"many\"\n".write(toFile: daemon.configPath, atomically: true, encoding: .utf8)
        try hangUp(daemon)
        try eventually("the refusal logged") { daemon.log.contains("reload refused") }
        #expect((try daemon.client().get("/v1/whoami").json()["role"] as? String) == "auditor")
        #expect(daemon.process?.processIdentifier == pid && daemon.process?.isRunning == true)
    }
}
