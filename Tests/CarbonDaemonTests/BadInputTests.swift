import CarbonClient
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// interface.md section 4, rule by rule: the status, an RFC 9457 body whose `errors`
/// names every bad record (0-based index and field), and an unchanged database and
/// ledger whenever a batch is refused. Record rules run in-process; what lives in the
/// HTTP layer (framing, header and chunked-body limits, slow clients, the connection
/// limit) goes through a real daemon's socket.
@Suite struct BadInputTests {
    // MARK: 422: invalid records

    @Test(arguments: BulkFormat.allCases)
    func missingFieldsAre422(format: BulkFormat) async throws {
        let daemon = try await startedDaemon()
        try await expectRefused(daemon, [
            reading("m1"),
            reading("m2").without("start"),
            reading("m3"),
            reading("m4").without("import_wh").without("consumer"),
            reading("m5").without("duration_s"),
        ], as: format, status: 422, naming: [(1, "start"), (3, "consumer"), (3, "import_wh"), (4, "duration_s")])
    }

    @Test(arguments: BulkFormat.allCases)
    func malformedFieldsAre422(format: BulkFormat) async throws {
        let daemon = try await startedDaemon()
        try await expectRefused(daemon, [
            reading("m1"),
            reading("m2").with("start", text("2026-13-01T00:00:00Z")),  // no month 13
            reading("m3").with("start", text("2026-10-01T00:00:00")),  // no offset
            reading("m4").with("import_wh", "12.5"),  // fraction
            reading("m5"),
            reading("m6").with("export_wh", "-1"),  // negative
            reading("m7").with("duration_s", "0"),  // out of range (1...2678400)
            reading("m8").with("start", "946684799"),  // before 2000
            reading("m9").with("quality", text("ACTUAL")).with("import_wh", "1e3"),  // two bad fields
            reading("m10").with("duration_s", "2678401"),
            reading("a/b"),  // '/' in a name
            reading("m12"),
        ], as: format, status: 422, naming: [
            (1, "start"), (2, "start"), (3, "import_wh"), (5, "export_wh"), (6, "duration_s"), (7, "start"),
            (8, "import_wh"), (8, "quality"), (9, "duration_s"), (10, "meter"),
        ])
    }

    /// In CSV an unknown field is a header column: `csvHeaderFieldProblemsAre422NamingEveryRecord`.
    @Test(arguments: [BulkFormat.json, .ndjson])
    func unknownFieldsAre422(format: BulkFormat) async throws {
        let daemon = try await startedDaemon()
        try await expectRefused(daemon, [
            reading("m1").with("colour", text("red")),
            reading("m2"),
            reading("m3").without("import_wh").with("importWh", "5"),  // a near miss: unknown and missing
        ], as: format, status: 422, naming: [(0, "colour"), (2, "importWh"), (2, "import_wh")])
    }

    @Test(arguments: BulkFormat.allCases)
    func unknownConsumersAre422(format: BulkFormat) async throws {
        let daemon = try await startedDaemon()
        try await expectRefused(daemon, [
            reading("m1", consumer: "nobody"),
            reading("m2"),
            reading("m3", consumer: "c2"),
            reading("m4", consumer: "ghost"),
        ], as: format, status: 422, naming: [(0, "consumer"), (3, "consumer")])
    }

    // MARK: 403: another utility's data

    @Test func readingsForAnotherUtilitysConsumerAre403() async throws {
        let (daemon, utility) = try await startedDaemonWithUtilityPeer()
        // c9 belongs to u2; neither u1's own system nor an admin may file u1 readings for it.
        for peer in [utility, Peer.test] {
            try await expectRefused(daemon, [
                reading("m1"),
                reading("m2", consumer: "c9"),
                reading("m3"),
                reading("m4", consumer: "c9"),
            ], as: .json, by: peer, status: 403, naming: [(1, "consumer"), (3, "consumer")])
        }
    }

    @Test func aUtilityPushingAnotherUtilityIDIs403() async throws {
        let (daemon, utility) = try await startedDaemonWithUtilityPeer()
        try await expectRefused(daemon, [
            reading("m1", consumer: "c9", utility: "u2"),
            reading("m2"),
            reading("m3", consumer: "c9", utility: "u2"),
        ], as: .ndjson, by: utility, status: 403, naming: [(0, "utility"), (2, "utility")])
    }

    /// 403 over 422 over 409, and every bad record listed whatever its reason.
    @Test func forbiddenWinsOverInvalidWhichWinsOverConflict() async throws {
        let (daemon, utility) = try await startedDaemonWithUtilityPeer()
        let conflicting = reading("m1", hour: 0, importWh: 999)  // m1 hour 0 is stored with 100
        try await expectRefused(daemon, [
            reading("m2"),
            conflicting,
            reading("m3", consumer: "nobody"),
            reading("m4", consumer: "c9"),
            reading("m5").with("import_wh", "-5"),
            reading("m6", consumer: "c9", utility: "u2"),
        ], as: .csv, by: utility, status: 403,
           naming: [(1, "start"), (2, "consumer"), (3, "consumer"), (4, "import_wh"), (5, "utility")])
        try await expectRefused(daemon, [
            reading("m2"), conflicting, reading("m3", consumer: "nobody"),
        ], as: .csv, by: utility, status: 422, naming: [(1, "start"), (2, "consumer")])
    }

    // MARK: 409: conflicts

    @Test(arguments: BulkFormat.allCases)
    func sameKeyWithOtherContentIs409NamingMeterAndStart(format: BulkFormat) async throws {
        let daemon = try await startedDaemon()
        let errors = try await expectRefused(daemon, [
            reading("m4"),
            reading("m1", hour: 0, importWh: 101),  // stored with 100
            reading("m5"),
            reading("m5", importWh: 7),  // the same key twice in the batch, other content
            reading("m2", hour: 0).with("quality", text("estimated")),  // stored as actual
        ], as: format, status: 409, naming: [(1, "start"), (3, "start"), (4, "start")])
        for (error, (meter, hour)) in zip(errors, [("m1", 0), ("m5", 1), ("m2", 0)]) {
            let start = Fixture.start(hour)
            #expect(error.message.contains(meter), "\(error)")
            #expect(error.message.contains(String(start)) || error.message.contains(rfc3339(start)), "\(error)")
        }
    }

