import ArgumentParser
import CarbonAPI
import Foundation
import TransparencyLog

struct Certificates: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Green-electricity certificates.", subcommands: [Add.self])

    struct Add: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Register certificates (utility for its own consumers, admin).",
            discussion: """
                A JSON array or NDJSON file of {"id","consumer","start","end","wh","technology","issuer"};
                each certificate becomes one ledger entry, and an id is used once.
                """)

        @OptionGroup var options: ClientOptions

        @Argument(help: "The certificates file (.json or .ndjson).")
        var file: String

        func run() throws {
            guard let contents = FileManager.default.contents(atPath: file) else { throw CommandFailure("cannot read \(file)") }
            let type = (file as NSString).pathExtension.lowercased() == "ndjson" ? "application/x-ndjson" : "application/json"
            let response = try options.connect().post("/v1/certificates", contentType: type, body: Array(contents))
            if options.json { return print(response.text) }
            let answer = try decode(IngestAnswer.self, from: response)
            print("\(answer.accepted) certificates registered, entries \(answer.entries.map(String.init).joined(separator: ", "))")
        }
    }
}

struct Close: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Close a period now (admin): freeze and sign every consumer's score.",
        discussion: "Periods close in order; closing one again changes nothing.")

    @OptionGroup var options: ClientOptions

    @Argument(help: "The period, e.g. 2026-10.")
    var period: String

    func run() throws {
        let response = try options.connect().post("/v1/periods/\(period)/close", contentType: "application/json", body: [])
        if options.json { return print(response.text) }
        let answer = try decode(CloseAnswer.self, from: response)
        print(answer.already_closed
              ? "\(answer.period) was closed already (period entry \(answer.entry), \(answer.consumers) scores)"
              : "\(answer.period) closed: period entry \(answer.entry), \(answer.consumers) score entries after it"
                + (answer.restates.map { " (restating period entry \($0))" } ?? ""))
    }
}

struct Restate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Open a closed period again for corrections (admin).",
        discussion: """
            Its signed figures stay current until `carbonctl close PERIOD` closes it again,
            which signs a new period entry and new score entries naming those they restate.
            Later closed periods keep the figures they were signed with; restate them too,
            in order, to carry the new figures forward.
            """)

    @OptionGroup var options: ClientOptions

    @Argument(help: "The period, e.g. 2026-10.")
    var period: String

    @Option(name: .long, help: "Why, in your words (1 to 200 characters).")
    var reason: String

    func run() throws {
        let body = try JSONEncoder().encode(["reason": reason])
        let response = try options.connect().post(
            "/v1/periods/\(percentEncoded(period))/restate", contentType: "application/json", body: Array(body))
        if options.json { return print(response.text) }
        let answer = try decode(RestateAnswer.self, from: response)
        print("\(answer.period) is open for corrections: restatement entry \(answer.entry) (restates period entry \(answer.restates))")
        if !answer.later_periods.isEmpty {
            print("later closed periods keep their signed figures: \(answer.later_periods.joined(separator: ", "))"
                + (answer.baseline_of.isEmpty ? "" : " (baseline of: \(answer.baseline_of.joined(separator: ", ")))"))
        }
    }
}

