import CarbonAccounting
import CarbonClient
import CarbonStore
import Foundation
import Testing
import TransparencyLog

/// Certificates: used once, validated, one ledger entry each (in-process).
@Suite struct CertificateTests {
    @Test func aCertificateIsOneEntryAndItsIdIsUsedOnce() async throws {
        let client = try await InProcessDaemon()
        #expect(try await client.post("/v1/consumers", #"{"consumer":"c1","utility":"u1","zone":"CN-ZJ","class":"residential"}"#).status == 200)
        let certificate = #"{"id":"gec-1","consumer":"c1","start":"2023-03-01T00:00:00+08:00","end":"2023-04-01T00:00:00+08:00","wh":20000,"technology":"solar","issuer":"CN-GEC"}"#
        let first = try await client.post("/v1/certificates", "[\(certificate)]", contentType: "application/json")
        #expect(first.status == 200, "\(first.text)")
        let entry = try #require(try first.json()["entry"] as? Int)
        let stored = try await client.get("/v1/ledger/entries?start=\(entry)&end=\(entry + 1)").json()
        let text = try #require((stored["entries"] as? [[String: Any]])?.first?["entry"] as? String)
        #expect(text.contains(#""id":"gec-1""#) && text.contains(#""kind":"certificate""#) && text.contains(#""wh":20000"#), "\(text)")

        let before = try await client.get("/v1/ledger/checkpoint").text
        let again = try await client.post("/v1/certificates", certificate, contentType: "application/x-ndjson")
        #expect(again.status == 409, "\(again.text)")
        #expect((try again.json()["errors"] as? [[String: Any]])?.first?["field"] as? String == "id")
        let bad = try await client.post("/v1/certificates", """
            {"id":"gec-2","consumer":"nobody","start":1790000000,"end":1790003600,"wh":1,"technology":"wind","issuer":"x"}
            {"id":"gec-3","consumer":"c1","start":1790003600,"end":1790003600,"wh":0,"technology":"wind","issuer":"x"}
            {"id":"gec-4","consumer":"c1","start":1790000000,"end":1790003600,"wh":5,"technology":"wind","issuer":"x"}
            """, contentType: "application/x-ndjson")
        #expect(bad.status == 422, "\(bad.text)")
        let errors = try bad.json()["errors"] as? [[String: Any]] ?? []
        #expect(errors.map { $0["index"] as? Int ?? -1 } == [0, 1], "\(bad.text)")
        #expect((errors.last?["message"] as? String)?.contains("wh must be") == true)
        #expect(try await client.get("/v1/ledger/checkpoint").text == before, "a refused batch changed the ledger")
    }

    /// "gc-\u{E9}" and "gc-e\u{301}" are one String to Swift and two keys to SQLite: only
    /// the NFC spelling is taken, as for every other name, and the period still computes.
    @Test func certificateIdsFollowTheNameRules() async throws {
        let client = try await AccountingTests.workedExampleInProcess()
        let before = try await client.get("/v1/ledger/checkpoint").text
        func certificate(_ id: String) -> String {
            #"{"id":"\#(id)","consumer":"c1","start":"2023-03-01T00:00:00+08:00","end":"2023-04-01T00:00:00+08:00","wh":1,"technology":"solar","issuer":"CN-GEC"}"#
        }
        for id in ["gc-e\u{301}", "gc/1", " gc", #"gc\u0007"#, String(repeating: "g", count: 129), ""] {
            let answer = try await client.post("/v1/certificates", certificate(id), contentType: "application/x-ndjson")
            #expect(answer.status == 422, "\(id.debugDescription): \(answer.text)")
            let errors = try answer.json()["errors"] as? [[String: Any]] ?? []
            #expect(errors.first?["field"] as? String == "id", "\(id.debugDescription): \(answer.text)")
        }
        #expect(try await client.get("/v1/ledger/checkpoint").text == before, "a refused certificate changed the ledger")
        let accepted = try await client.post("/v1/certificates", certificate("gc-\u{E9}"), contentType: "application/x-ndjson")
        #expect(accepted.status == 200, "\(accepted.text)")
        let score = try await client.get("/v1/consumers/c1/score?period=2023-03")
        #expect(score.status == 200, "\(score.text)")
    }

    /// interface.md: limits are enforced before parsing. The record past the limit is
    /// malformed here: a body parsed first would be a 400, not the 413 of the limit.
    @Test func theRecordLimitComesBeforeParsing() async throws {
        let client = try await InProcessDaemon(extraConfig: "[limits]\nmax_records_per_batch = 2")
        let record = #"{"id":"gc-1","consumer":"c1","start":1790000000,"end":1790003600,"wh":1,"technology":"solar","issuer":"x"}"#
        for (body, type) in [
            ("[\(record),\(record),{\"id\":", "application/json"),
            ("\(record)\n\(record)\n{\"id\":\n", "application/x-ndjson"),
        ] {
            let answer = try await client.post("/v1/certificates", body, contentType: type)
            #expect(answer.status == 413, "\(type): \(answer.text)")
            #expect(answer.text.contains("max_records_per_batch"), "\(type): \(answer.text)")
        }
        // Within the limit, a malformed body is still a 400.
        let malformed = try await client.post("/v1/certificates", "[\(record),{\"id\":", contentType: "application/json")
        #expect(malformed.status == 400, "\(malformed.text)")
    }