    @Test(arguments: BulkFormat.allCases)
    func overlapsWithinTheBatchAre409(format: BulkFormat) async throws {
        let daemon = try await startedDaemon()
        try await expectRefused(daemon, [
            reading("m4", hour: 1),
            reading("m5", hour: 1, duration: 7200),
            reading("m4", hour: 1, plus: 1800),  // inside m4's [h1, h2)
            reading("m6", hour: 1),
            reading("m5", hour: 2),  // inside m5's [h1, h3)
            reading("m6", hour: 2),  // adjacent: fine
        ], as: format, status: 409, naming: [(2, "start"), (4, "start")])
    }

    @Test(arguments: BulkFormat.allCases)
    func overlapsWithStoredReadingsAre409(format: BulkFormat) async throws {
        let daemon = try await startedDaemon()
        try await expectRefused(daemon, [
            reading("m1", hour: 1),  // adjacent to the stored [h0, h1): fine
            reading("m2", hour: 0, plus: 1800),  // inside the stored [h0, h1)
            reading("m3", hour: -1, duration: 7200),  // [h-1, h1) covers the stored one
            reading("m4", hour: 0),
        ], as: format, status: 409, naming: [(1, "start"), (2, "start")])
    }

    // MARK: 200: duplicates and partial batches

    @Test func duplicatesAreCountedAndNotStoredTwice() async throws {
        let daemon = try await startedDaemon()
        let before = try await daemon.ledgerState()
        let again = try await daemon.send("POST", "/v1/readings", contentType: BulkFormat.json.contentType,
                                    body: BulkFormat.json.encode(Fixture.stored))
        #expect(again.status == 200, "\(again.text)")
        let json = try again.json()
        #expect(json["accepted"] as? Int == 0)
        #expect(json["duplicates"] as? Int == Fixture.stored.count)
        #expect(json.keys.contains("entry") && json["entry"] is NSNull, "entry must be null: \(again.text)")
        #expect(json["checkpoint"] as? String == before.checkpoint)
        #expect(try await daemon.ledgerState() == before)

        // Mixed: one stored, one new, the new one twice: one accepted, two duplicates.
        let mixed = try await daemon.send("POST", "/v1/readings", contentType: BulkFormat.csv.contentType, body: BulkFormat.csv.encode([
            reading("m1", hour: 0), reading("m1", hour: 1), reading("m1", hour: 1),
        ]))
        let mixedJSON = try mixed.json()
        #expect(mixed.status == 200, "\(mixed.text)")
        #expect(mixedJSON["accepted"] as? Int == 1)
        #expect(mixedJSON["duplicates"] as? Int == 2)
        #expect(mixedJSON["entry"] as? Int == before.entries)
        let after = try await daemon.ledgerState()
        #expect(after.readings == before.readings + 1 && after.entries == before.entries + 1, "\(before) -> \(after)")
    }