struct Score: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "A consumer's figures and score for a period.")

    @OptionGroup var options: ClientOptions

    @Argument(help: "The consumer id.")
    var consumer: String

    @Option(name: .long, help: "The period, e.g. 2026-10.")
    var period: String

    @Flag(name: .long, help: "Also say what drove each part of the score, and which change would have raised it most.")
    var explain = false

    @Option(
        name: .long,
        help: "The explanation's language: zh-CN (Simplified Chinese) or en (default: from LC_ALL, LC_MESSAGES or LANG).")
    var lang: String?

    func run() throws {
        let language = requestedLanguage(lang).map { [("Accept-Language", $0)] } ?? []
        let response = try options.connect().get(
            "/v1/consumers/\(percentEncoded(consumer))/score?period=\(period)", headers: language)
        if options.json { return print(response.text) }
        let answer = try decode(ScoreAnswer.self, from: response)
        let f = answer.figures
        func optional(_ x: Int64?) -> String { x.map(String.init) ?? "-" }
        printTable([
            ("consumer", answer.consumer), ("period", "\(answer.period)\(answer.provisional ? " (provisional)" : "")"),
            ("score", "\(f.score) / 1000"),
            ("grade", f.grade.map { "\($0) \(f.label ?? "")" } ?? "none (no benchmark)"),
            ("points", "\(f.points)"),
            ("energy", "\(f.energy_wh) Wh (\(answer.kwh) kWh), export \(f.export_wh) Wh"),
            ("location-based", "\(f.loc_ug) ug CO2e (\(answer.loc_kg) kg)"),
            ("market-based", "\(f.mkt_ug) ug CO2e (\(answer.mkt_kg) kg), \(f.matched_wh) Wh matched"),
            ("P R T G", "\(f.p) \(f.r) \(f.t) \(f.g)"),
            ("k_milli q_milli s_milli", "\(optional(f.k_milli)) \(optional(f.q_milli)) \(optional(f.s_milli))"),
            ("flags", f.flags.isEmpty ? "-" : f.flags.joined(separator: ", ")),
            ("ledger entry", answer.entry.map { "\($0.index) (proof in a tree of \($0.proof.size))" } ?? "- (not closed)"),
        ])
        if explain, let explanation = answer.explanation { print(""); printExplanation(explanation) }
    }

    /// The summary; each part as its letter, value and weight, and its sentence; the
    /// best change after `>`; each note after `*`.
    private func printExplanation(_ e: ExplanationAnswer) {
        print(e.summary)
        let letters = ["peer": "P", "reduction": "R", "timing": "T", "green": "G"]
        let figures = e.components.map { "\($0.value) x \($0.weight)" }
        let width = figures.map(\.count).max() ?? 0
        for (component, figure) in zip(e.components, figures) {
            let letter = letters[component.component] ?? component.component
            print("  \(letter)  \(figure.padding(toLength: width, withPad: " ", startingAt: 0))  \(component.sentence)")
        }
        if let best = e.best_change { print("> \(best.sentence)") }
        for note in e.notes { print("* \(note.sentence)") }
    }
}

struct Directory: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "The incentive directory of a period: best scores first.")

    @OptionGroup var options: ClientOptions

    @Option(name: .long, help: "The period, e.g. 2026-10.")
    var period: String

    @Option(name: .long, help: "Only this zone and its sub-zones.")
    var zone: String?

    @Option(name: .customLong("class"), help: "Only this class (residential, commercial, industrial, public).")
    var consumerClass: String?

    @Option(name: .long, help: "Lines per request.")
    var limit = 1_000

    func run() throws {
        let daemon = try options.connect()
        var query = "period=\(period)&limit=\(limit)"
        if let zone { query += "&zone=\(percentEncoded(zone))" }
        if let consumerClass { query += "&class=\(percentEncoded(consumerClass))" }
        var lines: [DirectoryLine] = []
        var cursor: String? = nil
        var provisional = false
        repeat {
            let page = try daemon.get(
                "/v1/incentives?\(query)\(cursor.map { "&cursor=\(percentEncoded($0))" } ?? "")", as: DirectoryAnswer.self)
            lines += page.consumers
            provisional = page.provisional
            cursor = page.cursor
        } while cursor != nil
        if options.json {
            let all = DirectoryAnswer(period: period, provisional: provisional, consumers: lines, cursor: nil)
            return print(String(decoding: try JSONEncoder().encode(all), as: UTF8.self))
        }
        print("incentive directory \(period)\(provisional ? " (provisional)" : ""): \(lines.count) consumers")
        printColumns(
            ["consumer", "zone", "class", "score", "grade", "points", "eligible"],
            lines.map {
                [$0.consumer, $0.zone, $0.class, "\($0.score)", $0.grade.map(String.init) ?? "-", "\($0.points)",
                 $0.eligible ? "yes" : "no"]
            })
    }
}

