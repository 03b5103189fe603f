import CarbonClient
import Foundation
import Testing

/// Zones as shards (docs/scaling.md): two daemons, one per zone subtree, each its own
/// log origin and key; their inventories of the parent zone, merged by carbonctl, are
/// what one daemon holding every consumer answers.
@Suite struct ShardMergeTests {
    /// Six consumers in each of two provinces of CN-EAST, each with its own March.
    static let consumers = (1...6).map { ("zj-\($0)", "CN-ZJ") } + (1...6).map { ("js-\($0)", "CN-JS") }

    static func load(_ client: UnixHTTPClient, consumers: [(String, String)]) throws {
        let factors = try client.post("/v1/factors?dataset=shards", """
            zone,kind,year,mg_per_kwh,source
            CN-ZJ,average,2023,515300,test
            CN-JS,average,2023,558700,test
            CN-SH,average,2023,532100,test
            CN,residual,2023,585600,test
            """, contentType: "text/csv")
        guard factors.status == 200 else { throw DaemonTestFailure("factors: \(factors.text)") }
        for (k, (consumer, zone)) in consumers.enumerated() {
            let registered = try client.post("/v1/consumers", #"{"consumer":"\#(consumer)","utility":"u1","zone":"\#(zone)","class":"residential"}"#)
            guard registered.status == 200 else { throw DaemonTestFailure("consumer: \(registered.text)") }
            // Figures that do not divide evenly, so grams and intensity are rounded in the sums.
            let wh = 90_000 + 7_919 * (Int(consumer.split(separator: "-")[1])! + (zone == "CN-JS" ? 6 : 0)) + k % 3
            let readings = try client.post("/v1/readings", """
                {"utility":"u1","meter":"m-\(consumer)","consumer":"\(consumer)","start":"2023-02-01T00:00:00+08:00","duration_s":2419200,"import_wh":\(wh + 3_001),"quality":"actual"}
                {"utility":"u1","meter":"m-\(consumer)","consumer":"\(consumer)","start":"2023-03-01T00:00:00+08:00","duration_s":2678400,"import_wh":\(wh),"quality":"actual"}
                """)
            guard readings.status == 200 else { throw DaemonTestFailure("readings: \(readings.text)") }
        }
        for period in ["2023-02", "2023-03"] {
            let closed = try client.post("/v1/periods/\(period)/close", "")
            guard closed.status == 200 else { throw DaemonTestFailure("close \(period): \(closed.text)") }
        }
    }

    /// A daemon with its own key and origin, holding `consumers`.
    static func daemon(_ origin: String, consumers: [(String, String)]) throws -> DaemonProcess {
        let daemon = try DaemonProcess(origin: origin, extraConfig: AccountingTests.manualClose)
        try daemon.start()
        try load(daemon.client(), consumers: consumers)
        return daemon
    }

    @Test func twoShardsInventoriesMergeIntoTheOneOfADaemonHoldingBoth() throws {
        let zhejiang = try Self.daemon("ledger.example/zj", consumers: Self.consumers.filter { $0.1 == "CN-ZJ" })
        let jiangsu = try Self.daemon("ledger.example/js", consumers: Self.consumers.filter { $0.1 == "CN-JS" })
        let whole = try Self.daemon("ledger.example/east", consumers: Self.consumers)

        let merged = try zhejiang.carbonctl([
            "inventory", "CN-EAST", "--from", "2023-02", "--to", "2023-03", "--json",
            "--shard", zhejiang.socket, "--shard-key", zhejiang.vkey, "--shard", jiangsu.socket, "--shard-key", jiangsu.vkey,
        ])
        #expect(merged.status == 0, "\(merged.err)")
        #expect(merged.err.contains("shard ledger.example/zj: checkpoint") && merged.err.contains("shard ledger.example/js: checkpoint"))
        let mergedAnswer = try #require(try JSONSerialization.jsonObject(with: Data(merged.out.utf8)) as? NSDictionary)
        let reference = try #require(
            try JSONSerialization.jsonObject(with: Data(whole.client().get("/v1/zones/CN-EAST/inventory?from=2023-02&to=2023-03").body)) as? NSDictionary)
        #expect(mergedAnswer == reference, "merged \(mergedAnswer)\nreference \(reference)")
        let periods = try #require(reference["periods"] as? [[String: Any]])
        #expect(periods.map { $0["consumers"] as? Int } == [12, 12])
        #expect(periods.allSatisfy { $0["suppressed"] as? Bool == false && $0["provisional"] as? Bool == false })

        // A shard's key that does not verify its checkpoint stops the merge.
        let wrongKey = try zhejiang.carbonctl([
            "inventory", "CN-EAST", "--from", "2023-03",
            "--shard", zhejiang.socket, "--shard-key", jiangsu.vkey, "--shard", jiangsu.socket, "--shard-key", jiangsu.vkey,
        ])
        #expect(wrongKey.status == 3 && wrongKey.err.contains("does not verify"), "\(wrongKey.err)")
        // A shard that withholds the period (fewer consumers than min_peers) withholds the sum.
        let small = try Self.daemon("ledger.example/sh", consumers: [("sh-1", "CN-SH"), ("sh-2", "CN-SH")])
        let withheld = try zhejiang.carbonctl([
            "inventory", "CN-EAST", "--from", "2023-03", "--json",
            "--shard", zhejiang.socket, "--shard-key", zhejiang.vkey, "--shard", small.socket, "--shard-key", small.vkey,
        ])
        #expect(withheld.status == 0, "\(withheld.err)")
        let withheldPeriod = try #require(
            ((try JSONSerialization.jsonObject(with: Data(withheld.out.utf8)) as? [String: Any])?["periods"] as? [[String: Any]])?.first)
        #expect(withheldPeriod["suppressed"] as? Bool == true && withheldPeriod["consumers"] as? Int == 8)
        #expect(withheldPeriod["loc_ug"] is NSNull && withheldPeriod["energy_wh"] is NSNull)
    }
}