    @Test(arguments: BulkFormat.allCases)
    func partialStoresTheGoodRecordsAndListsTheRest(format: BulkFormat) async throws {
        let daemon = try await startedDaemon()
        let before = try await daemon.ledgerState()
        let records = [
            reading("m1"),
            reading("m7", consumer: "nobody"),  // 422
            reading("m2"),
            reading("m3", hour: 0, importWh: 555),  // 409 with the stored m3
            reading("m4").with("import_wh", "1.5"),  // 422
            reading("m5", consumer: "c9"),  // 403
            reading("m6", consumer: "c2"),
        ]
        let answer = try await daemon.send("POST", "/v1/readings?partial=true", contentType: format.contentType, body: format.encode(records))
        #expect(answer.status == 200, "\(answer.text)")
        let json = try answer.json()
        #expect(json["accepted"] as? Int == 3)
        #expect(json["duplicates"] as? Int == 0)
        let entry = try #require(json["entry"] as? Int, "\(answer.text)")
        #expect(entry == before.entries)
        let errors = (json["errors"] as? [[String: Any]] ?? []).map(ReportedError.init)
        #expect(errors.map(\.named).sorted() == named([(1, "consumer"), (3, "start"), (4, "import_wh"), (5, "consumer")]))
        let after = try await daemon.ledgerState()
        #expect(after.readings == before.readings + 3 && after.entries == before.entries + 1, "\(before) -> \(after)")
        #expect(json["checkpoint"] as? String == after.checkpoint)

        // The stored ones have proofs in that entry; the refused ones none, and m3 keeps its stored content.
        for i in [0, 2, 6] {
            let proof = try await daemon.send("GET", try #require(records[i].lookupPath(in: "/v1/readings")))
            #expect(proof.status == 200, "record \(i): \(proof.text)")
            #expect(try proof.json()["entry_index"] as? Int == entry, "record \(i)")
        }
        for i in [1, 4, 5] {
            #expect(try await daemon.send("GET", try #require(records[i].lookupPath(in: "/v1/readings"))).status == 404, "record \(i)")
        }
        let stored = try await daemon.send("GET", try #require(records[3].lookupPath(in: "/v1/readings"))).json()
        let leaf = try JSONSerialization.jsonObject(with: Data(try #require(stored["reading"] as? String).utf8)) as? [String: Any]
        #expect(leaf?["import_wh"] as? Int == 100, "\(stored)")
    }

    // MARK: 413, 415

    @Test(arguments: BulkFormat.allCases)
    func tooManyRecordsIs413(format: BulkFormat) async throws {
        let daemon = try await startedDaemon(extraConfig: "[limits]\nmax_records_per_batch = 4")
        let five = (4...8).map { reading("m\($0)") }
        try await expectRefused(daemon, five, as: format, status: 413, naming: [])
        try await expectRefused(daemon, (4...8).map { consumer("c\($0)", utility: "u1") }, as: format, path: "/v1/consumers",
                          status: 413, naming: [])
        // At the limit it is served: the daemon carries on.
        try await expectStored(daemon, Array(five.prefix(4)), as: format)
    }

    @Test func bodiesOverMaxBodyBytesAre413() async throws {
        let daemon = try await startedDaemonProcess(extraConfig: "[limits]\nmax_body_bytes = 2048")
        let records = (4...40).map { reading("m\($0)") }
        let body = BulkFormat.ndjson.encode(records)
        try #require(body.utf8.count > 2048)
        try await expectRefused(daemon, records, as: .ndjson, status: 413, naming: [])

        // Without Content-Length (chunked), the limit holds while reading.
        let before = try await daemon.ledgerState()
        let head = "POST /v1/readings HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/x-ndjson\r\n"
            + "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
        let chunks = body.utf8.chunks(of: 500).map { String($0.count, radix: 16) + "\r\n" + String(decoding: $0, as: UTF8.self) + "\r\n" }
        let raw = try rawExchange(daemon.socket, Array((head + chunks.joined() + "0\r\n\r\n").utf8))
        expectRawProblem(raw, in: 413..<414, "chunked body over the limit")
        #expect(try await daemon.ledgerState() == before)

        // Under the limit it is served.
        try await expectStored(daemon, Array(records.prefix(5)), as: .ndjson)
    }

    @Test func unsupportedContentTypesAre415() async throws {
        let daemon = try await startedDaemon()
        let readings = BulkFormat.json.encode([reading("m4")])
        let consumers = BulkFormat.json.encode([consumer("c5", utility: "u1")])
        for contentType in ["text/plain", "application/xml", "application/x-www-form-urlencoded", "text/csvx", nil] {
            for (path, body) in [("/v1/readings", readings), ("/v1/consumers", consumers)] {
                let before = try await daemon.ledgerState()
                let answer = try await daemon.send("POST", path, contentType: contentType, body: body)
                try expectProblem(answer, status: 415, "\(path) as \(contentType ?? "no Content-Type")")
                #expect(try await daemon.ledgerState() == before)
            }
        }
        #expect(try await daemon.send("GET", "/v1/consumers/c5").status == 404)
        #expect(try await daemon.send("GET", try #require(reading("m4").lookupPath(in: "/v1/readings"))).status == 404)
    }

    // MARK: Malformed bodies and HTTP

    @Test(arguments: MalformedBody.all)
    func malformedBodiesAreRefusedAndTheDaemonKeepsServing(body: MalformedBody) async throws {
        let daemon = try await startedDaemon()
        let before = try await daemon.ledgerState()
        let answer = try await daemon.send("POST", body.path, as: .test, contentType: body.contentType, bytes: body.bytes, headers: [])
        #expect([400, 422].contains(answer.status), "\(answer.status) \(answer.text)")
        let errors = try expectProblem(answer, status: answer.status, body.name)
        if let expected = body.naming {
            #expect(answer.status == 422)
            #expect(errors.map(\.named).sorted() == named(expected), "\(answer.text)")
        }
        #expect(try await daemon.ledgerState() == before)
        try await expectStored(daemon, [reading("m4")], as: .ndjson)
    }

    /// HTTP no client library would send: a 4xx problem (the client's fault, not the
    /// daemon's), nothing stored, and the daemon carries on.
    @Test(arguments: MalformedHTTP.all)
    func malformedHTTPGets4xxAndNeverChangesTheData(request: MalformedHTTP) async throws {
        let daemon = try await startedDaemonProcess()
        let before = try await daemon.ledgerState()
        let raw = try rawExchange(daemon.socket, Array(request.bytes.utf8))
        expectRawProblem(raw, in: 400..<500, request.name)
        #expect(try await daemon.ledgerState() == before)
        #expect(try await daemon.send("GET", try #require(reading("m4").lookupPath(in: "/v1/readings"))).status == 404)
        try await expectStored(daemon, [reading("m4")], as: .ndjson)
    }

    /// interface.md section 4: header size is a limit like body size (413; 431 is the
    /// HTTP name for the same thing).
    @Test func headersOverMaxHeaderBytesAre413() async throws {
        let daemon = try await startedDaemonProcess(extraConfig: "[limits]\nmax_header_bytes = 1024")
        let before = try await daemon.ledgerState()
        let padding = [("X-Padding", String(repeating: "a", count: 4096))]
        let body = BulkFormat.ndjson.encode([reading("m4")])
        let answer = try await daemon.send("POST", "/v1/readings", contentType: BulkFormat.ndjson.contentType, body: body, headers: padding)
        #expect([413, 431].contains(answer.status), "\(answer.status) \(answer.headers) \(answer.text)")
        #expect(answer.header("Content-Type")?.hasPrefix("application/problem+json") == true, "\(answer.headers)")
        #expect(try await daemon.ledgerState() == before)
        try await expectStored(daemon, [reading("m4")], as: .ndjson)
    }

    /// A client slower than `request_timeout` gets 408, whether it is stuck in the body or in the head.
    @Test(arguments: ["body", "head"])
    func slowClientsGet408(stuckIn part: String) async throws {
        let daemon = try await startedDaemonProcess(extraConfig: "[limits]\nrequest_timeout = \"1s\"\nidle_timeout = \"60s\"")
        let before = try await daemon.ledgerState()
        let body = BulkFormat.ndjson.encode([reading("m4")])
        let head = "POST /v1/readings HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/x-ndjson\r\n"
        let partial = part == "body" ? head + "Content-Length: \(body.utf8.count)\r\n\r\n" + body.prefix(20) : head
        // The connection stays open for writing: the daemon must answer on its own.
        let raw = try rawExchange(daemon.socket, Array(partial.utf8), halfClose: false, within: 10)
        expectRawProblem(raw, in: 408..<409, "stuck in the \(part)")
        #expect(try await daemon.ledgerState() == before)
        try await expectStored(daemon, [reading("m4")], as: .ndjson)
    }

    @Test func connectionsPastTheLimitGet503AndTheDaemonCarriesOn() async throws {
        let daemon = try DaemonProcess(extraConfig: "[limits]\nmax_connections = 2")
        try daemon.start()
        // Every request goes over connections known to be served: a closed one may
        // still hold its place for a moment.
        let first = try servedConnection(daemon)
        try #require(try first.post("/v1/consumers", BulkFormat.ndjson.encode(Fixture.consumers)).status == 200)
        let before = try daemon.ledgerState(via: first)
        let second = try servedConnection(daemon)
        let third = try daemon.client()
        let refused = try third.post("/v1/readings", BulkFormat.ndjson.encode([reading("m4")]))
        try expectProblem(refused, status: 503, "third connection")
        #expect(try second.get("/v1/health").status == 200)
        for client in [first, second, third] { client.close() }
        // Once they close, the daemon serves new connections again, and the refused batch left nothing.
        let fourth = try servedConnection(daemon)
        #expect(try daemon.ledgerState(via: fourth) == before)
        #expect(try fourth.get(try #require(reading("m4").lookupPath(in: "/v1/readings"))).status == 404)
        #expect(try fourth.post("/v1/readings", BulkFormat.ndjson.encode([reading("m4")])).status == 200)
    }

    /// A CSV body's records miss or add a field through its header; interface.md section 4
    /// makes that 422 with every record named, as in JSON and NDJSON.
    @Test(arguments: ["missing column", "unknown column"])
    func csvHeaderFieldProblemsAre422NamingEveryRecord(problem: String) async throws {
        let daemon = try await startedDaemon()
        let records = (4...6).map { reading("m\($0)") }
        if problem == "missing column" {
            try await expectRefused(daemon, records.map { $0.without("start") }, as: .csv, status: 422,
                              naming: [(0, "start"), (1, "start"), (2, "start")])
        } else {
            try await expectRefused(daemon, records.map { $0.with("colour", text("red")) }, as: .csv, status: 422,
                              naming: [(0, "colour"), (1, "colour"), (2, "colour")])
        }
    }

    // MARK: Consumers

    @Test func aUtilityRegisteringAnotherUtilitysConsumerIDIs403() async throws {
        let (daemon, utility) = try await startedDaemonWithUtilityPeer()
        try await expectRefused(daemon, [
            consumer("c5", utility: "u1"),
            consumer("c9", utility: "u1"),  // c9 is u2's
            consumer("c6", utility: "u2"),  // not this peer's utility
            consumer("c7", utility: "u1", zone: "CN-ATLANTIS"),  // 422, but 403 wins
        ], as: .json, by: utility, path: "/v1/consumers", status: 403, naming: [(1, "consumer"), (2, "utility"), (3, "zone")])
        #expect(try await daemon.send("GET", "/v1/consumers/c9").json()["utility"] as? String == "u2")
    }

    @Test(arguments: BulkFormat.allCases)
    func consumersInUnknownZonesAre422(format: BulkFormat) async throws {
        let daemon = try await startedDaemon()
        try await expectRefused(daemon, [
            consumer("c5", utility: "u1"),
            consumer("c6", utility: "u1", zone: "XX-NOWHERE"),
            consumer("c7", utility: "u1", zone: "CN-ATLANTIS"),
            consumer("c8", utility: "u1"),
        ], as: format, path: "/v1/consumers", status: 422, naming: [(1, "zone"), (2, "zone")])
    }

    @Test func consumersTooAreDuplicatesWhenUnchangedAndPartialOnRequest() async throws {
        let daemon = try await startedDaemon()
        let before = try await daemon.ledgerState()
        let again = try await daemon.send("POST", "/v1/consumers", contentType: "text/csv", body: BulkFormat.csv.encode(Fixture.consumers))
        let json = try again.json()
        #expect(again.status == 200, "\(again.text)")
        #expect(json["accepted"] as? Int == 0 && json["duplicates"] as? Int == 3, "\(again.text)")
        #expect(json["entry"] is NSNull, "\(again.text)")
        #expect(try await daemon.ledgerState() == before)

        let partial = try await daemon.send("POST", "/v1/consumers?partial=true", contentType: "application/json", body: BulkFormat.json.encode([
            consumer("c5", utility: "u1"), consumer("c6", utility: "u1", zone: "CN-ATLANTIS"), consumer("c7", utility: "u1"),
        ]))
        let partialJSON = try partial.json()
        #expect(partial.status == 200, "\(partial.text)")
        #expect(partialJSON["accepted"] as? Int == 2, "\(partial.text)")
        let errors = (partialJSON["errors"] as? [[String: Any]] ?? []).map(ReportedError.init)
        #expect(errors.map(\.named) == named([(1, "zone")]), "\(partial.text)")
        #expect(try await daemon.send("GET", "/v1/consumers/c5").status == 200)
        #expect(try await daemon.send("GET", "/v1/consumers/c6").status == 404)
        #expect(try await daemon.send("GET", "/v1/consumers/c7").status == 200)
        #expect(try await daemon.ledgerState().consumers == before.consumers + 2)
    }

    // MARK: Batch ids

    @Test(arguments: BatchIDCarrier.allCases)
    func aBatchIDRetryAnswersTheOriginalAnswer(first: BatchIDCarrier) async throws {
        let daemon = try await startedDaemon()
        let batch = [reading("m1"), reading("m2")]
        let original = try await daemon.send(batch, batchID: "retry-7", via: first)
        #expect(original.status == 200, "\(original.text)")
        let originalJSON = try original.json()
        let entry = try #require(originalJSON["entry"] as? Int)
        let checkpoint = try #require(originalJSON["checkpoint"] as? String)
        // The ledger moves on, so a recomputed answer would differ from the original one.
        try await expectStored(daemon, [reading("m3")], as: .ndjson)

        let settled = try await daemon.ledgerState()
        let other = [reading("m4"), reading("m5"), reading("m6")]
        for (records, carrier) in [(batch, BatchIDCarrier.header), (batch, .query), (other, first)] {
            let retry = try await daemon.send(records, batchID: "retry-7", via: carrier)
            #expect(retry.status == 200, "\(retry.text)")
            let json = try retry.json()
            #expect(json["entry"] as? Int == entry, "\(retry.text)")
            #expect(json["checkpoint"] as? String == checkpoint, "\(retry.text)")
            #expect(json["accepted"] as? Int == 2, "\(retry.text)")
            #expect(json["duplicates"] as? Int == 0, "\(retry.text)")
            #expect(try await daemon.ledgerState() == settled, "a retry changed the ledger")
        }
        // The batch sent under a used id was answered, not stored.
        for record in other {
            #expect(try await daemon.send("GET", try #require(record.lookupPath(in: "/v1/readings"))).status == 404)
        }
    }
}

// MARK: - Records and bodies

/// A record as a body writes it: field names and JSON literals, in order.
struct Record: Sendable {
    var fields: [(name: String, literal: String)]

    func with(_ name: String, _ literal: String) -> Record {
        var copy = self
        if let i = copy.fields.firstIndex(where: { $0.name == name }) {
            copy.fields[i].literal = literal
        } else {
            copy.fields.append((name, literal))
        }
        return copy
    }

    func without(_ name: String) -> Record {
        Record(fields: fields.filter { $0.name != name })
    }

    func value(_ name: String) -> String? {
        fields.first { $0.name == name }.map { Self.unquoted($0.literal) }
    }

    /// Where a stored copy of this record is found (a reading's proof, a consumer's record).
    func lookupPath(in path: String) -> String? {
        if path == "/v1/consumers" { return value("consumer").map { "/v1/consumers/\($0)" } }
        guard let utility = value("utility"), let meter = value("meter"), let start = value("start").flatMap({ Int64($0) })
        else { return nil }
        return "/v1/readings/\(utility)/\(meter)/\(start)/proof"
    }

    /// A JSON string literal's text; any other literal as written.
    static func unquoted(_ literal: String) -> String {
        guard literal.hasPrefix("\"") else { return literal }
        return (try? JSONDecoder().decode(String.self, from: Data(literal.utf8))) ?? literal
    }
}

/// A JSON string literal.
func text(_ value: String) -> String {
    String(decoding: try! JSONEncoder().encode(value), as: UTF8.self)
}

func reading(
    _ meter: String, hour: Int = 1, plus seconds: Int = 0, consumer: String = "c1", utility: String = "u1",
    importWh: Int = 100, duration: Int = 3600
) -> Record {
    Record(fields: [
        ("utility", text(utility)), ("meter", text(meter)), ("consumer", text(consumer)),
        ("start", String(Fixture.start(hour, plus: seconds))), ("duration_s", String(duration)), ("import_wh", String(importWh)),
    ])
}

func consumer(_ id: String, utility: String, zone: String = "CN-ZJ") -> Record {
    Record(fields: [("consumer", text(id)), ("utility", text(utility)), ("zone", text(zone)), ("class", text("residential"))])
}

/// The bulk body formats of interface.md section 2.
enum BulkFormat: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case json, ndjson, csv

    var testDescription: String { rawValue }

    var contentType: String {
        switch self {
        case .json: "application/json"
        case .ndjson: "application/x-ndjson"
        case .csv: "text/csv"
        }
    }

    /// The records as a body; in CSV an absent field is an empty cell.
    func encode(_ records: [Record]) -> String {
        switch self {
        case .json: "[" + records.map(Self.object).joined(separator: ",") + "]"
        case .ndjson: records.map(Self.object).joined(separator: "\n") + "\n"
        case .csv:
            ([Self.header(records).joined(separator: ",")] + records.map { record in
                Self.header(records).map { name in Self.cell(record.value(name) ?? "") }.joined(separator: ",")
            }).joined(separator: "\r\n") + "\r\n"
        }
    }

    private static func object(_ record: Record) -> String {
        "{" + record.fields.map { "\(text($0.name)):\($0.literal)" }.joined(separator: ",") + "}"
    }

    /// Every field name of the records, in order of first appearance.
    private static func header(_ records: [Record]) -> [String] {
        var names: [String] = []
        for name in records.flatMap({ $0.fields.map(\.name) }) where !names.contains(name) { names.append(name) }
        return names
    }

    private static func cell(_ value: String) -> String {
        value.contains(where: { ",\"\r\n".contains($0) }) ? "\"" + value.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : value
    }
}

/// The fixture every test starts from: consumers c1, c2 of utility u1 and c9 of u2;
/// meters m1...m3 of u1 hold hour 0 (import 100 Wh, quality actual).
enum Fixture {
    static let hour0: Int64 = 1_790_000_000 / 3600 * 3600
    static func start(_ hour: Int, plus seconds: Int = 0) -> Int64 { hour0 + Int64(hour * 3600 + seconds) }
    static let consumers = [consumer("c1", utility: "u1"), consumer("c2", utility: "u1"), consumer("c9", utility: "u2")]
    static let stored = (1...3).map { reading("m\($0)", hour: 0) }
}

func rfc3339(_ seconds: Int64) -> String {
    let formatter = ISO8601DateFormatter()
    formatter.timeZone = TimeZone(identifier: "UTC")
    return formatter.string(from: Date(timeIntervalSince1970: TimeInterval(seconds)))
}

/// The application, in-process, with the fixture stored; the test process is its admin.
func startedDaemon(grants: String = DaemonProcess.selfAdmin, extraConfig: String = "") async throws -> InProcessDaemon {
    let daemon = try await InProcessDaemon(grants: grants, extraConfig: extraConfig)
    try await storeFixture(daemon)
    return daemon
}

/// A daemon process with the fixture stored, for what needs its socket.
func startedDaemonProcess(extraConfig: String = "") async throws -> DaemonProcess {
    let daemon = try DaemonProcess(extraConfig: extraConfig)
    try daemon.start()
    try await storeFixture(daemon)
    return daemon
}

private func storeFixture(_ daemon: some RouteTarget) async throws {
    try await expectStored(daemon, Fixture.consumers, as: .ndjson, path: "/v1/consumers")
    try await expectStored(daemon, Fixture.stored, as: .ndjson)
}

/// The fixture application plus a peer with the utility role for u1 (a throwaway user's credentials).
func startedDaemonWithUtilityPeer() async throws -> (InProcessDaemon, Peer) {
    let users = try TestUsers.shared.get()
    let daemon = try await startedDaemon(grants: DaemonProcess.selfAdmin + "\n" + grant("uid = \(users.utility.uid)", "utility", #"utility = "u1""#))
    return (daemon, .user(users.utility))
}

/// Posts records that must all be new and accepted.
func expectStored(
    _ daemon: some RouteTarget, _ records: [Record], as format: BulkFormat, path: String = "/v1/readings",
    sourceLocation: SourceLocation = #_sourceLocation
) async throws {
    let answer = try await daemon.send("POST", path, contentType: format.contentType, body: format.encode(records))
    try #require(answer.status == 200, "\(answer.text)", sourceLocation: sourceLocation)
    #expect(try answer.json()["accepted"] as? Int == records.count, "\(answer.text)", sourceLocation: sourceLocation)
}

// MARK: - Refusals

/// One element of a problem's `errors`.
struct ReportedError: CustomStringConvertible {
    var index: Int
    var field: String
    var message: String

    init(_ json: [String: Any]) {
        index = json["index"] as? Int ?? -1
        field = json["field"] as? String ?? "<none>"
        message = json["message"] as? String ?? ""
    }

    var named: Named { Named(index: index, field: field) }
    var description: String { "\(index) \(field): \(message)" }
}

/// A bad record's 0-based index and the field named.
struct Named: Hashable, Comparable, CustomStringConvertible {
    var index: Int
    var field: String

    static func < (a: Named, b: Named) -> Bool { (a.index, a.field) < (b.index, b.field) }
    var description: String { "(\(index), \(field))" }
}

/// interface.md: one element per bad record. A record with several bad fields is
/// named by one of them, and its message names them all.
func expectOnePerRecord(
    _ errors: [ReportedError], naming expected: [(Int, String)], _ what: String,
    sourceLocation: SourceLocation = #_sourceLocation
) {
    let fieldsByRecord = Dictionary(grouping: expected, by: \.0).mapValues { $0.map(\.1) }
    #expect(errors.map(\.index) == fieldsByRecord.keys.sorted(), "\(what): \(errors)", sourceLocation: sourceLocation)
    for error in errors {
        let fields = fieldsByRecord[error.index] ?? []
        #expect(fields.contains(error.field), "\(what): record \(error.index) named \(error.field), not one of \(fields)",
                sourceLocation: sourceLocation)
        for field in fields where fields.count > 1 {
            #expect(error.message.contains(field), "\(what): record \(error.index)'s message omits \(field): \(error.message)",
                    sourceLocation: sourceLocation)
        }
    }
}

func named(_ pairs: [(Int, String)]) -> [Named] {
    pairs.map { Named(index: $0.0, field: $0.1) }.sorted()
}

/// Checks an RFC 9457 answer of `status`; returns its `errors`.
@discardableResult
func expectProblem(
    _ answer: HTTPResponse, status: Int, _ what: String = "", sourceLocation: SourceLocation = #_sourceLocation
) throws -> [ReportedError] {
    #expect(answer.status == status, "\(what): \(answer.status) \(answer.text)", sourceLocation: sourceLocation)
    #expect(answer.header("Content-Type")?.hasPrefix("application/problem+json") == true,
            "\(what): Content-Type \(answer.header("Content-Type") ?? "none")", sourceLocation: sourceLocation)
    let json = try answer.json()
    #expect(json["status"] as? Int == status, "\(what): \(answer.text)", sourceLocation: sourceLocation)
    #expect((json["type"] as? String)?.isEmpty == false, "\(what): \(answer.text)", sourceLocation: sourceLocation)
    #expect((json["title"] as? String)?.isEmpty == false, "\(what): \(answer.text)", sourceLocation: sourceLocation)
    #expect(json["detail"] is String, "\(what): \(answer.text)", sourceLocation: sourceLocation)
    let errors = (json["errors"] as? [[String: Any]] ?? []).map(ReportedError.init)
    #expect(errors.allSatisfy { !$0.message.isEmpty }, "\(what): \(errors)", sourceLocation: sourceLocation)
    return errors
}

/// Sends a batch that must be refused as a whole: `status`, problem+json naming exactly
/// the records `naming` (index, field), the database and ledger unchanged, and no good
/// record of it stored. Returns the errors in (index, field) order.
@discardableResult
func expectRefused(
    _ daemon: some RouteTarget, _ records: [Record], as format: BulkFormat, by peer: Peer = .test,
    path: String = "/v1/readings", status: Int, naming expected: [(Int, String)],
    sourceLocation: SourceLocation = #_sourceLocation
) async throws -> [ReportedError] {
    let before = try await daemon.ledgerState()
    let answer = try await daemon.send("POST", path, as: peer, contentType: format.contentType, body: format.encode(records))
    let errors = try expectProblem(answer, status: status, "\(format) \(path)", sourceLocation: sourceLocation)
        .sorted { $0.named < $1.named }
    expectOnePerRecord(errors, naming: expected, "\(format)", sourceLocation: sourceLocation)
    #expect(try await daemon.ledgerState() == before, "a refused \(format) batch changed the store", sourceLocation: sourceLocation)
    let bad = Set(expected.map(\.0))
    for (i, record) in records.enumerated() where !bad.contains(i) {
        guard let lookup = record.lookupPath(in: path) else { continue }
        #expect(try await daemon.send("GET", lookup).status == 404, "good record \(i) of a refused batch was stored",
                sourceLocation: sourceLocation)
    }
    return errors
}

/// A body that cannot be read as records, and what it must get.
struct MalformedBody: Sendable, CustomTestStringConvertible {
    var name: String
    var contentType: String
    var bytes: [UInt8]
    var path = "/v1/readings"
    /// For bodies read record by record: the records the 422 must name.
    var naming: [(Int, String)]? = nil

