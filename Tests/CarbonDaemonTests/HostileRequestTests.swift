import CarbonClient
import Foundation
import Testing

/// Requests from the lowest roles carrying values at and past every edge: each is
/// answered (a 4xx problem where the value is bad), the daemon stays up, and the ledger
/// is exactly what it was. One such request used to end the process with a trap. The
/// requests go to the application in-process (a trap would end the test run as it
/// ended the daemon); the sums and the data tile need a real daemon.
@Suite struct HostileRequestTests {
    /// Values for every numeric and time parameter: Int64's and UInt64's ends and past
    /// them, negative, fractional, exponent, empty, malformed and extreme dates.
    static let extremes = [
        "9223372036854775807", "-9223372036854775808", "9223372036854775808", "18446744073709551615",
        "18446744073709551616", "99999999999999999999999999", "-1", "0", "1.5", "1e400", "", "abc",
        "2026-13-01", "2026-02-30", "0000-01", "9999-12", "-001-01", "10000-01", "0000-01-01T00:00:00Z",
        "9999-12-31T23:59:59Z", "9999-12-31T23:59:59-23:59", "0000-01-01T00:00:00+23:59", "253402300800",
        "2026-10-01T00:00:00", "%00", "%ff%fe",
    ]

    /// A request template: `{}` is replaced by each extreme, sent by `role`.
    struct Template: Sendable, CustomStringConvertible {
        var path: String
        var role: GrantRole
        var description: String { "\(role) GET \(path)" }
    }

    static let templates: [Template] = [
        Template(path: "/v1/factors?zone=CN-ZJ&at={}", role: .planner),
        Template(path: "/v1/factors?zone=CN-ZJ&at=2026-09-01T00:00:00Z&kind={}", role: .planner),
        Template(path: "/v1/consumers/c1/score?period={}", role: .consumer),
        Template(path: "/v1/consumers/c1/emissions?from={}&to=2026-09", role: .consumer),
        Template(path: "/v1/consumers/c1/emissions?from=2026-09&to={}", role: .consumer),
        Template(path: "/v1/consumers/c1/emissions?from={}&to={}", role: .consumer),
        Template(path: "/v1/consumers/c1/emissions?from=2026-09&to=2026-09&step={}", role: .consumer),
        Template(path: "/v1/incentives?period={}", role: .reader),
        Template(path: "/v1/incentives?period=2026-09&limit={}", role: .reader),
        Template(path: "/v1/incentives?period=2026-09&cursor={}", role: .reader),
        Template(path: "/v1/zones/CN/inventory?from={}", role: .planner),
        Template(path: "/v1/zones/CN/inventory?from=2026-09&to={}", role: .planner),
        Template(path: "/v1/zones/CN/inventory?from={}&to={}", role: .planner),
        Template(path: "/v1/ledger/proof/inclusion?index={}", role: .planner),
        Template(path: "/v1/ledger/proof/inclusion?index=0&size={}", role: .planner),
        Template(path: "/v1/ledger/proof/consistency?from={}", role: .planner),
        Template(path: "/v1/ledger/proof/consistency?from=1&to={}", role: .planner),
        Template(path: "/v1/ledger/entries?start={}", role: .auditor),
        Template(path: "/v1/ledger/entries?start=0&end={}", role: .auditor),
        Template(path: "/v1/ledger/entries?start={}&limit={}", role: .auditor),
        Template(path: "/v1/readings/u1/m1/{}/proof", role: .consumer),
        Template(path: "/v1/ledger/tile/0/{}", role: .auditor),
        Template(path: "/v1/ledger/tile/{}/000", role: .auditor),
        Template(path: "/v1/ledger/tile/0/000.p/{}", role: .auditor),
        Template(path: "/v1/ledger/signatures/{}", role: .auditor),
        Template(path: "/v1/ledger/data/{}", role: .auditor),
    ]

    /// Tile paths: the largest numbers three-digit groups can spell, widths past the
    /// edges, levels past 63.
    static let tilePaths = [
        "x072/x057/x594/x037/x927/936", "x018/x446/x744/x073/x709/x551/615", "x036/x028/x797/x018/x963/967",
        "x999/x999/x999/x999/x999/x999/x999/999", "x072/x057/x594/x037/x927/936.p/255", "000.p/0", "000.p/256",
        "000.p/-1", "000.p/x", "x000/001", "1", "0001", "-01", "..", ".p/1",
    ]

