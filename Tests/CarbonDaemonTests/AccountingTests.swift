import CarbonClient
import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Testing
import TransparencyLog

/// Accounting through the API: provisional and closed scores, closing rules, the
/// directory, the inventory and emission series; in-process, but for the closes that
/// need a running daemon (by itself, and across SIGKILL).
@Suite struct AccountingTests {
    /// Periods of the tests lie in the past; they close only when asked.
    static let manualClose = #"close_after = "36500d""#

    /// CN-ZJ's 2023 average as the only factor, loaded through `api`.
    static func loadOneAnnualFactor(_ api: some TestAPI) async throws {
        #expect(try await api.post("/v1/factors?dataset=annual", """
            zone,kind,year,mg_per_kwh,source
            CN-ZJ,average,2023,500000,test
            """, contentType: "text/csv").status == 200)
    }

    /// A daemon process whose only factor is CN-ZJ's 2023 average.
    static func daemonWithOneAnnualFactor(engine: StorageEngine = .sqlite) async throws -> (DaemonProcess, UnixHTTPClient) {
        let daemon = try DaemonProcess(extraConfig: manualClose, engine: engine)
        try daemon.start()
        let client = try daemon.client()
        try await loadOneAnnualFactor(SocketAPI(client: client))
        return (daemon, client)
    }

    /// Methodology section 9 through `api`: the two-row dataset, consumer c1, February as
    /// baseline (`marchWh` in March: 100,000 in the example).
    static func loadWorkedExample(_ api: some TestAPI, marchWh: Int = 100_000) async throws {
        let dataset = try await api.post("/v1/factors?dataset=worked", """
            zone,kind,year,mg_per_kwh,source
            CN-ZJ,average,2022,515300,worked example
            CN,residual,2022,585600,worked example
            """, contentType: "text/csv")
        #expect(dataset.status == 200, "\(dataset.text)")
        #expect(try await api.post("/v1/consumers", #"{"consumer":"c1","utility":"u1","zone":"CN-ZJ","class":"residential"}"#).status == 200)
        let readings = try await api.post("/v1/readings", """
            {"utility":"u1","meter":"m1","consumer":"c1","start":"2023-02-01T00:00:00+08:00","duration_s":2419200,"import_wh":95000,"quality":"actual"}
            {"utility":"u1","meter":"m1","consumer":"c1","start":"2023-03-01T00:00:00+08:00","duration_s":2678400,"import_wh":\(marchWh),"quality":"actual"}
            """)
        #expect(readings.status == 200, "\(readings.text)")
        let certificate = try await api.post("/v1/certificates", """
            {"id":"gec-1","consumer":"c1","start":"2023-03-01T00:00:00+08:00","end":"2023-04-01T00:00:00+08:00","wh":20000,"technology":"solar","issuer":"CN-GEC"}
            """)
        #expect(certificate.status == 200, "\(certificate.text)")
    }

    /// The worked example in a daemon process.
    static func workedExample() async throws -> (DaemonProcess, UnixHTTPClient) {
        let daemon = try DaemonProcess(extraConfig: manualClose)
        try daemon.start()
        let client = try daemon.client()
        try await loadWorkedExample(SocketAPI(client: client))
        return (daemon, client)
    }

    /// The worked example in this process.
    static func workedExampleInProcess() async throws -> InProcessDaemon {
        let app = try await InProcessDaemon(extraConfig: manualClose)
        try await loadWorkedExample(app)
        return app
    }

    static func expectWorkedFigures(_ score: [String: Any], flags: [String]) {
        #expect(score["method"] as? String == "cl-score/1")
        #expect(score["energy_wh"] as? Int == 100_000)
        #expect(score["loc_ug"] as? Int == 51_530_000_000)
        #expect(score["matched_wh"] as? Int == 20_000)
        #expect(score["mkt_ug"] as? Int == 46_848_000_000)
        #expect(score["k_milli"] is NSNull && score["grade"] is NSNull, "no benchmark: grade and k_milli are null")
        #expect(score["p"] as? Int == 500)
        #expect(score["q_milli"] as? Int == 950)
        #expect(score["r"] as? Int == 550)
        #expect(score["t"] as? Int == 500)
        #expect(score["g"] as? Int == 200)
        #expect(score["score"] as? Int == 470)
        #expect(score["avoided_ug"] as? Int == 2_668_517_857)
        #expect(score["points"] as? Int == 2)
        #expect(score["flags"] as? [String] == flags)
    }

    @Test func theWorkedExampleReproducesThroughTheAPI() async throws {
        let client = try await Self.workedExampleInProcess()
        let provisional = try await client.get("/v1/consumers/c1/score?period=2023-03")
        #expect(provisional.status == 200, "\(provisional.text)")
        let open = try provisional.json()
        #expect(open["provisional"] as? Bool == true && open["entry"] == nil)
        Self.expectWorkedFigures(open, flags: ["no_benchmark", "provisional"])

        // Periods close in order.
        let early = try await client.post("/v1/periods/2023-03/close", "", contentType: "application/json")
        #expect(early.status == 409 && early.text.contains("close 2023-02 first"), "\(early.text)")
        #expect(try await client.post("/v1/periods/2023-02/close", "").status == 200)
        let closing = try await client.post("/v1/periods/2023-03/close", "")
        #expect(closing.status == 200, "\(closing.text)")
        let closed = try closing.json()
        #expect(closed["already_closed"] as? Bool == false && closed["consumers"] as? Int == 1)
        let periodEntry = try #require(closed["entry"] as? Int)

        let answer = try await client.get("/v1/consumers/c1/score?period=2023-03").json()
        #expect(answer["provisional"] as? Bool == false)
        Self.expectWorkedFigures(answer, flags: ["no_benchmark"])

        // The score entry: signed, included in the checkpoint, and saying the same.
        let entry = try #require(answer["entry"] as? [String: Any])
        let index = try #require(entry["index"] as? Int)
        #expect(index == periodEntry + 1)
        let bytes = Array(try #require(entry["entry"] as? String).utf8)
        let signatureText = try #require(entry["signature"] as? String)
        let signature = try #require(Base64.decode(signatureText))
        #expect(EntrySignature.verify(entry: bytes, signature: signature, verifier: client.files.verifier))
        let body = try #require(try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any])
        #expect(body["kind"] as? String == "score" && body["consumer"] as? String == "c1" && body["period"] as? String == "2023-03")
        Self.expectWorkedFigures(body, flags: ["no_benchmark"])
        let inputs = try #require(body["inputs"] as? [String: Any])
        #expect(inputs["certificates"] as? [String] == ["gec-1"])
        #expect((inputs["factors"] as? [String])?.count == 1)
        let checkpoint = try SignedCheckpoint.open(try #require(entry["checkpoint"] as? String), verifiers: [client.files.verifier])
        let proof = try #require(entry["proof"] as? [String: Any])
        try RFC6962.verifyInclusion(
            leafHash: RFC6962.leafHash(bytes), index: UInt64(index), size: checkpoint.checkpoint.size,
            proof: (proof["hashes"] as? [String] ?? []).compactMap { Hash256(base64: $0) },
            root: checkpoint.checkpoint.rootHash)

        // The readings root is over the consumer's one March reading leaf.
        let readingProof = try await client.get("/v1/readings/u1/m1/2023-03-01T00:00:00%2B08:00/proof").json()
        let leaf = Array(try #require(readingProof["reading"] as? String).utf8)
        #expect(inputs["readings_root"] as? String == RFC6962.leafHash(leaf).base64)

        // Closed: readings and certificates for it are refused, closing again changes nothing.
        let late = try await client.post("/v1/readings", """
            {"utility":"u1","meter":"m2","consumer":"c1","start":"2023-03-05T00:00:00+08:00","duration_s":3600,"import_wh":1,"quality":"actual"}
            """)
        #expect(late.status == 409 && late.text.contains("2023-03") && late.text.contains("closed"), "\(late.text)")
        let lateCertificate = try await client.post("/v1/certificates", """
            {"id":"gec-2","consumer":"c1","start":"2023-03-10T00:00:00+08:00","end":"2023-05-01T00:00:00+08:00","wh":5,"technology":"wind","issuer":"x"}
            """)
        #expect(lateCertificate.status == 409, "\(lateCertificate.text)")
        let note = try await client.get("/v1/ledger/checkpoint").text
        let again = try await client.post("/v1/periods/2023-03/close", "").json()
        #expect(again["already_closed"] as? Bool == true && again["entry"] as? Int == periodEntry)
        #expect(try await client.get("/v1/ledger/checkpoint").text == note)
    }

    @Test func theDirectoryInventoryAndEmissionsAgreeWithTheScore() async throws {
        let client = try await Self.workedExampleInProcess()
        let directory = try await client.get("/v1/incentives?period=2023-03").json()
        let lines = try #require(directory["consumers"] as? [[String: Any]])
        #expect(lines.count == 1 && lines.first?["consumer"] as? String == "c1" && lines.first?["score"] as? Int == 470)
        #expect(lines.first?["grade"] is NSNull && lines.first?["eligible"] as? Bool == true, "points > 0 make it eligible")
        #expect(directory["cursor"] is NSNull)

        let inventory = try await client.get("/v1/zones/CN-EAST/inventory?from=2023-02&to=2023-03").json()
        let periods = try #require(inventory["periods"] as? [[String: Any]])
        #expect(periods.map { $0["period"] as? String } == ["2023-02", "2023-03"])
        // One consumer, fewer than min_peers (5): the count is shown, its figures are not
        // (ScenarioTests checks inventory figures over many consumers).
        #expect(periods[1]["consumers"] as? Int == 1)
        #expect(periods[1]["suppressed"] as? Bool == true)
        for figure in ["energy_wh", "loc_g", "mkt_g", "intensity_mg_per_kwh", "grades"] {
            #expect(periods[1][figure] is NSNull, "\(figure): \(periods[1])")
        }
        let elsewhere = try await client.get("/v1/zones/CN-NORTH/inventory?from=2023-03").json()
        #expect((elsewhere["periods"] as? [[String: Any]])?.first?["consumers"] as? Int == 0)

        let series = try await client.get("/v1/consumers/c1/emissions?from=2023-02&to=2023-03&step=month").json()
        let steps = try #require(series["steps"] as? [[String: Any]])
        #expect(steps.map { $0["energy_wh"] as? Int } == [95_000, 100_000])
        #expect(steps.map { $0["matched_wh"] as? Int } == [0, 20_000])
        #expect(steps.last?["loc_ug"] as? Int == 51_530_000_000 && steps.last?["mkt_ug"] as? Int == 46_848_000_000)
        #expect(steps.last?["start"] as? String == "2023-02-28T16:00:00Z")
        #expect(try await client.get("/v1/consumers/c1/emissions?from=2023-03&to=2023-02").status == 400)
        #expect(try await client.get("/v1/consumers/nobody/score?period=2023-03").status == 404)
        #expect(try await client.get("/v1/consumers/c1/score?period=2023-05").status == 404)
        // A day of the month program: provisional figures, never signed (the month is).
        let day = try await client.get("/v1/consumers/c1/score?period=2023-03-01")
        #expect(day.status == 200, "\(day.text)")
        let dayScore = try day.json()
        #expect(dayScore["provisional"] as? Bool == true && dayScore["entry"] == nil)
        #expect(dayScore["energy_wh"] as? Int == 100_000 && dayScore["matched_wh"] as? Int == 20_000)
        #expect(dayScore["loc_ug"] as? Int == 51_530_000_000 && dayScore["mkt_ug"] as? Int == 46_848_000_000)
        #expect(try await client.get("/v1/consumers/c1/score?period=2023-03-02").status == 404)
        #expect(try await client.get("/v1/consumers/c1/score?period=2023-03-32").status == 400)
    }

    /// Hours the hour sums cannot stand for (here: readings that run past their hour)
    /// are read from the stored readings; a consumer whose meter ids and names sort
    /// differently at one instant must still have each reading counted once.
    @Test func aConsumersIrregularHoursCountEachReadingOnce() async throws {
        let app = try await InProcessDaemon(extraConfig: Self.manualClose)
        try await Self.loadOneAnnualFactor(app)
        #expect(try await app.post("/v1/consumers", #"{"consumer":"c1","utility":"u1","zone":"CN-ZJ","class":"residential"}"#).status == 200)
        // m-b gets the lower meter id (it comes first), but m-a sorts first by name.
        let readings = ["m-b", "m-a"].enumerated().map { k, meter in
            #"{"utility":"u1","meter":"\#(meter)","consumer":"c1","start":"2023-03-01T00:30:00+08:00","duration_s":7200,"import_wh":\#(1_000 * (k + 1)),"quality":"actual"}"#
        }
        #expect(try await app.post("/v1/readings", readings.joined(separator: "\n")).status == 200)
        let score = try await app.get("/v1/consumers/c1/score?period=2023-03")
        #expect(score.status == 200, "\(score.text)")
        let figures = try score.json()
        #expect(figures["energy_wh"] as? Int == 3_000 && figures["loc_ug"] as? Int == 1_500_000_000, "\(score.text)")
        let series = try await app.get("/v1/consumers/c1/emissions?from=2023-03&to=2023-03&step=month").json()
        let step = try #require((series["steps"] as? [[String: Any]])?.first)
        #expect(step["readings"] as? Int == 2 && step["energy_wh"] as? Int == 3_000, "\(series)")
    }

    /// A provisional score is the consumer's own figures now, against peer groups of
    /// the latest snapshot, and says which: with a long refresh interval new readings
    /// move the consumer's figures at once and the peer groups later.
    @Test func provisionalScoresSayAsOfWhenTheirPeerGroupsWereComputed() async throws {
        for refresh in ["1h", "0s"] {
            let app = try await InProcessDaemon(extraConfig: "benchmark_refresh = \"\(refresh)\"\n" + Self.manualClose)
            try await Self.loadOneAnnualFactor(app)
            let registry = (1...5).map { #"{"consumer":"c\#($0)","utility":"u1","zone":"CN-ZJ","class":"residential"}"# }
            #expect(try await app.post("/v1/consumers", registry.joined(separator: "\n")).status == 200)
            func push(_ consumer: Int, hour: Int, wh: Int) async throws {
                let answer = try await app.post("/v1/readings", """
                    {"utility":"u1","meter":"m\(consumer)","consumer":"c\(consumer)","start":"2023-03-01T\(hour < 10 ? "0" : "")\(hour):00:00+08:00","duration_s":3600,"import_wh":\(wh),"quality":"actual"}
                    """)
                #expect(answer.status == 200, "\(answer.text)")
            }
            for c in 1...5 { try await push(c, hour: 0, wh: 1_000) }
            let first = try await app.get("/v1/consumers/c1/score?period=2023-03").json()
            let sizeAtFirst = try #require(first["benchmark_size"] as? Int)
            #expect(first["k_milli"] as? Int == 1_000 && first["benchmark_as_of"] is String)

            try await push(1, hour: 1, wh: 4_000)
            let size = try #require(try await app.get("/v1/ledger/checkpoint").text.split(separator: "\n").dropFirst().first)
            let second = try await app.get("/v1/consumers/c1/score?period=2023-03").json()
            #expect(second["energy_wh"] as? Int == 5_000, "the consumer's own figures are always current")
            if refresh == "1h" {
                #expect(second["benchmark_size"] as? Int == sizeAtFirst)
                // Against the old groups: 5 kWh over a mean of 1 kWh.
                #expect(second["k_milli"] as? Int == 5_000)
            } else {
                #expect(second["benchmark_size"] as? Int == Int(size))
                // Against current groups: 5 over a mean of 9/5.
                #expect(second["k_milli"] as? Int == 2_777)
            }
        }
    }

    @Test func aPeriodWithoutFactorsCannotCloseAndSaysWhatIsMissing() async throws {
        let client = try await InProcessDaemon(extraConfig: Self.manualClose)
        #expect(try await client.post("/v1/consumers", #"{"consumer":"c1","utility":"u1","zone":"CN-ZJ","class":"residential"}"#).status == 200)
        #expect(try await client.post("/v1/readings", """
            {"utility":"u1","meter":"m1","consumer":"c1","start":"2023-03-01T00:00:00+08:00","duration_s":3600,"import_wh":10,"quality":"actual"}
            """).status == 200)
        let note = try await client.get("/v1/ledger/checkpoint").text
        let refused = try await client.post("/v1/periods/2023-03/close", "")
        #expect(refused.status == 409, "\(refused.text)")
        let errors = try refused.json()["errors"] as? [[String: Any]] ?? []
        #expect(errors.count == 1 && errors.first?["field"] as? String == "zone")
        #expect((errors.first?["message"] as? String)?.contains("CN-ZJ") == true, "\(refused.text)")
        #expect(try await client.get("/v1/ledger/checkpoint").text == note, "a refused close changed the ledger")
        // Still open: more readings are welcome.
        #expect(try await client.post("/v1/readings", """
            {"utility":"u1","meter":"m1","consumer":"c1","start":"2023-03-01T01:00:00+08:00","duration_s":3600,"import_wh":10,"quality":"actual"}
            """).status == 200)
    }

    @Test(arguments: StorageEngine.allCases)
    func aDuePeriodClosesByItself(on engine: StorageEngine) throws {
        let daemon = try DaemonProcess(extraConfig: #"close_after = "1s""#, engine: engine)
        try daemon.start()
        let client = try daemon.client()
        #expect(try client.post("/v1/factors?dataset=worked", """
            zone,kind,year,mg_per_kwh,source
            CN-ZJ,average,2022,515300,worked example
            """, contentType: "text/csv").status == 200)
        #expect(try client.post("/v1/consumers", #"{"consumer":"c1","utility":"u1","zone":"CN-ZJ","class":"residential"}"#).status == 200)
        #expect(try client.post("/v1/readings", """
            {"utility":"u1","meter":"m1","consumer":"c1","start":"2023-03-01T00:00:00+08:00","duration_s":3600,"import_wh":10,"quality":"actual"}
            """).status == 200)
        let deadline = Date().addingTimeInterval(60)
        var closed = false
        while !closed && Date() < deadline {
            let score = try client.get("/v1/consumers/c1/score?period=2023-03").json()
            closed = score["provisional"] as? Bool == false
        }
        #expect(closed, "2023-03 did not close by itself")
        #expect(daemon.stop() == 0)
    }

    @Test(arguments: StorageEngine.allCases)
    func aDaemonKilledWhileClosingRestartsWithNoCloseOrAWholeOne(on engine: StorageEngine) async throws {
        let (daemon, client) = try await Self.daemonWithOneAnnualFactor(engine: engine)
        let consumers = (0..<60).map { #"{"consumer":"c\#($0)","utility":"u1","zone":"CN-ZJ","class":"residential"}"# }
        #expect(try client.post("/v1/consumers", consumers.joined(separator: "\n")).status == 200)
        let march = 1_677_600_000  // 2023-03-01T00:00:00+08:00
        for day in 0..<31 {
            var lines: [String] = []
            for hour in 0..<24 {
                for c in 0..<60 {
                    lines.append(#"{"utility":"u1","meter":"m\#(c)","consumer":"c\#(c)","start":\#(march + (day * 24 + hour) * 3600),"duration_s":3600,"import_wh":\#(100 + c),"quality":"actual"}"#)
                }
            }
            #expect(try client.post("/v1/readings", lines.joined(separator: "\n")).status == 200)
        }
        // Send the close request whole, then kill without waiting for the answer.
        let socket = try Self.connect(daemon.socket)
        let request = Array("POST /v1/periods/2023-03/close HTTP/1.1\r\nHost: localhost\r\nContent-Length: 0\r\n\r\n".utf8)
        #expect(write(socket, request, request.count) == request.count)
        daemon.stop(signal: SIGKILL)
        close(socket)

        try daemon.start()
        let after = try daemon.client()
        let checkpoint = try SignedCheckpoint.open(after.get("/v1/ledger/checkpoint").text, verifiers: [daemon.verifier])
        let size = Int(checkpoint.checkpoint.size)
        let entries = try after.get("/v1/ledger/entries?start=0&end=\(size)").json()["entries"] as? [[String: Any]] ?? []
        let kinds = entries.compactMap { entry -> String? in
            guard let text = entry["entry"] as? String,
                let object = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any]
            else { return nil }
            return object["kind"] as? String
        }
        #expect(kinds.count == size)
        let periods = kinds.filter { $0 == "period" }.count
        let scores = kinds.filter { $0 == "score" }.count
        #expect((periods == 0 && scores == 0) || (periods == 1 && scores == 60), "\(periods) period and \(scores) score entries")
        // Either way the period closes (again, idempotently) after the restart, whole.
        let closed = try after.post("/v1/periods/2023-03/close", "")
        #expect(closed.status == 200, "\(closed.text)")
        #expect(try closed.json()["consumers"] as? Int == 60)
        #expect(try after.get("/v1/consumers/c7/score?period=2023-03").json()["provisional"] as? Bool == false)
        #expect(daemon.stop() == 0)
    }

    @Test func aConsumersMetersAreOrderedByNameNotByRegistration() async throws {
        let client = try await InProcessDaemon(extraConfig: Self.manualClose)
        try await Self.loadOneAnnualFactor(client)
        #expect(try await client.post("/v1/consumers", #"{"consumer":"c1","utility":"u1","zone":"CN-ZJ","class":"residential"}"#).status == 200)
        // m-b is registered (first seen) before m-a; both read at the same instants.
        for (meter, hour) in [("m-b", 0), ("m-a", 0), ("m-a", 1), ("m-b", 1)] {
            let start = 1_677_600_000 + hour * 3600
            #expect(try await client.post("/v1/readings", """
                {"utility":"u1","meter":"\(meter)","consumer":"c1","start":\(start),"duration_s":3600,"import_wh":\(meter == "m-a" ? 10 : 20),"quality":"actual","id":"\(meter)-\(hour)"}
                """).status == 200)
        }
        #expect(try await client.post("/v1/periods/2023-03/close", "").status == 200)
        let score = try await client.get("/v1/consumers/c1/score?period=2023-03").json()
        #expect(score["energy_wh"] as? Int == 60)
        let text = try #require((score["entry"] as? [String: Any])?["entry"] as? String)
        let body = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        // The leaves in (start, meter name) order: m-a then m-b at each hour.
        var leaves: [[UInt8]] = []
        for (meter, hour) in [("m-a", 0), ("m-b", 0), ("m-a", 1), ("m-b", 1)] {
            let proof = try await client.get("/v1/readings/u1/\(meter)/\(1_677_600_000 + hour * 3600)/proof").json()
            leaves.append(Array(try #require(proof["reading"] as? String).utf8))
        }
        let root = IndependentMerkle.root(leaves[...])
        #expect((body["inputs"] as? [String: Any])?["readings_root"] as? String == Base64.encode(root))
    }

    /// A connected Unix stream socket.
    static func connect(_ path: String) throws -> Int32 {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: path.utf8.prefix(raw.count - 1))
        }
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        guard fd >= 0, connected == 0 else {
            if fd >= 0 { close(fd) }
            throw DaemonTestFailure("cannot connect to \(path): \(String(cString: strerror(errno)))")
        }
        return fd
    }
}