    var testDescription: String { name }

    static let good = BulkFormat.json.encode([reading("m5"), reading("m6"), reading("m7")])
    static let goodLine = BulkFormat.ndjson.encode([reading("m5")])

    static func of(_ name: String, _ format: BulkFormat, _ text: String, naming: [(Int, String)]? = nil) -> MalformedBody {
        MalformedBody(name: name, contentType: format.contentType, bytes: Array(text.utf8), naming: naming)
    }

    static let all: [MalformedBody] = [
        of("JSON array never closed", .json, String(good.dropLast())),
        of("JSON array with a trailing comma", .json, String(good.dropLast()) + ",]"),
        of("JSON array with a missing comma", .json, good.replacingOccurrences(of: "},{", with: "}{")),
        of("truncated JSON", .json, String(good.prefix(good.count / 2))),
        of("JSON that is not an array", .json, "42"),
        of("JSON array of non-objects", .json, #"[1,"two",null]"#, naming: [(0, ""), (1, ""), (2, "")]),
        of("deeply nested JSON", .json, "[" + String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_001)),
        of("deeply nested field value", .ndjson,
           #"{"utility":"# + String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000) + "}\n" + goodLine,
           naming: [(0, "")]),
        of("empty body", .json, ""),
        of("whitespace body", .ndjson, " \n\n \n"),
        of("truncated NDJSON", .ndjson, goodLine + String(goodLine.prefix(40)), naming: [(1, "")]),
        of("NDJSON garbage line", .ndjson, goodLine + "\u{1}\u{2}GARBAGE\u{7F}\n" + goodLine.replacingOccurrences(of: "m5", with: "m6"),
           naming: [(1, "")]),
        MalformedBody(name: "garbage bytes as JSON", contentType: "application/json", bytes: [0x00, 0x13, 0x37, 0x42, 0x0A, 0x7F]),
        MalformedBody(name: "invalid UTF-8 in JSON", contentType: "application/json",
                      bytes: Array(good.utf8).replacingFirst(Array("m6".utf8), with: [0x6D, 0xFF, 0xFE])),
        MalformedBody(name: "invalid UTF-8 in CSV", contentType: "text/csv",
                      bytes: Array(BulkFormat.csv.encode([reading("m5")]).utf8) + [0xC3, 0x28, 0x0D, 0x0A]),
        MalformedBody(name: "overlong UTF-8 in NDJSON", contentType: "application/x-ndjson",
                      bytes: Array(goodLine.utf8).replacingFirst(Array("m5".utf8), with: [0xC0, 0xAF])),
        of("CSV header with an unnamed column", .csv, "utility,meter,consumer,start,duration_s,import_wh,\r\nu1,m5,c1,1790006400,3600,1,\r\n"),
        of("CSV with an unclosed quote", .csv, BulkFormat.csv.encode([reading("m5")]) + "\"u1,m6,c1\r\n"),
        of("CSV row with too many cells", .csv, BulkFormat.csv.encode([reading("m5")]) + "u1,m6,c1,1,2,3,4\r\n",
           naming: [(1, "")]),
        MalformedBody(name: "consumers: truncated JSON", contentType: "application/json",
                      bytes: Array(BulkFormat.json.encode(Fixture.consumers).dropLast(10).utf8), path: "/v1/consumers"),
        MalformedBody(name: "consumers: invalid UTF-8", contentType: "application/x-ndjson",
                      bytes: Array(BulkFormat.ndjson.encode([consumer("c5", utility: "u1")]).utf8) + [0xFF], path: "/v1/consumers"),
    ]
}

// MARK: - Batch ids

/// How a batch id travels: the `Batch-Id` header or the `batch` query parameter.
enum BatchIDCarrier: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case header, query

