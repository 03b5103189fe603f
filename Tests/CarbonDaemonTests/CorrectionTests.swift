import CarbonAccounting
import CarbonClient
import CarbonLedger
import CarbonStore
import Foundation
import GRDB
import Testing
import TransparencyLog

/// Meter-data revisions: corrections replace the reading in force, signed in their own
/// ledger entries that name what they replace; closed periods are restated explicitly.
@Suite struct CorrectionTests {
    /// 2023-03-01T00:00:00+08:00.
    static let march = 1_677_600_000

    static func reading(meter: String = "m1", consumer: String = "c1", hour: Int, wh: Int, quality: String = "actual") -> String {
        #"{"utility":"u1","meter":"\#(meter)","consumer":"\#(consumer)","start":\#(march + hour * 3600),"duration_s":3600,"import_wh":\#(wh),"quality":"\#(quality)"}"#
    }

    static func correction(meter: String = "m1", hour: Int, wh: Int, quality: String = "actual", reason: String) -> String {
        String(reading(meter: meter, hour: hour, wh: wh, quality: quality).dropLast()) + #","reason":"\#(reason)"}"#
    }

    /// Consumer c1 with three hourly readings of March 2023, the middle one estimated.
    static func daemon() async throws -> InProcessDaemon {
        let app = try await InProcessDaemon(extraConfig: AccountingTests.manualClose)
        try await AccountingTests.loadOneAnnualFactor(app)
        #expect(try await app.post("/v1/consumers", #"{"consumer":"c1","utility":"u1","zone":"CN-ZJ","class":"residential"}"#).status == 200)
        let readings = try await app.post("/v1/readings", [
            reading(hour: 0, wh: 1000), reading(hour: 1, wh: 700, quality: "estimated"), reading(hour: 2, wh: 1200),
        ].joined(separator: "\n"))
        #expect(readings.status == 200, "\(readings.text)")
        return app
    }

    static func audit(_ app: InProcessDaemon) throws -> LedgerVerification {
        try LedgerFile.verify(
            path: app.files.database, first: app.files.verifier,
            options: .init(checksData: true, replayScores: { try SystemTimeZones.calendar($0) }))
    }

    static func proof(_ app: InProcessDaemon, hour: Int) async throws -> [String: Any] {
        let answer = try await app.get("/v1/readings/u1/m1/\(march + hour * 3600)/proof")
        #expect(answer.status == 200, "\(answer.text)")
        return try answer.json()
    }

    @Test func aCorrectionChainIsProvenScoredAndAudited() async throws {
        let app = try await Self.daemon()
        let before = try await app.get("/v1/consumers/c1/score?period=2023-03").json()
        #expect(before["energy_wh"] as? Int == 2900 && before["estimated_wh"] as? Int == 700)
        let original = try await Self.proof(app, hour: 1)
        #expect(original["replaces"] == nil || original["replaces"] is NSNull)

        // Estimated, then actual, then a meter fault fixed.
        let actual = try await app.post("/v1/readings?correct=true", Self.correction(hour: 1, wh: 900, reason: "estimated_to_actual"))
        #expect(actual.status == 200, "\(actual.text)")
        let first = try #require(try actual.json()["entry"] as? Int)
        let fixed = try await app.post("/v1/readings?correct=true", Self.correction(hour: 1, wh: 950, reason: "meter_fault"))
        #expect(fixed.status == 200, "\(fixed.text)")
        let second = try #require(try fixed.json()["entry"] as? Int)

        // The proof is of the version in force and names what it replaced.
        let proof = try await Self.proof(app, hour: 1)
        #expect(proof["entry_index"] as? Int == second)
        let replaces = try #require(proof["replaces"] as? [String: Any])
        #expect(replaces["entry"] as? Int == first && replaces["position"] as? Int == 0)
        #expect(proof["reason"] as? String == "meter_fault")
        let leaf = try #require(proof["reading"] as? String)
        #expect(leaf.contains(#""import_wh":950"#) && leaf.contains(#""replaces_entry":\#(first)"#), "\(leaf)")
        let entry = try #require(proof["entry"] as? String)
        #expect(entry.contains(#""kind":"corrections""#), "\(entry)")

        // Scores and emissions use the version in force.
        let after = try await app.get("/v1/consumers/c1/score?period=2023-03").json()
        #expect(after["energy_wh"] as? Int == 3150 && after["estimated_wh"] as? Int == 0, "\(after)")
        #expect(!((after["flags"] as? [String]) ?? []).contains("estimated_data"))

        // Closed: the score is over the versions in force; the audit follows the chain.
        #expect(try await app.post("/v1/periods/2023-03/close", "").status == 200)
        let closed = try await app.get("/v1/consumers/c1/score?period=2023-03").json()
        #expect(closed["energy_wh"] as? Int == 3150 && closed["provisional"] as? Bool == false)
        let audit = try Self.audit(app)
        #expect(audit.failures.isEmpty, "\(audit.failures)")
        #expect(audit.scoresChecked == 1)
    }

