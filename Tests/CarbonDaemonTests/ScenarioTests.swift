import CarbonAccounting
import CarbonClient
import CarbonStore
import Foundation
import Testing
import TransparencyLog

/// A program of 55 consumers in two zones and two classes, hourly readings over
/// December 2024 and January 2025 (plus a few monthly November readings as
/// baselines), annual factors with year and zone-tree fallbacks, an hourly series
/// for Zhejiang and certificates of every shape. Closing the months must write
/// score entries equal to the API's figures, and `ReferenceScoring` (the method
/// recomputed from methodology.md) must agree on every figure.
@Suite struct ScenarioTests {
    typealias Ref = ReferenceScoring

    @Test func closingTwoMonthsWritesScoresASecondComputationReproduces() async throws {
        var scenario = try Scenario.make()
        let client = try await InProcessDaemon(extraConfig: scenario.config)

        // Factor datasets, then the registry.
        var datasetRoots: [String: String] = [:]
        for dataset in scenario.datasets {
            let answer = try await client.post("/v1/factors?dataset=\(dataset.name)", dataset.csv, contentType: "text/csv")
            try #require(answer.status == 200, "\(dataset.name): \(answer.text)")
            let index = try #require(try answer.json()["entry"] as? Int)
            let entry = try #require(try await Ledger.entries(client, from: index, to: index + 1).first?.object)
            #expect(entry["kind"] as? String == "factors" && entry["count"] as? Int == dataset.rows.count)
            datasetRoots[dataset.name] = try #require(entry["root"] as? String)
        }
        let registry = scenario.consumers.map { c in
            #"{"consumer":"\#(c.id)","utility":"\#(c.utility)","zone":"\#(c.zone)","class":"\#(c.consumerClass)","normalizer":\#(c.normalizer)}"#
        }.joined(separator: "\n")
        let registered = try await client.post("/v1/consumers", registry)
        try #require(registered.status == 200, "\(registered.text)")
        #expect(try registered.json()["accepted"] as? Int == scenario.consumers.count)

        // Readings in head-end order, one batch per day and utility; certificates half-way and at the end.
        let batches = scenario.dailyBatches()
        for (number, batch) in batches.enumerated() {
            let body = batch.map(Scenario.ndjson).joined(separator: "\n")
            let answer = try await client.post("/v1/readings", body)
            try #require(answer.status == 200, "batch \(number): \(answer.text.prefix(2_000))")
            #expect(try answer.json()["accepted"] as? Int == batch.count)
            if number == batches.count / 2 {
                try await postCertificates(client, scenario.certificates.filter { $0.start < scenario.january.start })
            }
        }
        try await postCertificates(client, scenario.certificates.filter { $0.start >= scenario.january.start })

        // Meter-data revisions in the open months: some of January's readings are
        // corrected (the reference computes from the corrected readings only).
        let januaryFixes = try await correct(client, &scenario, in: scenario.january, every: 61, addingWh: 3, reason: "meter_fault")
        #expect(januaryFixes > 10)

        // The second opinion.
        let book = try Ref.FactorBook(program: scenario.program, parent: scenario.zoneParents, rows: scenario.datasets.flatMap(\.rows))
        let registryById = Dictionary(uniqueKeysWithValues: scenario.consumers.map { ($0.id, $0) })
        let accounts = Ref.accountReadings(
            consumers: registryById, readings: scenario.readings, certificates: scenario.certificates, book: book)
        let lacking = accounts.values.joined().filter { !$0.missingAverage.isEmpty }
        #expect(lacking.isEmpty, "the scenario lacks an average factor")
        let outcomes = scenario.periods.map { period in
            Ref.outcome(period: period, program: scenario.program, consumers: registryById, accounts: accounts, book: book)
        }
        scenario.expectCoverage(outcomes)

        // Provisional figures, before anything is closed.
        var mismatches = Mismatches()
        try await compareProvisional(client, scenario, outcomes: outcomes, label: "provisional", into: &mismatches)

        // Close the months in order; every score entry must say what the API says and what the reference says.
        for outcome in outcomes {
            let period = outcome.period.name
            let closing = try await client.post("/v1/periods/\(period)/close", "", contentType: "application/json")
            try #require(closing.status == 200, "closing \(period): \(closing.text)")
            let closed = try closing.json()
            let periodIndex = try #require(closed["entry"] as? Int)
            let count = try #require(closed["consumers"] as? Int)
            #expect(count == outcome.consumers.count, "\(period): scored consumers")
            let entries = try await Ledger.entries(client, from: periodIndex, to: periodIndex + 1 + count)
            try #require(entries.count == 1 + count)

            let periodEntry = entries[0].object
            #expect(periodEntry["kind"] as? String == "period" && periodEntry["period"] as? String == period)
            #expect(periodEntry["method"] as? String == "cl-score/1" && periodEntry["consumers"] as? Int == count)
            let benchmarks = (periodEntry["benchmarks"] as? [[String: Any]] ?? []).map { b in
                let field = { (name: String) in Mismatches.render(b[name]) }
                return "\(field("zone"))/\(field("class")) n=\(field("n")) loc=\(field("sum_loc_ug")) norm=\(field("sum_norm"))"
            }
            let expectedBenchmarks = outcome.benchmarks.map { b in
                "\(b.zone)/\(b.consumerClass) n=\(b.n) loc=\(b.sumLocUg) norm=\(b.sumNorm)"
            }
            #expect(benchmarks == expectedBenchmarks, "\(period) benchmarks")
            let params = periodEntry["params"] as? [String: Any] ?? [:]
            let weights = params["weights"] as? [String: Any] ?? [:]
            let w = scenario.program.weights
            #expect(["peer", "reduction", "timing", "green"].map { Mismatches.render(weights[$0]) }
                == [w.peer, w.reduction, w.timing, w.green].map { "\($0)" }, "\(period) params: \(params)")
            #expect(Mismatches.render(params["points_per_kg"]) == "\(scenario.program.pointsPerKg)")
            #expect(Mismatches.render(params["min_peers"]) == "\(scenario.program.minPeers)")
            #expect((params["static_benchmarks"] as? [Any])?.count == scenario.program.staticBenchmarks.count)

            var scoreEntries: [String: Ledger.Entry] = [:]
            for entry in entries {
                #expect(EntrySignature.verify(entry: Array(entry.text.utf8), signature: entry.signature, verifier: client.files.verifier),
                        "entry \(entry.index) is not signed by the ledger key")
            }
            for entry in entries.dropFirst() {
                #expect(entry.object["kind"] as? String == "score" && entry.object["period"] as? String == period)
                scoreEntries[entry.object["consumer"] as? String ?? ""] = entry
            }
            #expect(Set(scoreEntries.keys) == Set(outcome.consumers.keys), "\(period): consumers with a score entry")