    var testDescription: String { rawValue }
}

extension RouteTarget {
    func send(_ records: [Record], batchID: String, via carrier: BatchIDCarrier) async throws -> HTTPResponse {
        let body = BulkFormat.ndjson.encode(records)
        switch carrier {
        case .header:
            return try await send("POST", "/v1/readings", contentType: "application/x-ndjson", body: body, headers: [("Batch-Id", batchID)])
        case .query:
            return try await send("POST", "/v1/readings?batch=\(batchID)", contentType: "application/x-ndjson", body: body)
        }
    }
}

// MARK: - What is stored

/// What a refused request must not change: the latest checkpoint and the row counts.
struct LedgerState: Equatable, CustomStringConvertible {
    var checkpoint: String
    var readings: Int
    var entries: Int
    var consumers: Int

    var description: String { "entries \(entries), readings \(readings), consumers \(consumers)" }
}

extension RouteTarget {
    /// The checkpoint (as the admin test process) and the table sizes (from the
    /// database file, read-only).
    func ledgerState() async throws -> LedgerState {
        try LedgerState(checkpoint: await send("GET", "/v1/ledger/checkpoint"), database: database)
    }
}

extension DaemonProcess {
    /// The same, the checkpoint asked over `client`'s connection.
    func ledgerState(via client: UnixHTTPClient) throws -> LedgerState {
        try LedgerState(checkpoint: client.get("/v1/ledger/checkpoint"), database: database)
    }
}

