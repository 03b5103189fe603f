import CarbonClient
import Foundation
import Testing

/// The bundled factor dataset: recorded at first start, resolvable through the API (in-process).
@Suite struct FactorTests {
    static let csv = DaemonProcess.repositoryRoot.appendingPathComponent("config/factors/cn-mee-annual.csv").path

    private func daemonWithFactors() async throws -> InProcessDaemon {
        try await InProcessDaemon(extraConfig: "factors = [\"\(Self.csv)\"]")
    }

    @Test func theDatasetIsAFactorsEntryWhoseRootCoversEveryRow() async throws {
        let daemon = try await daemonWithFactors()
        let entries = try await daemon.get("/v1/ledger/entries?start=0&end=10").json()["entries"] as? [[String: Any]] ?? []
        let factors = try #require(entries.compactMap { entry -> [String: Any]? in
            guard let text = entry["entry"] as? String,
                let object = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any],
                object["kind"] as? String == "factors"
            else { return nil }
            return object
        }.first)
        #expect(factors["dataset"] as? String == "cn-mee-annual")

        // Rebuild the leaves from the CSV here: annual rows cover a year in Asia/Shanghai (+08:00 since 1991).
        let lines = try String(contentsOfFile: Self.csv, encoding: .utf8).split(separator: "\n").dropFirst()
        struct Row { var zone: String; var kind: String; var start: Int; var leaf: [UInt8] }
        let rows: [Row] = lines.map { line in
            let cells = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            let year = Int(cells[2])!
            let start = Self.unix(year: year)
            let end = Self.unix(year: year + 1)
            let source = cells[4].replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            let leaf = #"{"end":\#(end),"kind":"\#(cells[1])","mg_per_kwh":\#(cells[3]),"source":"\#(source)","start":\#(start),"zone":"\#(cells[0])"}"#
            return Row(zone: cells[0], kind: cells[1], start: start, leaf: Array(leaf.utf8))
        }.sorted { a, b in
            if a.zone != b.zone { return a.zone.utf8.lexicographicallyPrecedes(b.zone.utf8) }
            return (a.kind, a.start) < (b.kind, b.start)
        }
        #expect(factors["count"] as? Int == rows.count)
        let root = Data(IndependentMerkle.root(rows.map(\.leaf)[...])).base64EncodedString()
        #expect(factors["root"] as? String == root)
    }

    @Test func anAnnualFactorFallsBackAYearAndTheResidualUpTheZoneTree() async throws {
        let daemon = try await daemonWithFactors()
        let client = daemon
        let average = try await client.get("/v1/factors?zone=CN-ZJ&at=2023-03-15T00:00:00%2B08:00").json()
        #expect(average["mg_per_kwh"] as? Int == 515_300)
        #expect(average["dataset"] as? String == "cn-mee-annual")
        let row = average["row"] as? [String: Any]
        #expect(row?["start"] as? String == "2021-12-31T16:00:00Z")
        let steps = (average["path"] as? [[String: Any]] ?? []).map { "\($0["zone"] ?? "")/\($0["year"] ?? "sub")" }
        let tried2023 = steps.firstIndex(of: "CN-ZJ/2023")
        let found2022 = steps.firstIndex(of: "CN-ZJ/2022")
        #expect(tried2023 != nil && found2022 != nil && tried2023! < found2022!, "\(steps)")

        let residual = try await client.get("/v1/factors?zone=CN-ZJ&at=2023-03-15T00:00:00%2B08:00&kind=residual").json()
        #expect(residual["mg_per_kwh"] as? Int == 609_600)
        #expect((residual["row"] as? [String: Any])?["zone"] as? String == "CN")

        #expect(try await client.get("/v1/factors?zone=XX&at=0").status == 400)
        #expect(try await client.get("/v1/factors?zone=CN-ZJ&at=1990-01-01T00:00:00Z").status == 404)
    }

    /// Unix seconds of January 1 of `year`, 00:00 at +08:00.
    static func unix(year: Int) -> Int {
        var days = 0
        for y in 1970..<year { days += (y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)) ? 366 : 365 }
        return days * 86_400 - 8 * 3600
    }

    @Test func anElectricityMapsExportLoadsAsAnHourlyDatasetThatWinsOverTheAnnualOne() async throws {
        let daemon = try await daemonWithFactors()
        let client = daemon
        for version in ["v1", "v2"] {
            let export = try String(
                contentsOfFile: "/work/shared/data/samples/electricitymaps-hourly-\(version).csv", encoding: .utf8)
            let answer = try await client.post(
                "/v1/factors?dataset=em-\(version)&zone=CN-ZJ", export, contentType: "text/csv")
            #expect(answer.status == 200, "\(answer.text)")
            #expect((try answer.json()["accepted"] as? Int ?? 0) > 0)
        }
        // 2024-01-01 00:00 UTC: the export's 561.20 g/kWh is 561200 mg/kWh exactly.
        let hourly = try await client.get("/v1/factors?zone=CN-ZJ&at=2024-01-01T00:30:00Z").json()
        #expect(hourly["mg_per_kwh"] as? Int == 561_200)
        #expect((hourly["row"] as? [String: Any])?["source"] as? String == "electricitymaps:CN")
        // The same name again is refused; a row naming an unknown zone is named.
        let again = try await client.post("/v1/factors?dataset=em-v1&zone=CN-ZJ", "zone,kind,year,mg_per_kwh,source\nCN,average,2030,1,x\n",
                                    contentType: "text/csv")
        #expect(again.status == 409)
        let bad = try await client.post(
            "/v1/factors?dataset=native", "zone,kind,start,end,mg_per_kwh,source\nCN,average,0,3600,1,x\nXX,average,0,3600,1,x\nCN,wrong,0,3600,1.5,x\n",
            contentType: "text/csv")
        #expect(bad.status == 422)
        let errors = (try bad.json()["errors"] as? [[String: Any]] ?? []).map { ($0["index"] as? Int ?? -1, $0["field"] as? String ?? "") }
        #expect(errors.map(\.0) == [1, 2], "\(bad.text)")
        #expect(errors.first?.1 == "zone")
    }
}
