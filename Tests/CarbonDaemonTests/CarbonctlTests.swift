import Foundation
import Testing

/// carbonctl against a real daemon: what an operator and an auditor run.
@Suite struct CarbonctlTests {
    /// Runs carbonctl with the daemon's socket; returns exit status, stdout and stderr.
    private func carbonctl(
        _ daemon: DaemonProcess, _ arguments: [String], environment: [String: String] = [:]
    ) throws -> (status: Int32, out: String, err: String) {
        try daemon.carbonctl(arguments, environment: environment)
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

        let key = try carbonctl(daemon, ["key"])
        #expect(key.status == 0 && key.out.split(separator: "\n").first.map(String.init) == daemon.vkey, "\(key.out)")
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

    /// A utility's Green Button export, corrected by a later export, a closed month
    /// restated: every step from the command line, the corrected reading proven offline.
    @Test func greenButtonFeedsCorrectionsAndARestatement() async throws {
        let (daemon, _) = try await AccountingTests.daemonWithOneAnnualFactor()
        #expect(try daemon.client().post("/v1/consumers", #"{"consumer":"c1","utility":"u1","zone":"CN-ZJ","class":"residential"}"#).status == 200)
        let march = Int64(1_677_600_000)  // 2023-03-01T00:00:00+08:00
        let feed = daemon.directory.appendingPathComponent("usage.xml")
        try GreenButtonImportTests.feed(imports: (0..<24).map { (march + Int64($0) * 3600, 3600, 100, $0 == 5 ? [8] : []) })
            .write(to: feed, atomically: true, encoding: .utf8)
        let missing = try carbonctl(daemon, ["ingest", feed.path])
        #expect(missing.status != 0 && missing.err.contains("--consumer"), "\(missing.err)")
        let ingest = try carbonctl(daemon, ["ingest", feed.path, "--utility", "u1", "--consumer", "c1", "--meter", "gb-1"])
        #expect(ingest.status == 0 && ingest.out.contains("24 readings accepted"), "\(ingest.out) \(ingest.err)")

        // The utility's next export has the estimate replaced: sent as corrections.
        try GreenButtonImportTests.feed(imports: (0..<24).map { (march + Int64($0) * 3600, 3600, $0 == 5 ? 130 : 100, []) })
            .write(to: feed, atomically: true, encoding: .utf8)
        let fix = try carbonctl(daemon, [
            "ingest", feed.path, "--correct", "--reason", "estimated_to_actual", "--utility", "u1", "--consumer", "c1",
            "--meter", "gb-1",
        ])
        #expect(fix.status == 0 && fix.out.contains("1 corrections accepted, 23 duplicates"), "\(fix.out) \(fix.err)")
        let hour5 = march + 5 * 3600
        let proof = try carbonctl(daemon, ["proof", "--key", daemon.vkey, "--reading", "u1/gb-1/\(hour5)"])
        #expect(proof.status == 0 && proof.out.contains(#""import_wh":130"#) && proof.out.contains("replaces_entry"), "\(proof.out) \(proof.err)")

        // Closed, restated, corrected again from NDJSON, closed again; the ledger audits.
        #expect(try carbonctl(daemon, ["close", "2023-03"]).status == 0)
        let restate = try carbonctl(daemon, ["restate", "2023-03", "--reason", "meter fault found"])
        #expect(restate.status == 0 && restate.out.contains("open for corrections"), "\(restate.out) \(restate.err)")
        let fault = daemon.directory.appendingPathComponent("fault.ndjson")
        try #"{"utility":"u1","meter":"gb-1","consumer":"c1","start":\#(hour5),"duration_s":3600,"import_wh":125,"reason":"meter_fault"}"#
            .write(to: fault, atomically: true, encoding: .utf8)
        let corrected = try carbonctl(daemon, ["ingest", fault.path, "--correct"])
        #expect(corrected.status == 0 && corrected.out.contains("1 corrections accepted"), "\(corrected.out) \(corrected.err)")
        let reclose = try carbonctl(daemon, ["close", "2023-03"])
        #expect(reclose.status == 0 && reclose.out.contains("restating period entry"), "\(reclose.out)")
        let score = try daemon.client().get("/v1/consumers/c1/score?period=2023-03").json()
        #expect(score["energy_wh"] as? Int == 23 * 100 + 125)
        let audit = try AuditTests.exportAndAudit(daemon, name: "bundle")
        #expect(audit.status == 0 && audit.out.contains("and 2 scores recomputed"), "\(audit.out) \(audit.err)")
    }

    @Test func certificatesCloseScoreDirectoryAndInventory() async throws {
        let (daemon, _) = try await AccountingTests.workedExample()
        let certificates = daemon.directory.appendingPathComponent("certificates.ndjson")
        try """
            {"id":"gec-4","consumer":"c1","start":"2023-04-01T00:00:00+08:00","end":"2023-05-01T00:00:00+08:00","wh":100,"technology":"wind","issuer":"CN-GEC"}
            """.write(to: certificates, atomically: true, encoding: .utf8)
        let added = try carbonctl(daemon, ["certificates", "add", certificates.path])
        #expect(added.status == 0 && added.out.contains("1 certificates registered"), "\(added.out) \(added.err)")

        let early = try carbonctl(daemon, ["close", "2023-03"])
        #expect(early.status == 1 && early.err.contains("close 2023-02 first"), "\(early.err)")
        #expect(try carbonctl(daemon, ["close", "2023-02"]).status == 0)
        let closed = try carbonctl(daemon, ["close", "2023-03"])
        #expect(closed.status == 0 && closed.out.contains("2023-03 closed"), "\(closed.out) \(closed.err)")
        #expect(try carbonctl(daemon, ["close", "2023-03"]).out.contains("closed already"))

        let score = try carbonctl(daemon, ["score", "c1", "--period", "2023-03"])
        #expect(score.status == 0 && score.out.contains("470 / 1000") && score.out.contains("no_benchmark"), "\(score.out)")
        #expect(!score.out.contains("Score 470 of 1000"), "explained only when asked: \(score.out)")
        // --explain, in the language of --lang, else of LC_ALL, LC_MESSAGES or LANG.
        let neutral = ["LC_ALL": "", "LC_MESSAGES": "", "LANG": "C.UTF-8"]
        let explained = try carbonctl(daemon, ["score", "c1", "--period", "2023-03", "--explain"], environment: neutral)
        #expect(explained.status == 0, "\(explained.err)")
        for line in [
            "Score 470 of 1000: the weighted mean of peer 500 x 40",
            "  P  500 x 40  Only 1 residential consumer in CN-ZJ used energy this period",
            "  G  200 x 15  Green certificates covered 20.00 of your 100.00 kWh (20.0 %).",
            "> Using 10 % less energy (90.00 instead of 100.00 kWh) would have raised your score from 470 to 501 (+31)",
        ] {
            #expect(explained.out.contains(line), "\(line)\n\(explained.out)")
        }
        for (arguments, environment) in [
            (["--lang", "zh-CN"], neutral), ([], ["LC_ALL": "", "LC_MESSAGES": "", "LANG": "zh_CN.UTF-8"]),
            ([], ["LC_ALL": "zh_CN.UTF-8", "LANG": "en_US.UTF-8"]),
        ] {
            let chinese = try carbonctl(
                daemon, ["score", "c1", "--period", "2023-03", "--explain"] + arguments, environment: environment)
            #expect(chinese.out.contains("得分 470（满分 1000）") && chinese.out.contains("> 如果少用 10% 的电"),
                    "\(arguments) \(environment): \(chinese.out)")
        }
        let english = try carbonctl(
            daemon, ["score", "c1", "--period", "2023-03", "--explain"],
            environment: ["LC_ALL": "en_US.UTF-8", "LANG": "zh_CN.UTF-8"])
        #expect(english.out.contains("Score 470 of 1000"), "LC_ALL comes first: \(english.out)")
        let json = try carbonctl(daemon, ["score", "c1", "--period", "2023-03", "--json"])
        let figures = try JSONSerialization.jsonObject(with: Data(json.out.utf8)) as? [String: Any]
        #expect(figures?["points"] as? Int == 2 && figures?["provisional"] as? Bool == false)

        let directory = try carbonctl(daemon, ["directory", "--period", "2023-03", "--limit", "1"])
        #expect(directory.status == 0, "\(directory.err)")
        let line = directory.out.split(separator: "\n").first { $0.hasPrefix("c1 ") }
        #expect(line?.split(separator: " ").contains("470") == true, "\(directory.out)")

        let inventory = try carbonctl(daemon, ["inventory", "CN-ZJ", "--from", "2023-02", "--to", "2023-03"])
        #expect(inventory.status == 0, "\(inventory.err)")
        let march = inventory.out.split(separator: "\n").first { $0.hasPrefix("2023-03") }
        // One consumer: its figures are withheld from the inventory (min_peers 5).
        #expect(march?.split(separator: " ").starts(with: ["2023-03", "-", "-", "-", "1", "(few)"]) == true, "\(inventory.out)")
        #expect(inventory.out.contains("figures withheld"), "\(inventory.out)")
        #expect(daemon.stop() == 0)
    }