extension LedgerState {
    init(checkpoint: HTTPResponse, database: String) throws {
        guard checkpoint.status == 200 else { throw DaemonTestFailure("checkpoint: \(checkpoint.text)") }
        let counts = try SQLiteReader.integers(
            database, "SELECT (SELECT count(*) FROM readings), (SELECT count(*) FROM entries), (SELECT count(*) FROM consumers)")
        self.init(checkpoint: checkpoint.text, readings: counts[0], entries: counts[1], consumers: counts[2])
    }
}

/// One row of integers from a SQLite file opened read-only, through the SQLite library
/// this test process already links (GRDB's), found with dlsym: the test target does
/// not depend on GRDB itself.
enum SQLiteReader {
    private typealias Open = @convention(c) (UnsafePointer<CChar>?, UnsafeMutablePointer<OpaquePointer?>?, Int32, UnsafePointer<CChar>?) -> Int32
    private typealias Prepare = @convention(c) (
        OpaquePointer?, UnsafePointer<CChar>?, Int32, UnsafeMutablePointer<OpaquePointer?>?, UnsafeMutablePointer<UnsafePointer<CChar>?>?
    ) -> Int32
    private typealias Handle = @convention(c) (OpaquePointer?) -> Int32
    private typealias Column = @convention(c) (OpaquePointer?, Int32) -> Int64