    @Test func everyParameterAtItsExtremesIsAnsweredAndChangesNothing() async throws {
        let (daemon, users) = try await AccessTests.matrixApplication()
        let admin = users.peer(for: .admin)
        let before = try await daemon.send("GET", "/v1/ledger/checkpoint", as: admin).text
        try #require(before.hasPrefix(daemon.files.origin))
        var sent = 0
        for template in Self.templates {
            let values = template.path.contains("tile") || template.path.contains("signatures") || template.path.contains("data")
                ? Self.tilePaths + Self.extremes : Self.extremes
            for value in values {
                let encoded = template.path.contains("/{}/") || template.path.hasSuffix("/{}")
                    ? value : Self.queryEncoded(value)
                let path = template.path.replacingOccurrences(of: "{}", with: encoded)
                let answer = try await daemon.send("GET", path, as: users.peer(for: template.role))
                #expect(answer.status < 500, "\(template.role) GET \(path): \(answer.status) \(answer.text)")
                if answer.status >= 400 {
                    #expect(answer.header("Content-Type")?.hasPrefix("application/problem+json") == true,
                            "\(template.role) GET \(path): \(answer.headers)")
                }
                sent += 1
            }
        }
        #expect(sent > 700)
        #expect(try await daemon.send("GET", "/v1/health", as: admin).status == 200)
        #expect(try await daemon.send("GET", "/v1/ledger/checkpoint", as: admin).text == before, "the ledger changed")
    }

    /// The two requests that stopped the daemon, by the roles that sent them.
    @Test func theRequestsThatTrappedAreNow400() async throws {
        let (daemon, users) = try await AccessTests.matrixApplication()
        let factors = try await daemon.send("GET", "/v1/factors?zone=CN-ZJ&at=9223372036854775807", as: users.peer(for: .planner))
        #expect(factors.status == 400, "\(factors.text)")
        #expect(factors.text.contains("at"), "\(factors.text)")
        let tile = try await daemon.send(
            "GET", "/v1/ledger/tile/0/x072/x057/x594/x037/x927/936", as: users.peer(for: .auditor))
        #expect(tile.status == 400, "\(tile.text)")
    }

    /// The parameters of corrections, Green Button feeds and restatements at their
    /// extremes, with bodies that cannot be stored: answered with a problem, nothing stored.
    @Test func writeParametersAtTheirExtremesAreRefusedAndChangeNothing() async throws {
        let (daemon, users) = try await AccessTests.matrixApplication()
        let admin = users.peer(for: .admin)
        let utility = users.peer(for: .utility)
        let before = try await daemon.send("GET", "/v1/ledger/checkpoint", as: admin).text
        try #require(before.hasPrefix(daemon.files.origin))
        // A correction of a reading nobody stored, and a feed whose one reading is negative.
        let correction = #"{"utility":"u1","meter":"m404","consumer":"c1","start":1790000000,"duration_s":3600,"import_wh":1,"reason":"x"}"#
        let feed = GreenButtonImportTests.feed(imports: [(1_790_000_000, 3600, -1, [])])
        let writes: [(path: String, contentType: String, body: String)] = [
            ("/v1/readings?correct={}", "application/x-ndjson", correction),
            ("/v1/readings?partial={}&correct=true", "application/x-ndjson", correction),
            ("/v1/readings?consumer={}&meter=m1", "application/atom+xml", feed),
            ("/v1/readings?consumer=c1&meter={}", "application/atom+xml", feed),
            ("/v1/readings?consumer=c1&meter=m1&utility={}", "application/atom+xml", feed),
            ("/v1/readings?consumer=c1&meter=m1&correct=true&reason={}", "application/atom+xml", feed),
        ]
        for write in writes {
            for value in Self.extremes {
                let path = write.path.replacingOccurrences(of: "{}", with: Self.queryEncoded(value))
                let answer = try await daemon.send("POST", path, as: utility, contentType: write.contentType, body: write.body)
                #expect((400..<500).contains(answer.status), "POST \(path): \(answer.status) \(answer.text)")
                #expect(answer.header("Content-Type")?.hasPrefix("application/problem+json") == true, "POST \(path)")
            }
        }
        for value in Self.extremes {
            let path = "/v1/periods/\(value.isEmpty ? "%20" : value)/restate"
            let answer = try await daemon.send("POST", path, as: admin, contentType: "application/json", body: #"{"reason":"x"}"#)
            #expect((400..<500).contains(answer.status), "POST \(path): \(answer.status) \(answer.text)")
        }
        let bodies = [
            #"{"reason":""}"#, #"{"reason":"\#(String(repeating: "x", count: 201))"}"#, #"{"reason":"a\u0000b"}"#,
            #"{"reason":1}"#, #"{"reason":null}"#, #"{"reason":[]}"#, #"{}"#, #"{"reason":"x","more":1}"#, "",
            String(repeating: "[", count: 100_000),
        ]
        for body in bodies {
            let answer = try await daemon.send("POST", "/v1/periods/2026-09/restate", as: admin, contentType: "application/json", body: body)
            #expect((400..<500).contains(answer.status), "\(body.prefix(40)): \(answer.status) \(answer.text)")
        }
        #expect(try await daemon.send("GET", "/v1/health", as: admin).status == 200)
        #expect(try await daemon.send("GET", "/v1/ledger/checkpoint", as: admin).text == before, "the ledger changed")
    }

    /// Bodies whose numbers and times sit at the edges: refused whole with the record
    /// and field named, nothing stored.
    @Test func writesAtTheExtremesAre422NamingTheField() async throws {
        let (daemon, users) = try await AccessTests.matrixApplication()
        let admin = users.peer(for: .admin)
        let before = try await daemon.send("GET", "/v1/ledger/checkpoint", as: admin).text
        try #require(before.hasPrefix(daemon.files.origin))
        let utility = users.peer(for: .utility)
        for (field, value) in [
            ("start", "-9223372036854775808"), ("start", "9223372036854775807"), ("end", "9223372036854775807"),
            ("start", "\"0000-01-01T00:00:00Z\""), ("end", "\"9999-12-31T23:59:59Z\""), ("wh", "9223372036854775807"),
            ("wh", "-1"), ("wh", "0"),
        ] {
            var fields = [
                "id": "\"gc-1\"", "consumer": "\"c1\"", "start": "1790000000", "end": "1790003600", "wh": "100",
                "technology": "\"solar\"", "issuer": "\"CN-GEC\"",
            ]
            fields[field] = value
            let body = "{" + fields.sorted { $0.key < $1.key }.map { "\"\($0.key)\":\($0.value)" }.joined(separator: ",") + "}"
            let answer = try await daemon.send("POST", "/v1/certificates", as: utility, contentType: "application/json", body: body)
            #expect(answer.status == 422, "\(field)=\(value): \(answer.text)")
            let errors = try answer.json()["errors"] as? [[String: Any]] ?? []
            #expect(errors.first?["field"] as? String == field, "\(field)=\(value): \(answer.text)")
        }
        for normalizer in ["9223372036854775807", "-9223372036854775808", "0", "1e400"] {
            let body = #"{"consumer":"c2","utility":"u1","zone":"CN-ZJ","class":"residential","normalizer":\#(normalizer)}"#
            let answer = try await daemon.send("POST", "/v1/consumers", as: utility, contentType: "application/x-ndjson", body: body)
            #expect(answer.status == 422, "normalizer \(normalizer): \(answer.text)")
        }
        for (year, mg) in [("9223372036854775807", "1"), ("-9223372036854775808", "1"), ("2026", "9223372036854775807"),
                           ("2026", "-1"), ("10000", "1")] {
            let csv = "zone,kind,year,mg_per_kwh,source\nCN-ZJ,average,\(year),\(mg),edge\n"
            let answer = try await daemon.send("POST", "/v1/factors?dataset=edge", as: admin, contentType: "text/csv", body: csv)
            #expect((400..<500).contains(answer.status), "year \(year), mg \(mg): \(answer.text)")
        }
        #expect(try await daemon.send("GET", "/v1/ledger/checkpoint", as: admin).text == before, "the ledger changed")
    }

    /// A peer that may not read a consumer learns nothing of which ids exist: "not
    /// yours" and "no such thing" are one 403, decided before any proof is built.
    @Test func peersCannotProbeWhichConsumersOrReadingsExist() async throws {
        let (daemon, users) = try await AccessTests.matrixApplication()
        let hidden = [
            "/v1/readings/u2/m9/\(Probe.start)/proof", "/v1/readings/u2/m9/\(Probe.start + 3600)/proof",
            "/v1/readings/u9/m1/\(Probe.start)/proof", "/v1/consumers/c9", "/v1/consumers/nobody",
            "/v1/consumers/c9/score?period=\(Probe.period)", "/v1/consumers/nobody/score?period=\(Probe.period)",
            "/v1/consumers/nobody/emissions?from=\(Probe.period)&to=\(Probe.period)",
        ]
        for role in [GrantRole.consumer, .utility] {
            for path in hidden {
                expectForbidden(try await daemon.send("GET", path, as: users.peer(for: role)), "\(role) \(path)")
            }
        }
        // Its own utility's namespace is the utility's to know; a reader may know them all.
        let missing = "/v1/readings/u1/m1/\(Probe.start + 3600)/proof"
        #expect(try await daemon.send("GET", missing, as: users.peer(for: .utility)).status == 404)
        expectForbidden(try await daemon.send("GET", missing, as: users.peer(for: .consumer)), "consumer \(missing)")
        #expect(try await daemon.send("GET", "/v1/consumers/nobody", as: users.peer(for: .reader)).status == 404)
        #expect(try await daemon.send("GET", "/v1/readings/u1/m1/\(Probe.start)/proof", as: users.peer(for: .consumer)).status == 200)
    }

    /// Twenty readings of 10^12 Wh in one hour: the hour's microgram sum passes Int64.
    /// The series says which consumer and step cannot be summed; the daemon stays up.
    @Test func anEmissionsSumBeyondInt64IsAConflictNotATrap() async throws {
        let (daemon, client) = try await AccountingTests.daemonWithOneAnnualFactor()
        #expect(try client.post("/v1/consumers", #"{"consumer":"c1","utility":"u1","zone":"CN-ZJ","class":"industrial"}"#).status == 200)
        let readings = (1...20).map {
            #"{"utility":"u1","meter":"m\#($0)","consumer":"c1","start":"2023-05-01T00:00:00+08:00","duration_s":3600,"import_wh":1000000000000}"#
        }
        let stored = try client.post("/v1/readings", readings.joined(separator: "\n"))
        #expect(stored.status == 200, "\(stored.text)")
        for step in ["hour", "day", "month"] {
            let answer = try client.get("/v1/consumers/c1/emissions?from=2023-05&to=2023-05&step=\(step)")
            #expect(answer.status == 409, "\(step): \(answer.text)")
            #expect(answer.text.contains("c1") && answer.text.contains("64-bit"), "\(step): \(answer.text)")
        }
        #expect(try client.get("/v1/consumers/c1/score?period=2023-05").status == 409)
    }

    /// A planner asking for a zone of fewer than min_peers (5) consumers gets the count,
    /// not the two consumers' energy and emissions.
    @Test func aPlannerCannotSeeTheFiguresOfAFewConsumers() async throws {
        let (daemon, users) = try await AccessTests.matrixApplication()
        for zone in ["CN", "CN-EAST", "CN-ZJ"] {
            let answer = try await daemon.send(
                "GET", "/v1/zones/\(zone)/inventory?from=\(Probe.period)", as: users.peer(for: .planner))
            #expect(answer.status == 200, "\(answer.text)")
            let period = try #require((try answer.json()["periods"] as? [[String: Any]])?.first)
            #expect(period["consumers"] as? Int == 2, "\(zone): \(period)")
            #expect(period["suppressed"] as? Bool == true, "\(zone): \(period)")
            for figure in ["energy_wh", "loc_g", "mkt_g", "intensity_mg_per_kwh", "grades"] {
                #expect(period[figure] is NSNull, "\(zone) \(figure): \(period)")
            }
        }
        // Five consumers: the figures are shown.
        let admin = users.peer(for: .admin)
        for k in 2...4 {
            try #require(try await daemon.send("POST", "/v1/consumers", as: admin, contentType: "application/x-ndjson",
                                         body: Probe.consumerLine("c\(k)", "u1")).status == 200)
            try #require(try await daemon.send("POST", "/v1/readings", as: admin, contentType: "application/x-ndjson",
                                         body: Probe.readingLine("u1", "m\(k)", "c\(k)")).status == 200)
        }
        let shown = try await daemon.send("GET", "/v1/zones/CN-ZJ/inventory?from=\(Probe.period)", as: users.peer(for: .planner))
        let period = try #require((try shown.json()["periods"] as? [[String: Any]])?.first)
        #expect(period["consumers"] as? Int == 5 && period["suppressed"] as? Bool == false, "\(period)")
        #expect(period["energy_wh"] as? Int == 500, "\(period)")
    }

    /// A data tile of 20 batches of 20,000 readings is about 75 MB of leaves: built whole
    /// it raised the daemon's peak memory by well over that; streamed an entry at a time
    /// it holds one batch. The answer is the same lines either way.
    @Test func aDataTileIsWrittenOneEntryAtATime() throws {
        let (daemon, client) = try Self.daemonWithLargeBatches(20)
        let size = try #require(try client.get("/v1/health").json()["size"] as? Int)
        let pid = try #require(daemon.pid)
        let before = try Self.peakResidentKiB(pid)
        let answer = try client.get("/v1/ledger/data/000.p/\(size)")
        #expect(answer.status == 200)
        let lines = answer.body.split(separator: UInt8(ascii: "\n"))
        let headers = lines.filter { $0.starts(with: Array(#"{"entry":"#.utf8)) }
        #expect(headers.count == 21, "a header per readings entry, and one for the zones entry")
        #expect(lines.filter { $0.starts(with: Array(#"{"consumer":"#.utf8)) }.count == 400_000)
        let grown = try Self.peakResidentKiB(pid) - before
        #expect(grown < 48 * 1024, "the daemon's peak memory grew by \(grown / 1024) MiB for one data tile")
    }

    /// A daemon with 100 consumers and `batches` batches of 200 hours of their readings
    /// (20,000 readings, about 3.7 MB of data-tile lines, each).
    static func daemonWithLargeBatches(_ batches: Int) throws -> (DaemonProcess, UnixHTTPClient) {
        let daemon = try DaemonProcess(extraConfig: DaemonProcess.periodsStayOpen)
        try daemon.start()
        let client = try daemon.client()
        let consumers = (0..<100).map { #"{"consumer":"c\#($0)","utility":"u1","zone":"CN-ZJ","class":"residential"}"# }
        try #require(try client.post("/v1/consumers", consumers.joined(separator: "\n")).status == 200)
        for batch in 0..<batches {
            var lines: [String] = []
            lines.reserveCapacity(20_000)
            for hour in 0..<200 {
                let start = 1_700_000_000 / 3600 * 3600 + (batch * 200 + hour) * 3600
                for c in 0..<100 {
                    lines.append(#"{"utility":"u1","meter":"m\#(c)","consumer":"c\#(c)","start":\#(start),"duration_s":3600,"import_wh":\#(hour)}"#)
                }
            }
            try #require(try client.post("/v1/readings", lines.joined(separator: "\n")).status == 200)
        }
        return (daemon, client)
    }

    /// `VmHWM` of a process: its peak resident memory, KiB.
    static func peakResidentKiB(_ pid: pid_t) throws -> Int {
        let status = try String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)
        guard let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
            let kib = Int(line.split(separator: " ", omittingEmptySubsequences: true)[1])
        else { throw DaemonTestFailure("no VmHWM in /proc/\(pid)/status") }
        return kib
    }

    static func queryEncoded(_ value: String) -> String {
        if value.contains("%") { return value }
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return value.addingPercentEncoding(withAllowedCharacters: allowed) ?? value
    }
}
