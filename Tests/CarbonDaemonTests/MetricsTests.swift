import CarbonClient
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// `/metrics` as a Prometheus scraper reads it, against the work the daemon was given.
@Suite struct MetricsTests {
    static let hour = 1_790_000_000 / 3600 * 3600

    static func reading(meter: String, hour: Int, wh: Int, consumer: String = "c1") -> String {
        #"{"utility":"u1","meter":"\#(meter)","consumer":"\#(consumer)","start":\#(Self.hour + hour * 3600),"duration_s":3600,"import_wh":\#(wh)}"#
    }

    @Test func countersAndHistogramsMatchTheWorkDone() throws {
        let daemon = try DaemonProcess(extraConfig: DaemonProcess.periodsStayOpen)
        try daemon.start()
        let client = try daemon.client()
        #expect(try client.post("/v1/consumers", #"{"consumer":"c1","utility":"u1","zone":"CN-ZJ","class":"residential"}"#).status == 200)

        // 7 stored, then the same 7 again: duplicates.
        let good = (0..<7).map { Self.reading(meter: "m\($0)", hour: 0, wh: $0) }.joined(separator: "\n")
        #expect(try client.post("/v1/readings", good).status == 200)
        #expect(try client.post("/v1/readings", good).status == 200)
        // 3 invalid records (unknown consumer, negative energy, no meter) sink a batch of 5: 422.
        let invalid = [
            Self.reading(meter: "m0", hour: 1, wh: 1), Self.reading(meter: "m1", hour: 1, wh: 1, consumer: "nobody"),
            Self.reading(meter: "m2", hour: 1, wh: -5), #"{"utility":"u1","consumer":"c1","start":1,"duration_s":3600,"import_wh":1}"#,
            Self.reading(meter: "m3", hour: 1, wh: 1),
        ].joined(separator: "\n")
        #expect(try client.post("/v1/readings", invalid).status == 422)
        // The same key with other content: 409.
        #expect(try client.post("/v1/readings", Self.reading(meter: "m0", hour: 0, wh: 99)).status == 409)
        // Partial: 2 stored, 1 invalid.
        let partial = [Self.reading(meter: "m5", hour: 2, wh: 1), Self.reading(meter: "m6", hour: 2, wh: 1),
                       Self.reading(meter: "m7", hour: 2, wh: 1, consumer: "nobody")].joined(separator: "\n")
        #expect(try client.post("/v1/readings?partial=true", partial).status == 200)
        #expect(try client.get("/v1/consumers/c1").status == 200)
        let size = try #require(try client.get("/v1/health").json()["size"] as? Int)

        let answer = try client.get("/metrics")
        #expect(answer.status == 200)
        #expect(answer.header("Content-Type")?.hasPrefix("text/plain; version=0.0.4") == true)
        let metrics = try PrometheusText(answer.text)

        #expect(metrics.value("carbonledger_readings_accepted_total") == 9)
        #expect(metrics.value("carbonledger_readings_rejected_total", ["reason": "duplicate"]) == 7)
        #expect(metrics.value("carbonledger_readings_rejected_total", ["reason": "invalid"]) == 4)
        #expect(metrics.value("carbonledger_readings_rejected_total", ["reason": "conflict"]) == 1)
        #expect(metrics.value("carbonledger_readings_rejected_total", ["reason": "forbidden"]) == 0)

        let requests = "carbonledger_http_request_duration_seconds"
        func count(_ method: String, _ route: String, _ status: Int) -> Double? {
            metrics.value(requests + "_count", ["method": method, "route": route, "status": "\(status)"])
        }
        #expect(count("POST", "/v1/readings", 200) == 3)
        #expect(count("POST", "/v1/readings", 422) == 1)
        #expect(count("POST", "/v1/readings", 409) == 1)
        #expect(count("POST", "/v1/consumers", 200) == 1)
        // The route pattern, never the consumer's id.
        #expect(count("GET", "/v1/consumers/{id}", 200) == 1)
        #expect(!answer.text.contains("c1"))

        // Each batch that stored something is one commit with one checkpoint.
        #expect(try #require(metrics.value("carbonledger_commit_duration_seconds_count")) >= 3)
        #expect(try #require(metrics.value("carbonledger_checkpoint_duration_seconds_count")) >= 3)
        #expect(metrics.value("carbonledger_ledger_entries") == Double(size))
        #expect(try #require(metrics.value("carbonledger_last_checkpoint_age_seconds")) >= 0)
        #expect(try #require(metrics.value("carbonledger_database_bytes")) > 0)
        #expect(metrics.value("carbonledger_wal_bytes") != nil)
        #expect(try #require(metrics.value("carbonledger_wal_bytes_written_total")) > 0)
        #expect(try #require(metrics.value("carbonledger_open_connections")) >= 1)
        for family in metrics.families.values {
            #expect(family.help?.isEmpty == false, "\(family.name) has no HELP")
        }
    }

    @Test func oneLogLinePerRequestWithPeerRouteStatusAndDuration() throws {
        let daemon = try DaemonProcess(extraConfig: DaemonProcess.periodsStayOpen)
        try daemon.start()
        #expect(try daemon.client().get("/v1/consumers/nobody").status == 404)
        let line = try #require(daemon.log.split(separator: "\n").first { $0.contains("route=/v1/consumers/{id}") })
        #expect(line.contains(" debug: request "), "\(line)")
        #expect(line.contains("uid=\(getuid())") && line.contains("method=GET") && line.contains("status=404"), "\(line)")
        #expect(line.contains("duration_ms="), "\(line)")
        // Outside the journal every line starts with an RFC 3339 UTC timestamp.
        let stamp = try #require(line.split(separator: " ").first)
        #expect(stamp.count == 24 && stamp.hasSuffix("Z") && stamp.dropFirst(10).first == "T", "\(line)")
    }

    /// At the default level an ordinary request costs no log write.
    @Test func requestsAreNotLoggedAtTheDefaultLevel() throws {
        let daemon = try DaemonProcess(extraConfig: DaemonProcess.periodsStayOpen)
        try daemon.start(arguments: ["--log-level", "info"])
        #expect(try daemon.client().get("/v1/consumers/nobody").status == 404)
        #expect(try daemon.client().get("/v1/health").status == 200)
        #expect(daemon.log.contains("serving"), "\(daemon.log)")
        #expect(!daemon.log.contains("request"), "\(daemon.log)")
    }

    @Test func underJournaldLinesCarryPrioritiesAndNoTimestamps() throws {
        let daemon = try DaemonProcess(extraConfig: DaemonProcess.periodsStayOpen)
        close(open(daemon.logPath, O_WRONLY | O_CREAT | O_CLOEXEC, 0o644))
        var file = stat()
        stat(daemon.logPath, &file)
        try daemon.start(environment: ["JOURNAL_STREAM": "\(file.st_dev):\(file.st_ino)"])
        #expect(try daemon.client().get("/v1/health").status == 200)
        let lines = daemon.log.split(separator: "\n")
        #expect(lines.contains { $0.hasPrefix("<6>serving") }, "\(daemon.log)")
        #expect(lines.contains { $0.hasPrefix("<7>request ") && $0.contains("route=/v1/health") }, "\(daemon.log)")
        #expect(lines.allSatisfy { $0.first == "<" && (2...7).contains(Int(String($0.dropFirst().prefix(1))) ?? 0) }, "\(daemon.log)")
    }
}