    @Test func proofFilesVerifyOfflineAndFailWhenChanged() async throws {
        let (daemon, _) = try await AccountingTests.workedExample()
        let entryProof = daemon.directory.appendingPathComponent("entry.tlog-proof").path
        let readingProof = daemon.directory.appendingPathComponent("reading.tlog-proof").path
        #expect(try carbonctl(daemon, ["proof", "--key", daemon.vkey, "--index", "2", "--out", entryProof]).status == 0)
        #expect(try carbonctl(daemon, [
            "proof", "--key", daemon.vkey, "--reading", "u1/m1/2023-03-01T00:00:00+08:00", "--out", readingProof,
        ]).status == 0)
        #expect(daemon.stop() == 0)

        // Offline now: the daemon is gone.
        let text = try String(contentsOfFile: entryProof, encoding: .utf8)
        #expect(text.hasPrefix("c2sp.org/tlog-proof@v1\nextra ") && text.contains("\nindex 2\n"), "\(text)")
        let entry = try AuditTests.carbonctl(["verify-proof", entryProof, "--key", daemon.vkey], socket: daemon.socket)
        #expect(entry.status == 0 && entry.out.contains("verified"), "\(entry.out) \(entry.err)")
        let reading = try AuditTests.carbonctl(["verify-proof", readingProof, "--key", daemon.vkey], socket: daemon.socket)
        #expect(reading.status == 0 && reading.out.contains("reading 1 of 2"), "\(reading.out) \(reading.err)")

        // One hash changed: the inclusion no longer holds.
        var lines = text.components(separatedBy: "\n")
        let hash = try #require(lines.firstIndex { $0.hasPrefix("index ") }) + 1
        lines[hash] = String(repeating: "A", count: 43) + "="
        try lines.joined(separator: "\n").write(toFile: entryProof, atomically: true, encoding: .utf8)
        let changed = try AuditTests.carbonctl(["verify-proof", entryProof, "--key", daemon.vkey], socket: daemon.socket)
        #expect(changed.status == 3 && changed.err.contains("NOT proven"), "\(changed.err)")
        let stranger = try DaemonProcess()
        let wrongKey = try AuditTests.carbonctl(["verify-proof", readingProof, "--key", stranger.vkey], socket: daemon.socket)
        #expect(wrongKey.status == 3, "\(wrongKey.err)")
    }
}