    /// 600 certificates with 100-byte ids matched in one month: listed, they would pass the
    /// 65,535 bytes an entry may have and the close would fail. The score entry carries
    /// their root and count instead, and the audit recomputes it.
    @Test func aScoreOfHundredsOfCertificatesCarriesTheirRoot() async throws {
        let client = try await InProcessDaemon(extraConfig: AccountingTests.manualClose)
        try await AccountingTests.loadOneAnnualFactor(client)
        #expect(try await client.post("/v1/consumers", #"{"consumer":"c1","utility":"u1","zone":"CN-ZJ","class":"residential"}"#).status == 200)
        #expect(try await client.post("/v1/readings", """
            {"utility":"u1","meter":"m1","consumer":"c1","start":"2023-05-01T00:00:00+08:00","duration_s":3600,"import_wh":600}
            """).status == 200)
        let ids = (0..<600).map { "gc-" + String(repeating: "0", count: 97 - String($0).count) + String($0) }
        let certificates = ids.map {
            #"{"id":"\#($0)","consumer":"c1","start":"2023-05-01T00:00:00+08:00","end":"2023-05-02T00:00:00+08:00","wh":1,"technology":"solar","issuer":"CN-GEC"}"#
        }
        let added = try await client.post("/v1/certificates", certificates.joined(separator: "\n"), contentType: "application/x-ndjson")
        #expect(added.status == 200, "\(added.text)")
        let closed = try await client.post("/v1/periods/2023-05/close", "")
        #expect(closed.status == 200, "\(closed.text)")
        let score = try await client.get("/v1/consumers/c1/score?period=2023-05").json()
        let entry = try #require(score["entry"] as? [String: Any], "\(score)")
        let text = try #require(entry["entry"] as? String)
        #expect(text.utf8.count <= 65_535)
        let body = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        #expect(body["matched_wh"] as? Int == 600)
        let inputs = try #require(body["inputs"] as? [String: Any])
        #expect(inputs["certificates"] == nil)
        #expect(inputs["certificates_count"] as? Int == 600)
        let leaves = ids.sorted().map { RFC6962.leafHash(Array("\"\($0)\"".utf8)) }
        #expect(inputs["certificates_root"] as? String == RFC6962.rootHash(ofLeafHashes: leaves).base64)
        try Self.expectAudits(client)
    }

    /// 900 zones with a consumer each make 900 peer groups: listed, the period entry would
    /// pass the 65,535 bytes of a tile. It carries their root and count; the audit agrees.
    @Test func aPeriodOfHundredsOfPeerGroupsCarriesTheirRoot() async throws {
        let daemon = try DaemonProcess(extraConfig: AccountingTests.manualClose)
        let zones = daemon.directory.appendingPathComponent("zones.csv")
        try ("zone,parent,name\nCN,,China\n" + (0..<900).map { "Z-\($0),CN,zone \($0)\n" }.joined())
            .write(to: zones, atomically: true, encoding: .utf8)
        daemon.zonesPath = zones.path
        try daemon.writeConfig(extra: AccountingTests.manualClose)
        let client = try await InProcessDaemon(daemon)
        #expect(try await client.post("/v1/factors?dataset=annual", "zone,kind,year,mg_per_kwh,source\nCN,average,2023,500000,test\n",
                                contentType: "text/csv").status == 200)
        let consumers = (0..<900).map { #"{"consumer":"c\#($0)","utility":"u1","zone":"Z-\#($0)","class":"residential"}"# }
        #expect(try await client.post("/v1/consumers", consumers.joined(separator: "\n")).status == 200)
        let readings = (0..<900).map {
            #"{"utility":"u1","meter":"m\#($0)","consumer":"c\#($0)","start":"2023-05-01T00:00:00+08:00","duration_s":3600,"import_wh":10}"#
        }
        #expect(try await client.post("/v1/readings", readings.joined(separator: "\n")).status == 200)
        let closed = try await client.post("/v1/periods/2023-05/close", "")
        #expect(closed.status == 200, "\(closed.text)")
        let index = try #require(try closed.json()["entry"] as? Int)
        let entries = try await client.get("/v1/ledger/entries?start=\(index)&end=\(index + 1)").json()
        let text = try #require((entries["entries"] as? [[String: Any]])?.first?["entry"] as? String)
        let body = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        #expect(body["kind"] as? String == "period" && body["benchmarks"] == nil)
        #expect(body["benchmarks_count"] as? Int == 900)
        #expect((body["benchmarks_root"] as? String)?.count == 44)
        try Self.expectAudits(client)
    }

    /// The auditor's verifier, score replay included, finds nothing wrong with the ledger.
    static func expectAudits(_ daemon: InProcessDaemon) throws {
        let verification = try LedgerFile.verify(
            path: daemon.files.database, first: daemon.files.verifier,
            options: .init(checksData: true, replayScores: { try SystemTimeZones.calendar($0) }))
        #expect(verification.failures.isEmpty, "\(verification.failures)")
        #expect(verification.scoresChecked > 0)
    }
}