    private static func symbol<T>(_ name: String, as type: T.Type) throws -> T {
        let library = dlopen(nil, RTLD_NOW)
        guard let address = dlsym(library, name) ?? dlsym(dlopen("libsqlite3.so.0", RTLD_NOW), name) else {
            throw DaemonTestFailure("no \(name) in this process")
        }
        return unsafeBitCast(address, to: type)
    }

    static func integers(_ path: String, _ sql: String) throws -> [Int] {
        let open = try symbol("sqlite3_open_v2", as: Open.self)
        let prepare = try symbol("sqlite3_prepare_v2", as: Prepare.self)
        let step = try symbol("sqlite3_step", as: Handle.self)
        let columns = try symbol("sqlite3_column_count", as: Handle.self)
        let column = try symbol("sqlite3_column_int64", as: Column.self)
        let finalize = try symbol("sqlite3_finalize", as: Handle.self)
        let close = try symbol("sqlite3_close_v2", as: Handle.self)
        var db: OpaquePointer?
        defer { _ = close(db) }
        guard open(path, &db, 0x1 /* SQLITE_OPEN_READONLY */, nil) == 0 else { throw DaemonTestFailure("cannot open \(path)") }
        var statement: OpaquePointer?
        defer { _ = finalize(statement) }
        guard prepare(db, sql, -1, &statement, nil) == 0, step(statement) == 100 /* SQLITE_ROW */ else {
            throw DaemonTestFailure("cannot run \(sql) on \(path)")
        }
        return (0..<columns(statement)).map { Int(column(statement, $0)) }
    }
}