            for consumer in scenario.consumers {
                let answer = try await client.get("/v1/consumers/\(consumer.id)/score?period=\(period)")
                let label = "closed \(period) \(consumer.id)"
                guard let expected = outcome.consumers[consumer.id] else {
                    mismatches.check(label, "status", found: "\(answer.status)", expected: "404")
                    continue
                }
                guard answer.status == 200, let ledgerEntry = scoreEntries[consumer.id] else {
                    mismatches.check(label, "status", found: "\(answer.status) \(answer.text)", expected: "200 and an entry")
                    continue
                }
                let score = try answer.json()
                mismatches.check(label, "provisional", found: "\(score["provisional"] as? Bool as Any)", expected: "Optional(false)")
                let apiEntry = score["entry"] as? [String: Any] ?? [:]
                mismatches.check(label, "entry.index", found: "\(apiEntry["index"] ?? "missing")", expected: "\(ledgerEntry.index)")
                mismatches.check(label, "entry.entry", found: apiEntry["entry"] as? String ?? "missing", expected: ledgerEntry.text)
                // API and ledger entry: the same figures, under the same names.
                for name in Mismatches.figureNames {
                    mismatches.check(label, "\(name) (api vs entry)", found: Mismatches.render(score[name]),
                                     expected: Mismatches.render(ledgerEntry.object[name]))
                }
                mismatches.compare(label + " entry", ledgerEntry.object, expected.figures, provisional: false)
                mismatches.compare(label, score, expected.figures, provisional: false)
                let grade = score["grade"] as? Int
                mismatches.check(label, "label", found: Mismatches.render(score["label"]),
                                 expected: grade.flatMap { Ref.Figures.labels[$0] } ?? "null")

                // What the figures were computed from.
                let inputs = ledgerEntry.object["inputs"] as? [String: Any] ?? [:]
                let leaves = expected.sums.readings.map { Array($0.reading.leaf.utf8) }
                mismatches.check(label, "inputs.readings_root", found: inputs["readings_root"] as? String ?? "missing",
                                 expected: Data(IndependentMerkle.root(leaves[...])).base64EncodedString())
                mismatches.check(label, "inputs.certificates", found: Mismatches.render(inputs["certificates"]),
                                 expected: expected.sums.certificates.sorted(by: Ref.bytesBefore).joined(separator: ","))
                let roots = expected.sums.datasets.map { datasetRoots[$0] ?? "?\($0)" }.sorted(by: Ref.bytesBefore)
                mismatches.check(label, "inputs.factors", found: Mismatches.render(inputs["factors"]),
                                 expected: roots.joined(separator: ","))
            }
            try await compareDirectory(client, outcome, registryById, into: &mismatches)
        }

        // December restated: corrected, closed again; the new score entries restate the
        // old ones and agree with the reference over the corrected readings, January
        // keeps the figures it was signed with, and the whole ledger audits.
        let januaryBefore = try await scoreTexts(client, scenario, scenario.january)
        let decemberBefore = try await scoreEntryIndexes(client, scenario, scenario.december)
        let restate = try await client.post(
            "/v1/periods/\(scenario.december.name)/restate", #"{"reason":"head-end estimates replaced"}"#,
            contentType: "application/json")
        try #require(restate.status == 200, "\(restate.text)")
        let later = try restate.json()["later_periods"] as? [String]
        #expect(later == [scenario.january.name])
        let decemberFixes = try await correct(client, &scenario, in: scenario.december, every: 47, addingWh: 5, reason: "data_error")
        #expect(decemberFixes > 10)
        let reclose = try await client.post("/v1/periods/\(scenario.december.name)/close", "")
        try #require(reclose.status == 200, "\(reclose.text)")
        let corrected = Ref.accountReadings(
            consumers: registryById, readings: scenario.readings, certificates: scenario.certificates, book: book)
        let restated = Ref.outcome(
            period: scenario.december, program: scenario.program, consumers: registryById, accounts: corrected, book: book)
        for (id, expected) in restated.consumers {
            let label = "restated \(scenario.december.name) \(id)"
            let answer = try await client.get("/v1/consumers/\(id)/score?period=\(scenario.december.name)")
            guard answer.status == 200 else {
                mismatches.check(label, "status", found: "\(answer.status)", expected: "200")
                continue
            }
            let score = try answer.json()
            mismatches.compare(label, score, expected.figures, provisional: false)
            let entry = (score["entry"] as? [String: Any])?["entry"] as? String ?? ""
            let restates = decemberBefore[id].map { #""restates":\#($0)"# } ?? "no earlier score"
            mismatches.check(label, "entry restates", found: "\(entry.contains(restates))", expected: "true")
        }
        #expect(try await scoreTexts(client, scenario, scenario.january) == januaryBefore, "January keeps its signed figures")
        let audit = try LedgerFile.verify(
            path: client.files.database, first: client.files.verifier,
            options: .init(checksData: true, replayScores: { try SystemTimeZones.calendar($0) }))
        #expect(audit.failures.isEmpty, "\(audit.failures.prefix(20))")
        #expect(audit.scoresChecked == outcomes.map(\.consumers.count).reduce(0, +) + restated.consumers.count)
        #expect(mismatches.lines.isEmpty, "\(mismatches.lines.count) disagreements:\n\(mismatches.lines.prefix(60).joined(separator: "\n"))")
    }

    /// Corrects every `every`-th reading of `period` that has energy (a few Wh more, an
    /// estimate made actual), through the API and in `scenario`; returns how many.
    private func correct(
        _ client: some TestAPI, _ scenario: inout Scenario, in period: Ref.Period, every: Int, addingWh: Int64, reason: String
    ) async throws -> Int {
        // A batch carries one utility's corrections.
        var lines: [String: [String]] = [:]
        var picked = 0
        for i in scenario.readings.indices where scenario.readings[i].start >= period.start && scenario.readings[i].start < period.end
            && scenario.readings[i].importWh > 0
        {
            picked += 1
            guard picked % every == 0 else { continue }
            scenario.readings[i].importWh += addingWh
            scenario.readings[i].estimated = false
            lines[scenario.readings[i].utility, default: []].append(
                String(Scenario.ndjson(scenario.readings[i]).dropLast()) + #","reason":"\#(reason)"}"#)
        }
        for batch in lines.values {
            let answer = try await client.post("/v1/readings?correct=true", batch.joined(separator: "\n"))
            let accepted = try answer.json()["accepted"] as? Int
            #expect(answer.status == 200 && accepted == batch.count, "\(answer.text.prefix(2_000))")
        }
        return lines.values.map(\.count).reduce(0, +)
    }

    /// Every consumer's signed score entry of `period` (its proof and checkpoint follow
    /// the ledger's growth; the entry does not).
    private func scoreTexts(_ client: some TestAPI, _ scenario: Scenario, _ period: Ref.Period) async throws -> [String] {
        var texts: [String] = []
        for consumer in scenario.consumers {
            let answer = try await client.get("/v1/consumers/\(consumer.id)/score?period=\(period.name)")
            texts.append(answer.status == 200 ? (try answer.json()["entry"] as? [String: Any])?["entry"] as? String ?? "?" : "")
        }
        return texts
    }

    /// The index of each consumer's score entry in force for `period`.
    private func scoreEntryIndexes(_ client: some TestAPI, _ scenario: Scenario, _ period: Ref.Period) async throws -> [String: Int] {
        var indexes: [String: Int] = [:]
        for consumer in scenario.consumers {
            let answer = try await client.get("/v1/consumers/\(consumer.id)/score?period=\(period.name)")
            guard answer.status == 200 else { continue }
            indexes[consumer.id] = (try answer.json()["entry"] as? [String: Any])?["index"] as? Int
        }
        return indexes
    }

    /// Provisional figures come from each consumer's hour sums (the hours they cannot
    /// stand for from its readings); a factor dataset loaded after the readings must
    /// change them exactly as it changes a computation from the readings.
    @Test func provisionalFiguresFollowAFactorDatasetLoadedAfterTheReadings() async throws {
        let scenario = try Scenario.make()
        let client = try await InProcessDaemon(extraConfig: "benchmark_refresh = \"0s\"\n" + scenario.config)
        let lateName = "zj-hourly"
        for dataset in scenario.datasets where dataset.name != lateName {
            let answer = try await client.post("/v1/factors?dataset=\(dataset.name)", dataset.csv, contentType: "text/csv")
            try #require(answer.status == 200, "\(dataset.name): \(answer.text)")
        }
        let registry = scenario.consumers.map { c in
            #"{"consumer":"\#(c.id)","utility":"\#(c.utility)","zone":"\#(c.zone)","class":"\#(c.consumerClass)","normalizer":\#(c.normalizer)}"#
        }.joined(separator: "\n")
        try #require(try await client.post("/v1/consumers", registry).status == 200)
        for batch in scenario.dailyBatches() {
            try #require(try await client.post("/v1/readings", batch.map(Scenario.ndjson).joined(separator: "\n")).status == 200)
        }
        try await postCertificates(client, scenario.certificates)

        let before = scenario.datasets.filter { $0.name != lateName }
        var mismatches = Mismatches()
        try await compareProvisional(
            client, scenario, outcomes: outcomes(scenario, datasets: before), label: "before \(lateName)", into: &mismatches)
        let late = try #require(scenario.datasets.first { $0.name == lateName })
        try #require(try await client.post("/v1/factors?dataset=\(lateName)", late.csv, contentType: "text/csv").status == 200)
        try await compareProvisional(
            client, scenario, outcomes: outcomes(scenario, datasets: scenario.datasets), label: "after \(lateName)",
            into: &mismatches)
        #expect(mismatches.lines.isEmpty, "\(mismatches.lines.count) disagreements:\n\(mismatches.lines.prefix(60).joined(separator: "\n"))")
    }

    /// The reference's outcome of every period, computed from the readings with `datasets`.
    private func outcomes(_ scenario: Scenario, datasets: [Scenario.Dataset]) throws -> [Ref.PeriodOutcome] {
        let book = try Ref.FactorBook(program: scenario.program, parent: scenario.zoneParents, rows: datasets.flatMap(\.rows))
        let registryById = Dictionary(uniqueKeysWithValues: scenario.consumers.map { ($0.id, $0) })
        let accounts = Ref.accountReadings(
            consumers: registryById, readings: scenario.readings, certificates: scenario.certificates, book: book)
        return scenario.periods.map { period in
            Ref.outcome(period: period, program: scenario.program, consumers: registryById, accounts: accounts, book: book)
        }
    }

    /// Every consumer's provisional score and monthly emissions in every period against
    /// the reference's `outcomes`.
    private func compareProvisional(
        _ client: some TestAPI, _ scenario: Scenario, outcomes: [Ref.PeriodOutcome], label: String,
        into mismatches: inout Mismatches
    ) async throws {
        for outcome in outcomes {
            let period = outcome.period
            for consumer in scenario.consumers {
                let where_ = "\(label) \(period.name) \(consumer.id)"
                let answer = try await client.get("/v1/consumers/\(consumer.id)/score?period=\(period.name)")
                guard let expected = outcome.consumers[consumer.id] else {
                    mismatches.check(where_, "status", found: "\(answer.status)", expected: "404")
                    continue
                }
                guard answer.status == 200 else {
                    mismatches.check(where_, "status", found: "\(answer.status) \(answer.text)", expected: "200")
                    continue
                }
                let score = try answer.json()
                mismatches.check(where_, "provisional", found: "\(score["provisional"] as? Bool as Any)", expected: "Optional(true)")
                mismatches.compare(where_, score, expected.figures, provisional: true)
                let series = try await client.get(
                    "/v1/consumers/\(consumer.id)/emissions?from=\(period.name)&to=\(period.name)&step=month").json()
                let step = (series["steps"] as? [[String: Any]])?.first ?? [:]
                let f = expected.figures
                for (name, value) in [("energy_wh", f.energyWh), ("loc_ug", f.locUg), ("mkt_ug", f.mktUg), ("matched_wh", f.matchedWh)] {
                    mismatches.check(where_ + " emissions", name, found: Mismatches.render(step[name]), expected: "\(value)")
                }
            }
        }
    }

    @Test func theReferenceReproducesTheWorkedExample() throws {
        let program = Ref.Program()
        let parents = ["CN-ZJ": "CN-EAST", "CN-EAST": "CN"]
        let rows = [
            Ref.FactorRow(dataset: "worked", zone: "CN-ZJ", kind: "average", start: Ref.yearStart(program, 2022),
                          end: Ref.yearStart(program, 2023), mgPerKWh: 515_300, year: 2022),
            Ref.FactorRow(dataset: "worked", zone: "CN", kind: "residual", start: Ref.yearStart(program, 2022),
                          end: Ref.yearStart(program, 2023), mgPerKWh: 585_600, year: 2022),
        ]
        let book = try Ref.FactorBook(program: program, parent: parents, rows: rows)
        let february = Ref.month(program, 2023, 2)
        let march = Ref.month(program, 2023, 3)
        let consumers = ["c1": Ref.Consumer(id: "c1", utility: "u1", zone: "CN-ZJ", consumerClass: "residential", normalizer: 1)]
        let readings = [
            Ref.Reading(utility: "u1", meter: "m1", consumer: "c1", start: february.start, durationS: february.end - february.start,
                        importWh: 95_000, exportWh: 0, estimated: false, id: nil),
            Ref.Reading(utility: "u1", meter: "m1", consumer: "c1", start: march.start, durationS: march.end - march.start,
                        importWh: 100_000, exportWh: 0, estimated: false, id: nil),
        ]
        let certificates = [Ref.Certificate(id: "gec-1", consumer: "c1", start: march.start, end: march.end, wh: 20_000)]
        let accounts = Ref.accountReadings(consumers: consumers, readings: readings, certificates: certificates, book: book)
        let figures = try #require(Ref.outcome(period: march, program: program, consumers: consumers, accounts: accounts, book: book)
            .consumers["c1"]?.figures)
        // The figures methodology.md section 9 states.
        #expect(figures.locUg == 51_530_000_000 && figures.mktUg == 46_848_000_000 && figures.matchedWh == 20_000)
        #expect(figures.kMilli == nil && figures.p == 500 && figures.qMilli == 950 && figures.r == 550)
        #expect(figures.t == 500 && figures.g == 200 && figures.score == 470)
        #expect(figures.avoidedUg == 2_668_517_857 && figures.points == 2 && figures.flags == ["no_benchmark"])
    }

    /// Methodology section 7: by score descending then consumer, eligible by grade or points.
    private func compareDirectory(
        _ client: some TestAPI, _ outcome: Ref.PeriodOutcome, _ registry: [String: Ref.Consumer],
        into mismatches: inout Mismatches
    ) async throws {
        let answer = try await client.get("/v1/incentives?period=\(outcome.period.name)&limit=1000")
        let lines = (try answer.json()["consumers"] as? [[String: Any]] ?? []).map { line in
            ["consumer", "zone", "class", "score", "grade", "points", "eligible"].map { Mismatches.render(line[$0]) }
                .joined(separator: " ")
        }
        let expected = outcome.consumers.sorted { a, b in
            a.value.figures.score != b.value.figures.score
                ? a.value.figures.score > b.value.figures.score : Ref.bytesBefore(a.key, b.key)
        }.map { id, result in
            let f = result.figures
            let eligible = (f.grade.map { $0 <= 2 } ?? false) || f.points > 0
            return "\(id) \(registry[id]!.zone) \(registry[id]!.consumerClass) \(f.score) \(f.grade.map { "\($0)" } ?? "null") "
                + "\(f.points) \(eligible ? 1 : 0)"
        }
        for (i, line) in expected.enumerated() {
            mismatches.check("directory \(outcome.period.name)", "line \(i)", found: i < lines.count ? lines[i] : "missing", expected: line)
        }
        mismatches.check("directory \(outcome.period.name)", "lines", found: "\(lines.count)", expected: "\(expected.count)")
    }

    private func postCertificates(_ client: some TestAPI, _ certificates: [Ref.Certificate]) async throws {
        let body = "[" + certificates.map { c in
            #"{"id":"\#(c.id)","consumer":"\#(c.consumer)","start":\#(c.start),"end":\#(c.end),"wh":\#(c.wh),"#
                + #""technology":"solar","issuer":"CN-GEC"}"#
        }.joined(separator: ",") + "]"
        let answer = try await client.post("/v1/certificates", body, contentType: "application/json")
        try #require(answer.status == 200, "\(answer.text.prefix(2_000))")
        #expect(try answer.json()["accepted"] as? Int == certificates.count)
    }
}

