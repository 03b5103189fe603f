import CarbonClient
import CarbonConfig
import Foundation
import Testing

/// Green Button (NAESB ESPI) feeds through `POST /v1/readings`: the same limits,
/// atomicity and batch ids as the other formats, the ids the feed lacks from the query.
@Suite struct GreenButtonImportTests {
    /// 2024-01-01T00:00:00Z.
    static let newYear: Int64 = 1_704_067_200

    /// A feed of one meter: an import ReadingType (`multiplier` as given) with `imports`,
    /// and an export one with `exports` when there are any; `(start, duration_s, value, quality codes)`.
    static func feed(
        imports: [(Int64, Int64, Int64, [Int])], exports: [(Int64, Int64, Int64, [Int])] = [], multiplier: Int = 0,
        prefix: String = "espi"
    ) -> String {
        func e(_ name: String) -> String { "\(prefix):\(name)" }
        func reading(_ r: (Int64, Int64, Int64, [Int])) -> String {
            let qualities = r.3.map { "<\(e("ReadingQuality"))><\(e("quality"))>\($0)</\(e("quality"))></\(e("ReadingQuality"))>" }
            return "<\(e("IntervalReading"))>\(qualities.joined())<\(e("timePeriod"))><\(e("duration"))>\(r.1)</\(e("duration"))>"
                + "<\(e("start"))>\(r.0)</\(e("start"))></\(e("timePeriod"))><\(e("value"))>\(r.2)</\(e("value"))></\(e("IntervalReading"))>"
        }
        var entries: [String] = []
        for (id, flow, readings) in [(1, 1, imports), (2, 19, exports)] where !readings.isEmpty {
            let meterReading = "/espi/1_1/resource/Subscription/1/UsagePoint/1/MeterReading/\(id)"
            entries.append("""
                <entry><link rel="self" href="/espi/1_1/resource/ReadingType/\(id)"/><content><\(e("ReadingType"))>\
                <\(e("accumulationBehaviour"))>4</\(e("accumulationBehaviour"))><\(e("flowDirection"))>\(flow)</\(e("flowDirection"))>\
                <\(e("powerOfTenMultiplier"))>\(multiplier)</\(e("powerOfTenMultiplier"))><\(e("uom"))>72</\(e("uom"))>\
                </\(e("ReadingType"))></content></entry>
                <entry><link rel="self" href="\(meterReading)"/><link rel="related" href="/espi/1_1/resource/ReadingType/\(id)"/>\
                <content><\(e("MeterReading"))/></content></entry>
                <entry><link rel="self" href="\(meterReading)/IntervalBlock/1"/><content><\(e("IntervalBlock"))>
                \(readings.map(reading).joined(separator: "\n"))
                </\(e("IntervalBlock"))></content></entry>
                """)
        }
        return """
            <?xml version="1.0" encoding="UTF-8"?>
            <feed xmlns="http://www.w3.org/2005/Atom" xmlns:\(prefix)="http://naesb.org/espi">
            <id>urn:uuid:feed</id>
            \(entries.joined(separator: "\n"))
            </feed>
            """
    }

    /// A peer the config makes utility u1's: an uid no account has.
    static let utilityPeer = PeerCredentials(uid: 4_000_123, gid: 4_000_123, pid: 1)

    static func daemon() async throws -> InProcessDaemon {
        let grants = DaemonProcess.selfAdmin + """

            [[access.grant]]
            uid = \(utilityPeer.uid)
            role = "utility"
            utility = "u1"
            """
        let app = try await InProcessDaemon(grants: grants, extraConfig: AccountingTests.manualClose)
        try await AccountingTests.loadOneAnnualFactor(app)
        #expect(try await app.post("/v1/consumers", #"{"consumer":"c1","utility":"u1","zone":"CN-ZJ","class":"residential"}"#).status == 200)
        return app
    }

    static let path = "/v1/readings?utility=u1&consumer=c1&meter=gb-1"

    @Test func aFeedOfImportAndExportInKWhIsStoredAsOneMetersReadings() async throws {
        let app = try await Self.daemon()
        // Hourly kWh (multiplier 3): 2 kWh imported, 1 kWh exported at noon; the second hour estimated.
        let text = Self.feed(
            imports: [(Self.newYear, 3600, 2, []), (Self.newYear + 3600, 3600, 3, [8])],
            exports: [(Self.newYear, 3600, 1, [])], multiplier: 3, prefix: "g")
        let answer = try await app.post(Self.path, text, contentType: "application/atom+xml")
        #expect(answer.status == 200, "\(answer.text)")
        #expect(try answer.json()["accepted"] as? Int == 2)
        let proof = try await app.get("/v1/readings/u1/gb-1/\(Self.newYear)/proof").json()
        let leaf = try #require(proof["reading"] as? String)
        #expect(leaf.contains(#""export_wh":1000"#) && leaf.contains(#""import_wh":2000"#) && leaf.contains(#""consumer":"c1""#), "\(leaf)")
        let second = try await app.get("/v1/readings/u1/gb-1/\(Self.newYear + 3600)/proof").json()
        #expect((second["reading"] as? String)?.contains(#""quality":"estimated""#) == true)
        let score = try await app.get("/v1/consumers/c1/score?period=2024-01").json()
        #expect(score["energy_wh"] as? Int == 5000 && score["export_wh"] as? Int == 1000 && score["estimated_wh"] as? Int == 3000)

        // The same feed again: duplicates; then the estimate corrected by a new export of the feed.
        let again = try await app.post(Self.path, text, contentType: "application/atom+xml")
        #expect(try again.json()["duplicates"] as? Int == 2)
        let fixed = Self.feed(
            imports: [(Self.newYear, 3600, 2, []), (Self.newYear + 3600, 3600, 4, [19])],
            exports: [(Self.newYear, 3600, 1, [])], multiplier: 3)
        let noReason = try await app.post(Self.path + "&correct=true", fixed, contentType: "application/atom+xml")
        #expect(noReason.status == 400 && noReason.text.contains("reason"), "\(noReason.text)")
        let corrected = try await app.post(
            Self.path + "&correct=true&reason=estimated_to_actual", fixed, contentType: "application/atom+xml")
        #expect(corrected.status == 200, "\(corrected.text)")
        let counts = try corrected.json()
        #expect(counts["accepted"] as? Int == 1 && counts["duplicates"] as? Int == 1)
        let after = try await app.get("/v1/consumers/c1/score?period=2024-01").json()
        #expect(after["energy_wh"] as? Int == 6000 && after["estimated_wh"] as? Int == 0)
    }