struct Inventory: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "A zone's consumption-side emission inventory, period by period.",
        discussion: """
            With --shard (repeated, each with a --shard-key in the same order), the inventory
            of a zone served by several daemons, one per part of it (docs/scaling.md): each
            shard's checkpoint is verified with its key, its inventory of the zone fetched, and
            the figures added up exactly. A period a shard withholds is withheld in the sum.
            """)

    @OptionGroup var options: ClientOptions

    @Option(name: .long, help: "The socket of one shard's daemon; repeat for every shard.")
    var shard: [String] = []

    @Option(name: .long, help: "The verifier key of each --shard's ledger, in the same order.")
    var shardKey: [String] = []

    @Argument(help: "The zone, e.g. CN-ZJ (its sub-zones included).")
    var zone: String

    @Option(name: .long, help: "The first period, e.g. 2026-01.")
    var from: String

    @Option(name: .long, help: "The last period (default: --from).")
    var to: String?

    func validate() throws {
        guard shard.count == shardKey.count else { throw ValidationError("give one --shard-key for each --shard") }
    }

    func run() throws {
        let path = "/v1/zones/\(percentEncoded(zone))/inventory?from=\(from)&to=\(to ?? from)"
        let answer: InventoryAnswer
        if shard.isEmpty {
            let response = try options.connect().get(path)
            if options.json { return print(response.text) }
            answer = try decode(InventoryAnswer.self, from: response)
        } else {
            answer = try merged(path)
            if options.json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.sortedKeys]
                return print(String(decoding: try encoder.encode(answer), as: UTF8.self))
            }
        }
        print("inventory of \(answer.zone)" + (shard.isEmpty ? "" : " from \(shard.count) shards"))
        printColumns(
            ["period", "energy kWh", "location t", "market t", "consumers", "mg/kWh", "grades 1/2/3/4/5/none"],
            answer.periods.map { p in
                let grades = p.grades.map { grades in
                    ["1", "2", "3", "4", "5", "none"].map { String(grades[$0] ?? 0) }.joined(separator: "/")
                }
                return [
                    p.period + (p.provisional ? "*" : ""), p.energy_wh.map { String($0 / 1_000) } ?? "-",
                    tonnes(p.loc_g), tonnes(p.mkt_g), "\(p.consumers)" + (p.suppressed ? " (few)" : ""),
                    p.intensity_mg_per_kwh.map(String.init) ?? "-", grades ?? "-",
                ]
            })
        if answer.periods.contains(where: \.provisional) { print("* provisional: the period is not closed") }
        if answer.periods.contains(where: \.suppressed) {
            print("(few): fewer consumers than program.min_peers, or a difference of fewer to a sub-zone: figures withheld")
        }
    }

    /// Every shard's inventory at `path`, each after its checkpoint verified with its key, added up.
    private func merged(_ path: String) throws -> InventoryAnswer {
        let answers = try zip(shard, shardKey).map { socket, key in
            let verifier: NoteVerifier
            do { verifier = try NoteVerifier(key) } catch { throw CommandFailure("--shard-key \(key): \(error)") }
            let daemon = try Daemon.connect(socket)
            let checkpoint = try openCheckpoint(try daemon.get("/v1/ledger/checkpoint").text, verifier: verifier)
            FileHandle.standardError.write(Data("shard \(checkpoint.origin): checkpoint of size \(checkpoint.size) verified\n".utf8))
            return try decode(InventoryAnswer.self, from: try daemon.get(path))
        }
        do { return try InventoryMerge.merge(answers) } catch { throw CommandFailure("\(error)", exitCode: 3) }
    }

    private func tonnes(_ grams: Int64?) -> String {
        grams.map { String(format: "%.3f", Double($0) / 1_000_000) } ?? "-"
    }
}

/// A path or query component with everything but letters and digits escaped.
func percentEncoded(_ text: String) -> String {
    text.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? text
}

/// Prints rows under a header as aligned columns.
func printColumns(_ header: [String], _ rows: [[String]]) {
    var widths = header.map(\.count)
    for row in rows {
        for (k, cell) in row.enumerated() where k < widths.count { widths[k] = max(widths[k], cell.count) }
    }
    for row in [header] + rows {
        print(row.enumerated().map { k, cell in cell.padding(toLength: widths[k], withPad: " ", startingAt: 0) }
            .joined(separator: "  "))
    }
}