    @Test func badCorrectionsAreRefusedNamingTheRecordAndChangeNothing() async throws {
        let app = try await Self.daemon()
        let checkpoint = try await app.get("/v1/ledger/checkpoint").text
        let cases: [(body: String, status: Int, field: String, says: String)] = [
            (Self.correction(hour: 9, wh: 1, reason: "data_error"), 422, "start", "no stored reading"),
            (String(Self.correction(hour: 1, wh: 1, reason: "x").replacingOccurrences(of: #""duration_s":3600"#, with: #""duration_s":1800"#)), 422,
             "duration_s", "keeps the interval"),
            (Self.reading(hour: 1, wh: 5), 422, "reason", "reason is required"),
            (Self.correction(hour: 1, wh: 5, reason: String(repeating: "é", count: 201)), 422, "reason", "at most 200 characters"),
            (Self.correction(hour: 1, wh: 5, reason: "tab\\there"), 422, "reason", "control characters"),
            (Self.correction(meter: "m9", hour: 1, wh: 5, reason: "x"), 422, "start", "no stored reading"),
            (String(Self.correction(hour: 1, wh: 5, reason: "x").replacingOccurrences(of: #""consumer":"c1""#, with: #""consumer":"c404""#)),
             422, "consumer", "unknown consumer"),
        ]
        for (k, bad) in cases.enumerated() {
            let body = Self.correction(hour: 0, wh: 1001, reason: "data_error") + "\n" + bad.body
            let answer = try await app.post("/v1/readings?correct=true", body)
            #expect(answer.status == bad.status, "case \(k): \(answer.text)")
            let errors = (try answer.json())["errors"] as? [[String: Any]] ?? []
            #expect(errors.count == 1 && errors.first?["index"] as? Int == 1 && errors.first?["field"] as? String == bad.field,
                    "case \(k): \(answer.text)")
            let message = errors.first?["message"] as? String ?? ""
            #expect(message.contains(bad.says), "case \(k): \(answer.text)")
        }
        // The same (meter, start) twice in a batch.
        let twice = try await app.post("/v1/readings?correct=true", [
            Self.correction(hour: 0, wh: 1001, reason: "a"), Self.correction(hour: 0, wh: 1002, reason: "b"),
        ].joined(separator: "\n"))
        #expect(twice.status == 409 && twice.text.contains("corrected twice"), "\(twice.text)")
        // A correction parameter that is not a Boolean.
        #expect(try await app.post("/v1/readings?correct=yes", Self.correction(hour: 0, wh: 1, reason: "a")).status == 400)
        #expect(try await app.get("/v1/ledger/checkpoint").text == checkpoint, "a refused batch appended nothing")
        #expect(try await app.get("/v1/consumers/c1/score?period=2023-03").json()["energy_wh"] as? Int == 2900)

        // The same content again is a duplicate; a utility may not correct another's readings.
        let same = try await app.post("/v1/readings?correct=true", Self.correction(hour: 0, wh: 1000, reason: "data_error"))
        let duplicates = try same.json()["duplicates"] as? Int
        #expect(same.status == 200 && duplicates == 1, "\(same.text)")
        #expect(try await app.get("/v1/ledger/checkpoint").text == checkpoint)
    }

    @Test func aBatchIDMakesACorrectionIdempotent() async throws {
        let app = try await Self.daemon()
        let body = Self.correction(hour: 1, wh: 900, reason: "estimated_to_actual")
        let first = try await app.post("/v1/readings?correct=true", body, headers: [("Batch-Id", "fix-1")])
        let again = try await app.post("/v1/readings?correct=true", body, headers: [("Batch-Id", "fix-1")])
        #expect(first.status == 200 && again.status == 200)
        let (one, two) = (try first.json(), try again.json())
        #expect(two["replayed"] as? Bool == true)
        #expect(two["entry"] as? Int == one["entry"] as? Int)
    }

    @Test func aRestatedPeriodClosesAgainWithNewSignedFiguresAndAudits() async throws {
        let app = try await Self.daemon()
        #expect(try await app.post("/v1/readings", Self.reading(hour: 24 * 31 + 5, wh: 800)).status == 200)  // April
        #expect(try await app.post("/v1/periods/2023-03/close", "").status == 200)
        let signed = try await app.get("/v1/consumers/c1/score?period=2023-03").json()
        let oldEntry = try #require((signed["entry"] as? [String: Any])?["index"] as? Int)

        // Closed: a correction is refused until the period is restated.
        let refused = try await app.post("/v1/readings?correct=true", Self.correction(hour: 1, wh: 900, reason: "estimated_to_actual"))
        #expect(refused.status == 409 && refused.text.contains("restate"), "\(refused.text)")
        #expect(try await app.post("/v1/periods/2023-03/restate", #"{"reason":""}"#, contentType: "application/json").status == 422)
        #expect(try await app.post("/v1/periods/2023-03/restate", "nope", contentType: "application/json").status == 400)
        #expect(try await app.post("/v1/periods/2023-04/restate", #"{"reason":"x"}"#, contentType: "application/json").status == 409)
        let restate = try await app.post(
            "/v1/periods/2023-03/restate", #"{"reason":"head-end replaced estimates"}"#, contentType: "application/json")
        #expect(restate.status == 200, "\(restate.text)")
        let opened = try restate.json()
        #expect(opened["restates"] as? Int == oldEntry - 1, "the period entry precedes its first score entry")
        #expect(try await app.post("/v1/periods/2023-03/restate", #"{"reason":"x"}"#, contentType: "application/json").status == 409)

        // Open again: corrections go in; the signed figures stay current, marked as being restated.
        #expect(try await app.post("/v1/readings?correct=true", Self.correction(hour: 1, wh: 900, reason: "estimated_to_actual")).status == 200)
        let during = try await app.get("/v1/consumers/c1/score?period=2023-03").json()
        #expect(during["energy_wh"] as? Int == 2900)
        #expect((during["restatement"] as? [String: Any])?["reason"] as? String == "head-end replaced estimates", "\(during)")
        // New readings stay refused in a restated period.
        #expect(try await app.post("/v1/readings", Self.reading(meter: "m2", hour: 3, wh: 5)).status == 409)

        let reclose = try await app.post("/v1/periods/2023-03/close", "")
        #expect(reclose.status == 200, "\(reclose.text)")
        let reclosed = try reclose.json()
        #expect(reclosed["already_closed"] as? Bool == false && reclosed["restates"] as? Int == oldEntry - 1)
        let current = try await app.get("/v1/consumers/c1/score?period=2023-03").json()
        #expect(current["energy_wh"] as? Int == 3100 && current["restatement"] == nil, "\(current)")
        let entryText = try #require((current["entry"] as? [String: Any])?["entry"] as? String)
        #expect(entryText.contains(#""restates":\#(oldEntry)"#), "\(entryText)")
        // Closed again: corrections refused again; the audit recomputes both closes.
        #expect(try await app.post("/v1/readings?correct=true", Self.correction(hour: 1, wh: 901, reason: "x")).status == 409)
        let audit = try Self.audit(app)
        #expect(audit.failures.isEmpty, "\(audit.failures)")
        #expect(audit.scoresChecked == 2)
    }

    @Test func aTamperedOrDroppedCorrectionFailsTheAudit() async throws {
        let app = try await Self.daemon()
        #expect(try await app.post("/v1/readings?correct=true", Self.correction(hour: 1, wh: 900, reason: "head-end estimate replaced")).status == 200)
        #expect(try await app.post("/v1/periods/2023-03/close", "").status == 200)
        #expect(try Self.audit(app).failures.isEmpty)
        let database = try DatabaseQueue(path: app.files.database)
        let pristine = try await database.read { db in try Data.fetchOne(db, sql: "SELECT versions FROM correction_chunks") }
        let blob = try #require(pristine)
        /// The correction records with `old` replaced by `new` (same length).
        func records(replacing old: String, with new: String) throws -> Data {
            let range = try #require(blob.firstRange(of: Data(old.utf8)))
            var changed = blob
            changed.replaceSubrange(range, with: Data(new.utf8))
            return changed
        }
        let cases: [(name: String, sql: String, arguments: StatementArguments, expect: String)] = [
            ("the reason", "UPDATE correction_chunks SET versions = ?",
             [try records(replacing: "head-end estimate", with: "head-end estimatX")], "(corrections): root"),
            // The replaced version's figures: its varint 700 (0xBC 0x05) made 701.
            ("the replaced figures", "UPDATE correction_chunks SET versions = ?",
             [Data(blob.map { $0 }.replacing([0xBC, 0x05], with: [0xBD, 0x05]))], "(readings): root"),
            ("the version in force", "UPDATE readings SET import_wh = 901 WHERE import_wh = 900", [], "(corrections): root"),
            ("the records dropped", "DELETE FROM correction_chunks", [], "entry"),
        ]
        for tamper in cases {
            try await database.write { db in try db.execute(sql: tamper.sql, arguments: tamper.arguments) }
            let audit = try Self.audit(app)
            #expect(audit.failures.contains { $0.contains(tamper.expect) }, "\(tamper.name): \(audit.failures)")
            try await database.write { db in
                try db.execute(sql: "DELETE FROM correction_chunks")
                try db.execute(sql: "INSERT INTO correction_chunks(entry, chunk, versions) SELECT entry, 0, ? FROM reading_batches WHERE entry = (SELECT max(entry) FROM reading_batches)", arguments: [blob])
                try db.execute(sql: "UPDATE readings SET import_wh = 900 WHERE import_wh = 901")
            }
        }
        #expect(try Self.audit(app).failures.isEmpty)
    }
}