// The scenario's parts, nested so their names stay local to this suite.
extension ScenarioTests {
    /// Disagreements, one line each: where, which figure, what was found, what was expected.
    struct Mismatches {
        var lines: [String] = []

        static let figureNames = [
            "energy_wh", "export_wh", "loc_ug", "mkt_ug", "matched_wh", "estimated_wh", "k_milli", "grade", "p", "q_milli",
            "r", "zone_flat_mg", "s_milli", "t", "g", "score", "bench_ug", "avoided_ug", "points", "flags",
        ]

        static func render(_ value: Any?) -> String {
            switch value {
            case nil: return "missing"
            case is NSNull: return "null"
            case let int as Int: return "\(int)"
            case let list as [Any]: return list.map { "\($0)" }.joined(separator: ",")
            case let number as NSNumber: return number.stringValue
            case let some?: return "\(some)"
            }
        }

        mutating func check(_ label: String, _ figure: String, found: String, expected: String) {
            if found != expected { lines.append("\(label) \(figure): found \(found), expected \(expected)") }
        }

        /// Every figure of `object` (an API answer or a score entry) against the reference's.
        mutating func compare(_ label: String, _ object: [String: Any], _ figures: ReferenceScoring.Figures, provisional: Bool) {
            let fields = figures.fields
            for name in Self.figureNames where name != "flags" {
                let expected = fields[name]!.map { "\($0)" } ?? "null"
                check(label, name, found: Self.render(object[name]), expected: expected)
            }
            let flags = (figures.flags + (provisional ? ["provisional"] : [])).sorted()
            check(label, "flags", found: Self.render(object["flags"]), expected: flags.joined(separator: ","))
        }
    }