// MARK: - Raw sockets

/// Requests no HTTP client library would send.
struct MalformedHTTP: Sendable, CustomTestStringConvertible {
    var name: String
    var bytes: String

    var testDescription: String { name }

    static let body = BulkFormat.ndjson.encode([reading("m4")])
    static let head = "POST /v1/readings HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/x-ndjson\r\n"

    static let all = [
        MalformedHTTP(name: "not HTTP", bytes: "NOT HTTP AT ALL\r\n\r\n"),
        MalformedHTTP(name: "Content-Length not a number", bytes: head + "Content-Length: nine\r\n\r\n" + body),
        // The client stops (half-closes) before the promised body has arrived.
        MalformedHTTP(name: "body shorter than Content-Length", bytes: head + "Content-Length: \(body.utf8.count + 100)\r\n\r\n" + body),
        MalformedHTTP(name: "chunk size not hexadecimal", bytes: head + "Transfer-Encoding: chunked\r\n\r\nzz\r\n" + body),
    ]
}

/// An HTTP answer read off a raw socket: a status in `range` with a problem+json body.
func expectRawProblem(_ raw: String, in range: Range<Int>, _ what: String, sourceLocation: SourceLocation = #_sourceLocation) {
    let status = raw.hasPrefix("HTTP/1.1 ") ? Int(raw.dropFirst(9).prefix(3)) : nil
    #expect(status.map(range.contains) == true, "\(what): \(raw.debugDescription)", sourceLocation: sourceLocation)
    let head = raw.components(separatedBy: "\r\n\r\n")[0].lowercased()
    #expect(head.contains("content-type: application/problem+json"), "\(what): \(raw.debugDescription)",
            sourceLocation: sourceLocation)
}

/// A kept-alive connection the daemon served (connections it took past its limit are
/// retried until one that closed meanwhile frees a place).
func servedConnection(_ daemon: DaemonProcess) throws -> UnixHTTPClient {
    var served: UnixHTTPClient?
    let freed = waitUntil {
        guard let client = try? daemon.client(), let answer = try? client.get("/v1/health"), answer.status == 200 else {
            return false
        }
        served = client
        return true
    }
    guard freed, let served else { throw DaemonTestFailure("no connection was served within 30 s") }
    return served
}

/// Writes `bytes` to the socket and returns everything the daemon answers up to its
/// close (for requests no HTTP client would send). With `halfClose` the writing half is
/// closed after the bytes; without, the daemon must answer while the client seems slow.
func rawExchange(_ path: String, _ bytes: [UInt8], halfClose: Bool = true, within seconds: Int = 30) throws -> String {
    try exchange(path, bytes, halfClose: halfClose, within: seconds).answer
}

/// Writes `bytes` on a new connection and reads what the daemon answers: up to its close
/// (`closed`), or, once something has arrived, until it has said nothing for `seconds`
/// (the connection left open). `seconds` bounds a daemon that neither answers nor closes.
func exchange(_ path: String, _ bytes: [UInt8], halfClose: Bool = false, within seconds: Int) throws
    -> (answer: String, closed: Bool)
{
    let fd = try AccountingTests.connect(path)
    defer { close(fd) }
    var timeout = timeval(tv_sec: seconds, tv_usec: 0)
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    var sent = 0
    while sent < bytes.count {
        let n = bytes[sent...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        guard n > 0 else { break }  // the daemon may close early; what it said is still read below
        sent += n
    }
    if halfClose { shutdown(fd, Int32(SHUT_WR)) }
    var answer: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 65_536)
    while true {
        let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        if n < 0 && errno == EAGAIN {
            guard !answer.isEmpty else { throw DaemonTestFailure("the daemon neither answered nor closed within \(seconds) s") }
            return (String(decoding: answer, as: UTF8.self), false)
        }
        guard n > 0 else { return (String(decoding: answer, as: UTF8.self), true) }
        answer += buffer[..<n]
    }
}

extension Array where Element == UInt8 {
    /// With the first occurrence of `pattern` replaced.
    func replacingFirst(_ pattern: [UInt8], with replacement: [UInt8]) -> [UInt8] {
        guard let i = indices.first(where: { self[$0...].starts(with: pattern) }) else { return self }
        return Array(self[..<i]) + replacement + Array(self[(i + pattern.count)...])
    }
}

extension String.UTF8View {
    func chunks(of size: Int) -> [ArraySlice<UInt8>] {
        let bytes = Array(self)
        return stride(from: 0, to: bytes.count, by: size).map { bytes[$0..<Swift.min($0 + size, bytes.count)] }
    }
}