    @Test func aBadFeedOrRequestIsRefusedWholeNamingWhatAndWhere() async throws {
        let app = try await Self.daemon()
        let checkpoint = try await app.get("/v1/ledger/checkpoint").text
        let good = Self.feed(imports: [(Self.newYear, 3600, 10, [])])
        // The request: the ids the feed lacks.
        for (path, parameter) in [
            ("/v1/readings?utility=u1&meter=gb-1", "consumer"), ("/v1/readings?utility=u1&consumer=c1", "meter"),
            ("/v1/readings?consumer=c1&meter=gb-1", "utility"), ("/v1/readings?utility=u1&consumer=c1&meter=a/b", "meter"),
        ] {
            let answer = try await app.post(path, good, contentType: "application/atom+xml")
            #expect(answer.status == 400 && answer.text.contains(parameter), "\(path): \(answer.text)")
        }
        let unknown = try await app.post(
            "/v1/readings?utility=u1&consumer=c9&meter=gb-1", good, contentType: "application/atom+xml")
        #expect(unknown.status == 422 && unknown.text.contains("unknown consumer"), "\(unknown.text)")

        // The feed: one bad reading refuses all; XML that is not well-formed or has a DTD is refused.
        let oneBad = Self.feed(imports: [(Self.newYear, 3600, 10, []), (Self.newYear + 3600, 3600, -5, [])])
        let refused = try await app.post(Self.path, oneBad, contentType: "application/atom+xml")
        #expect(refused.status == 422, "\(refused.text)")
        let errors = try refused.json()["errors"] as? [[String: Any]] ?? []
        #expect(errors.count == 1 && (errors.first?["field"] as? String)?.contains("value") == true, "\(refused.text)")
        let malformed = try await app.post(Self.path, String(good.dropLast(8)), contentType: "application/atom+xml")
        #expect(malformed.status == 400 && malformed.text.contains("line"), "\(malformed.text)")
        let laughs = """
            <?xml version="1.0"?><!DOCTYPE feed [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]>
            <feed xmlns="http://www.w3.org/2005/Atom">&b;</feed>
            """
        let entity = try await app.post(Self.path, laughs, contentType: "application/atom+xml")
        #expect(entity.status == 400 && entity.text.contains("DTD"), "\(entity.text)")
        let deep = String(repeating: "<a>", count: 10_000) + String(repeating: "</a>", count: 10_000)
        #expect(try await app.post(Self.path, deep, contentType: "application/atom+xml").status == 400)
        let huge = Self.feed(imports: [(Self.newYear, 3600, 99_999_999_999_999_999, [])])
        #expect(try await app.post(Self.path, huge, contentType: "application/atom+xml").status == 422)
        #expect(try await app.get("/v1/ledger/checkpoint").text == checkpoint, "nothing was appended")

        // A utility names only its own utility.
        let other = try await app.request(
            "POST", "/v1/readings?utility=u2&consumer=c1&meter=gb-1", headers: [("Content-Type", "application/atom+xml")],
            body: Array(good.utf8), as: Self.utilityPeer)
        #expect(other.status == 403, "\(String(decoding: other.body, as: UTF8.self))")
        let own = try await app.request(
            "POST", "/v1/readings?consumer=c1&meter=gb-1", headers: [("Content-Type", "application/atom+xml")],
            body: Array(good.utf8), as: Self.utilityPeer)
        #expect(own.status == 200, "\(String(decoding: own.body, as: UTF8.self))")
    }

    @Test func aYearOfQuarterHoursImportsWithABatchID() async throws {
        let app = try await Self.daemon()
        let quarters = (0..<35_040).map { (Self.newYear + Int64($0) * 900, Int64(900), Int64(50 + $0 % 97), [Int]()) }
        let text = Self.feed(imports: quarters)
        let first = try await app.post(Self.path, text, contentType: "application/atom+xml", headers: [("Batch-Id", "gb-2024")])
        #expect(first.status == 200, "\(first.text.prefix(500))")
        #expect(try first.json()["accepted"] as? Int == 35_040)
        let again = try await app.post(Self.path, text, contentType: "application/atom+xml", headers: [("Batch-Id", "gb-2024")])
        #expect(try again.json()["replayed"] as? Bool == true)
        let march = try await app.get("/v1/consumers/c1/score?period=2024-03").json()
        let expected = (0..<35_040).filter { i in
            let start = Self.newYear + Int64(i) * 900 + 8 * 3600  // the program's zone is UTC+8
            return start >= 1_709_251_200 && start < 1_711_929_600
        }.map { 50 + $0 % 97 }.reduce(0, +)
        #expect(march["energy_wh"] as? Int == expected)
    }
}