    /// Ledger entries over the socket.
    enum Ledger {
        struct Entry {
            var index: Int
            var text: String
            var object: [String: Any]
            var signature: [UInt8]
        }

        static func entries(_ client: some TestAPI, from: Int, to: Int) async throws -> [Entry] {
            var result: [Entry] = []
            var start = from
            while start < to {
                let answer = try await client.get("/v1/ledger/entries?start=\(start)&end=\(to)&limit=10000")
                guard answer.status == 200 else { throw DaemonTestFailure("ledger entries: \(answer.text)") }
                let page = try answer.json()["entries"] as? [[String: Any]] ?? []
                guard !page.isEmpty else { break }
                for item in page {
                    let text = item["entry"] as? String ?? ""
                    let object = try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any] ?? [:]
                    let signature = Base64.decode(item["signature"] as? String ?? "") ?? []
                    result.append(Entry(index: item["index"] as? Int ?? -1, text: text, object: object, signature: signature))
                }
                start = (result.last?.index ?? start) + 1
            }
            return result
        }
    }

    /// SplitMix64: a small seeded generator, so the scenario is the same on every run.
    struct SplitMix64 {
        var state: UInt64

        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }

        mutating func int(_ range: ClosedRange<Int64>) -> Int64 {
            range.lowerBound + Int64(next() % UInt64(range.upperBound - range.lowerBound + 1))
        }
    }

    /// The program, its factor datasets, consumers, readings and certificates.
    struct Scenario {
        typealias Ref = ReferenceScoring

        struct Dataset {
            var name: String
            var csv: String
            var rows: [Ref.FactorRow]
        }

        var program = Ref.Program()
        var config = ""
        var zoneParents: [String: String] = [:]
        var datasets: [Dataset] = []
        var consumers: [Ref.Consumer] = []
        var readings: [Ref.Reading] = []
        var certificates: [Ref.Certificate] = []
        var november: Ref.Period
        var december: Ref.Period
        var january: Ref.Period
        var periods: [Ref.Period] { [november, december, january] }

        /// Local instant in the program time zone.
        func at(_ year: Int, _ month: Int, _ day: Int, _ hour: Int = 0, _ minute: Int = 0) -> Int64 {
            Ref.localTime(program, year, month, day, hour, minute)
        }

        static func make() throws -> Scenario {
            var program = Ref.Program()
            program.weights = (peer: 40, reduction: 30, timing: 20, green: 15)
            program.pointsPerKg = 3
            program.staticBenchmarks = [
                Ref.StaticBenchmark(zone: "CN", consumerClass: "commercial", ugPerDay: 60_000_000),
                Ref.StaticBenchmark(zone: "CN-EAST", consumerClass: "commercial", ugPerDay: 95_000_000),
            ]
            var scenario = Scenario(
                program: program, november: Ref.month(program, 2024, 11), december: Ref.month(program, 2024, 12),
                january: Ref.month(program, 2025, 1))
            scenario.config = """
                close_after = "36500d"
                weights = { peer = 40, reduction = 30, timing = 20, green = 15 }
                points_per_kg = 3
                [[program.static_benchmark]]
                zone = "CN"
                class = "commercial"
                ug_per_day = 60000000
                [[program.static_benchmark]]
                zone = "CN-EAST"
                class = "commercial"
                ug_per_day = 95000000
                """
            let zones = try String(
                contentsOf: DaemonProcess.repositoryRoot.appendingPathComponent("config/factors/cn-zones.csv"), encoding: .utf8)
            for line in zones.split(separator: "\n").dropFirst() {
                let cells = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
                if cells.count >= 2 && !cells[1].isEmpty { scenario.zoneParents[cells[0]] = cells[1] }
            }
            var rng = SplitMix64(state: 0x5CE7_A410_2024_1201)
            scenario.makeFactors(&rng)
            scenario.makeConsumersAndReadings(&rng)
            scenario.makeCertificates(&rng)
            return scenario
        }

        // MARK: Factors

        /// Three datasets:
        /// - `annual`: CN-ZJ has no annual average (its parent CN-EAST's 2023 row serves, 1 and
        ///   2 years back); CN-JS has 2024 and 2025 (the factor changes at the new year); CN's
        ///   residual 2019 is exactly 5 years before 2024 and too old for 2025 (residual
        ///   fallback in Jiangsu in January); CN-EAST's residual 2018 is always too old.
        /// - `zj-hourly`: an hourly average series for CN-ZJ over both months with a gap of six
        ///   hours in each, and hourly residual rows for CN-ZJ on 2025-01-20.
        /// - `east-events`: sub-annual CN-EAST rows off the hour (an average one inside the
        ///   December gap, a residual one that Jiangsu reaches up the tree).
        mutating func makeFactors(_ rng: inout SplitMix64) {
            func annualRow(_ zone: String, _ kind: String, _ year: Int, _ mg: Int64) -> Ref.FactorRow {
                Ref.FactorRow(dataset: "annual", zone: zone, kind: kind, start: Ref.yearStart(program, year),
                              end: Ref.yearStart(program, year + 1), mgPerKWh: mg, year: year)
            }
            let annual = [
                annualRow("CN", "average", 2020, 581_000), annualRow("CN", "average", 2024, 570_000),
                annualRow("CN", "residual", 2019, 610_000), annualRow("CN-EAST", "average", 2023, 560_000),
                annualRow("CN-EAST", "residual", 2018, 650_000), annualRow("CN-ZJ", "residual", 2024, 590_000),
                annualRow("CN-JS", "average", 2024, 540_000), annualRow("CN-JS", "average", 2025, 530_000),
            ]
            datasets.append(Dataset(
                name: "annual",
                csv: "zone,kind,year,mg_per_kwh,source\n"
                    + annual.map { "\($0.zone),\($0.kind),\($0.year!),\($0.mgPerKWh),scenario annual factors" }.joined(separator: "\n"),
                rows: annual))

            // Cleaner at midday (solar) and at night, dirtier in the evening peak.
            let shape: [Int64] = [
                470, 465, 460, 455, 460, 480, 530, 560, 560, 520, 470, 440,
                430, 430, 445, 480, 560, 610, 620, 600, 570, 540, 510, 490,
            ].map { $0 * 1_000 }
            var hourly: [Ref.FactorRow] = []
            let gaps = [at(2024, 12, 15, 6)..<at(2024, 12, 15, 12), at(2025, 1, 15, 6)..<at(2025, 1, 15, 12)]
            var hour = december.start
            while hour < january.end {
                if !gaps.contains(where: { $0.contains(hour) }) {
                    let hourOfDay = Int((hour + program.utcOffset) % 86_400 / 3_600)
                    hourly.append(Ref.FactorRow(dataset: "zj-hourly", zone: "CN-ZJ", kind: "average", start: hour,
                                                end: hour + 3_600, mgPerKWh: shape[hourOfDay] + rng.int(-25_000...25_000), year: nil))
                }
                hour += 3_600
            }
            for h in 0..<24 {
                let start = at(2025, 1, 20, h)
                hourly.append(Ref.FactorRow(dataset: "zj-hourly", zone: "CN-ZJ", kind: "residual", start: start,
                                            end: start + 3_600, mgPerKWh: 600_000 + rng.int(-40_000...40_000), year: nil))
            }
            datasets.append(Dataset(name: "zj-hourly", csv: Self.nativeCSV(hourly), rows: hourly))

            let events = [
                Ref.FactorRow(dataset: "east-events", zone: "CN-EAST", kind: "average", start: at(2024, 12, 15, 9, 30),
                              end: at(2024, 12, 15, 10, 30), mgPerKWh: 611_100, year: nil),
                Ref.FactorRow(dataset: "east-events", zone: "CN-EAST", kind: "residual", start: at(2025, 1, 10, 10, 15),
                              end: at(2025, 1, 10, 11, 45), mgPerKWh: 450_700, year: nil),
            ]
            datasets.append(Dataset(name: "east-events", csv: Self.nativeCSV(events), rows: events))
        }

        static func nativeCSV(_ rows: [Ref.FactorRow]) -> String {
            "zone,kind,start,end,mg_per_kwh,source\n"
                + rows.map { "\($0.zone),\($0.kind),\($0.start),\($0.end),\($0.mgPerKWh),scenario \($0.dataset)" }.joined(separator: "\n")
        }

        // MARK: Consumers and readings

        /// Relative consumption per local hour of day.
        static let profiles: [String: [Int64]] = [
            "evening": [3, 2, 2, 2, 2, 3, 5, 6, 5, 4, 4, 4, 5, 4, 4, 5, 7, 9, 10, 10, 9, 7, 5, 4],
            "night": [12, 12, 12, 10, 8, 6, 4, 4, 3, 3, 3, 3, 3, 3, 3, 3, 4, 5, 6, 6, 6, 5, 6, 10],
            "daytime": [2, 2, 2, 2, 2, 2, 4, 6, 8, 9, 10, 10, 10, 10, 9, 8, 7, 6, 6, 5, 4, 3, 3, 2],
            "office": [1, 1, 1, 1, 1, 1, 2, 5, 9, 10, 10, 10, 9, 10, 10, 10, 9, 6, 3, 2, 1, 1, 1, 1],
            "allday": [5, 5, 5, 5, 5, 5, 6, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 6, 6, 5],
        ]

        struct Meter {
            var id: String
            var offset: Int64
            var duration: Int64
        }

        mutating func makeConsumersAndReadings(_ rng: inout SplitMix64) {
            let groups: [(zone: String, consumerClass: String, prefix: String, count: Int)] = [
                ("CN-ZJ", "residential", "zj-r", 20), ("CN-ZJ", "commercial", "zj-c", 12),
                ("CN-JS", "residential", "js-r", 18), ("CN-JS", "commercial", "js-c", 5),
            ]
            // Special cases, by consumer.
            let decemberOnly: Set = ["js-r-18"]
            let januaryOnly: Set = ["zj-r-20"]
            let zeroIn: [String: String] = ["zj-r-19": december.name, "js-c-05": january.name]
            // January against December, in percent (else drawn from 60 to 170).
            let januaryChange: [String: Int64] = ["zj-r-05": 320, "zj-r-06": 30, "js-r-04": 100, "zj-c-03": 210]
            let novemberReading: Set = ["zj-r-01", "zj-r-02", "zj-r-03", "js-r-01", "js-r-02", "zj-c-01", "js-c-01"]

            for group in groups {
                for n in 1...group.count {
                    let id = String(format: "%@-%02d", group.prefix, n)
                    let residential = group.consumerClass == "residential"
                    let utility = id.hasPrefix("zj-r-0") && n <= 4 ? "zj-coop" : (group.zone == "CN-ZJ" ? "zj-grid" : "js-grid")
                    let normalizer = residential ? rng.int(1...5) : rng.int(60...3_000)
                    consumers.append(Ref.Consumer(id: id, utility: utility, zone: group.zone, consumerClass: group.consumerClass,
                                                  normalizer: normalizer))
                    let index = consumers.count
                    let names = residential ? ["evening", "night", "daytime"] : ["office", "allday"]
                    let profile = Self.profiles[names[Int(rng.int(0...Int64(names.count - 1)))]]!
                    let unitWh: Int64 = residential ? 250 : 6
                    let decemberScale = rng.int(30...250)
                    let scales = [
                        december.name: decemberScale,
                        january.name: decemberScale * (januaryChange[id] ?? rng.int(60...170)) / 100,
                    ]
                    let solar = residential && index % 4 == 0
                    let estimatedPerMille: Int64 = index % 6 == 2 ? 40 : 0
                    let withIds = index % 3 == 0

                    var meters = [Meter(id: "\(id)-m", offset: 0, duration: 3_600)]
                    if id == "js-r-17" { meters.append(Meter(id: "\(id)-ev", offset: 1_800, duration: 3_600)) }
                    if id == "zj-r-18" { meters = [Meter(id: "\(id)-m", offset: 1_800, duration: 3_600)] }
                    if id == "zj-c-12" { meters = [Meter(id: "\(id)-m", offset: 0, duration: 1_800)] }

                    if novemberReading.contains(id) {
                        readings.append(Ref.Reading(
                            utility: utility, meter: meters[0].id, consumer: id, start: november.start,
                            durationS: november.end - november.start, importWh: normalizer * unitWh * 720 * rng.int(40...160) / 100,
                            exportWh: 0, estimated: id == "zj-r-02", id: withIds ? "\(id)-nov" : nil))
                    }
                    for period in [december, january] {
                        if decemberOnly.contains(id) && period == january { continue }
                        if januaryOnly.contains(id) && period == december { continue }
                        for meter in meters {
                            var start = period.start + meter.offset
                            while start < period.end {
                                let hourOfDay = Int((start + program.utcOffset) % 86_400 / 3_600)
                                let dayNumber = (start + program.utcOffset) / 86_400
                                let weekend = (dayNumber + 4) % 7 == 0 || (dayNumber + 4) % 7 == 6
                                var weight = profile[hourOfDay]
                                if !residential && weekend { weight = max(1, weight / 3) }
                                var importWh = normalizer * unitWh * weight * scales[period.name]! * rng.int(60...140)
                                    * meter.duration / (6 * 100 * 100 * 3_600)
                                var exportWh: Int64 = 0
                                if solar && (10...15).contains(hourOfDay) {
                                    exportWh = rng.int(50...900)
                                    importWh /= 4
                                }
                                if meter.id.hasSuffix("-ev") {
                                    // Charges overnight, so its reading across the new year is large.
                                    importWh = hourOfDay < 6 || hourOfDay >= 22 ? rng.int(1_500...7_000) : rng.int(0...3)
                                }
                                if zeroIn[id] == period.name {
                                    importWh = 0
                                    exportWh = 0
                                }
                                readings.append(Ref.Reading(
                                    utility: utility, meter: meter.id, consumer: id, start: start, durationS: meter.duration,
                                    importWh: importWh, exportWh: exportWh, estimated: rng.int(0...999) < estimatedPerMille,
                                    id: withIds ? "\(meter.id)-\(start)" : nil))
                                start += meter.duration
                            }
                        }
                    }
                }
            }
        }

        // MARK: Certificates

        mutating func makeCertificates(_ rng: inout SplitMix64) {
            let byConsumer = Dictionary(grouping: readings, by: \.consumer)
            func energy(_ consumer: String, _ from: Int64, _ to: Int64) -> Int64 {
                (byConsumer[consumer] ?? []).lazy.filter { $0.start >= from && $0.start < to }.map(\.importWh).reduce(0, +)
            }
            var list: [Ref.Certificate] = []
            func add(_ id: String, _ consumer: String, _ start: Int64, _ end: Int64, _ wh: Int64) {
                list.append(Ref.Certificate(id: id, consumer: consumer, start: start, end: end, wh: max(1, wh)))
            }
            // Monthly certificates, some larger than the month's consumption (energy lost).
            for c in ["zj-r-01", "zj-r-02", "zj-r-03", "zj-r-04", "zj-r-05", "zj-r-06", "zj-c-01", "zj-c-02", "zj-c-03",
                      "zj-c-04", "js-r-01", "js-r-02", "js-r-03", "js-r-04", "js-c-01", "js-c-02"] {
                add("gec-dec-\(c)", c, december.start, december.end, energy(c, december.start, december.end) * rng.int(20...130) / 100)
            }
            for c in ["zj-r-01", "zj-r-02", "zj-r-03", "zj-c-02", "js-r-02", "js-c-02", "js-c-03"] {
                add("gec-jan-\(c)", c, january.start, january.end, energy(c, january.start, january.end) * rng.int(20...130) / 100)
            }
            // Spanning the month boundary: December's readings come first.
            for c in ["zj-r-07", "js-r-05", "zj-c-05", "zj-r-20", "js-r-18"] {
                let (from, to) = (at(2024, 12, 20), at(2025, 1, 10))
                add("span-\(c)", c, from, to, energy(c, from, to) * rng.int(50...150) / 100)
            }
            // Hourly certificates on a week of each month; zj-r-01's overlap its monthly one, which comes first.
            for c in ["zj-r-08", "zj-r-09", "js-r-06", "zj-c-12", "zj-r-01"] {
                for (year, month) in [(2024, 12), (2025, 1)] {
                    for day in 10...16 {
                        for hour in 10...15 {
                            let start = at(year, month, day, hour)
                            add("hour-\(c)-\(start)", c, start, start + 3_600, energy(c, start, start + 3_600) * rng.int(0...150) / 100)
                        }
                    }
                }
            }
            // Same start: ordered by id ("a" before "b", whatever the order sent).
            add("tie-zj-c-06-b", "zj-c-06", at(2024, 12, 5), at(2024, 12, 8), energy("zj-c-06", at(2024, 12, 5), at(2024, 12, 6)) * 7 / 10)
            add("tie-zj-c-06-a", "zj-c-06", at(2024, 12, 5), at(2024, 12, 6), energy("zj-c-06", at(2024, 12, 5), at(2024, 12, 6)) * 6 / 10)
            // Across the new year, off the hour: takes readings by their start.
            add("cross-js-r-17", "js-r-17", at(2024, 12, 31, 23, 30), at(2025, 1, 1, 0, 30), 7_000)
            add("cross-zj-r-18", "zj-r-18", at(2024, 12, 31, 23), at(2025, 1, 1, 1), 900)
            // Off the hour: the 10:00 reading is outside, 11:00 to 13:00 inside.
            add("mid-zj-c-07", "zj-c-07", at(2024, 12, 3, 10, 30), at(2024, 12, 3, 13, 30),
                energy("zj-c-07", at(2024, 12, 3, 10), at(2024, 12, 3, 14)) * 2)
            // Nothing to match: all lost.
            add("idle-zj-r-19", "zj-r-19", december.start, december.end, 5_000)
            add("idle-js-c-05", "js-c-05", january.start, january.end, 40_000)
            // A day of the offset meter, where Zhejiang has hourly residual rows.
            add("day-zj-r-18", "zj-r-18", at(2025, 1, 20), at(2025, 1, 21), energy("zj-r-18", at(2025, 1, 20), at(2025, 1, 21)) / 2)
            certificates = list
        }

        // MARK: Ingest

        /// One batch per local day and utility (a `readings` entry is one utility's): every
        /// meter's readings of that day, by start then meter.
        func dailyBatches() -> [[Ref.Reading]] {
            var days: [Int64: [String: [Ref.Reading]]] = [:]
            for reading in readings {
                days[(reading.start + program.utcOffset) / 86_400, default: [:]][reading.utility, default: []].append(reading)
            }
            return days.keys.sorted().flatMap { day in
                days[day]!.keys.sorted().map { utility in
                    days[day]![utility]!.sorted { $0.start != $1.start ? $0.start < $1.start : Ref.bytesBefore($0.meter, $1.meter) }
                }
            }
        }

        static func ndjson(_ r: Ref.Reading) -> String {
            var line = #"{"utility":"\#(r.utility)","meter":"\#(r.meter)","consumer":"\#(r.consumer)","start":\#(r.start),"#
                + #""duration_s":\#(r.durationS),"import_wh":\#(r.importWh)"#
            if r.exportWh > 0 { line += #","export_wh":\#(r.exportWh)"# }
            if r.estimated { line += #","quality":"estimated""# } else if r.id != nil { line += #","quality":"actual""# }
            if let id = r.id { line += #","id":"\#(id)""# }
            return line + "}"
        }

        // MARK: Coverage

        /// The scenario exercises what it claims to (in the reference's figures).
        func expectCoverage(_ outcomes: [Ref.PeriodOutcome]) {
            let december = outcomes[1]
            let january = outcomes[2]
            #expect(consumers.count >= 50)
            #expect(december.benchmarks.map(\.n) == [5, 18, 12, 18], "December peer groups (js-c at exactly min_peers)")
            #expect(january.benchmarks.first { $0.zone == "CN-JS" && $0.consumerClass == "commercial" }?.n == 4)
            let all = outcomes.flatMap { $0.consumers.values.map(\.figures) }
            for flag in ["no_benchmark", "no_baseline", "residual_fallback", "estimated_data"] {
                #expect(all.contains { $0.flags.contains(flag) }, "no score flagged \(flag)")
            }
            #expect(all.contains { $0.flags.isEmpty })
            #expect(Set(all.compactMap(\.grade)) == [1, 2, 3, 4, 5], "every grade")
            #expect(all.contains { $0.t > 500 } && all.contains { $0.t < 500 }, "timing both ways")
            #expect(all.contains { $0.r == 0 } && all.contains { $0.r == 1_000 }, "reduction clamped both ways")
            #expect(all.contains { $0.points > 0 } && all.contains { $0.energyWh == 0 })
            #expect(all.contains { $0.g > 0 && $0.g < 1_000 } && all.contains { $0.g == 1_000 })
            #expect(january.consumers["js-c-05"]?.figures.kMilli == 0, "a static benchmark with no energy")
            #expect(december.consumers["js-r-17"]?.figures.flags.contains("residual_fallback") == true,
                    "the reading across the new year reaches January's missing residual")
        }
    }
}
