import ArgumentParser
import CarbonAPI
import Foundation

struct Factors: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Emission factor datasets.",
        subcommands: [Load.self, Show.self])

    struct Load: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Load a factor dataset (admin).",
            discussion: """
                CSV (native or the annual layout of the bundled files, or an Electricity Maps
                hourly export with --zone naming the carbonledger zone it describes) or NDJSON.
                The dataset is named after the file unless --dataset says otherwise.
                """)

        @OptionGroup var options: ClientOptions

        @Argument(help: "The dataset file (.csv or .ndjson).")
        var file: String

        @Option(name: .long, help: "The dataset's name (default: the file name without extension).")
        var dataset: String?

        @Option(name: .long, help: "For an Electricity Maps export: the carbonledger zone, e.g. CN-ZJ.")
        var zone: String?

        func run() throws {
            guard let contents = FileManager.default.contents(atPath: file) else { throw CommandFailure("cannot read \(file)") }
            let name = dataset ?? ((file as NSString).lastPathComponent as NSString).deletingPathExtension
            let type = (file as NSString).pathExtension.lowercased() == "ndjson" ? "application/x-ndjson" : "text/csv"
            var path = "/v1/factors?dataset=\(name.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? name)"
            if let zone { path += "&zone=\(zone.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? zone)" }
            let response = try options.connect().post(path, contentType: type, body: Array(contents))
            if options.json { return print(response.text) }
            let answer = try decode(IngestAnswer.self, from: response)
            print("dataset \(name): \(answer.accepted) rows, entry \(answer.entry.map(String.init) ?? "-")")
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Which factor applies in a zone at an instant, and why.")

        @OptionGroup var options: ClientOptions

        @Option(name: .long, help: "The zone, e.g. CN-ZJ.")
        var zone: String

        @Option(name: .long, help: "The instant: Unix seconds or RFC 3339 with an offset.")
        var at: String

        @Option(name: .long, help: "average (location-based) or residual (market-based).")
        var kind = "average"

        func run() throws {
            let query = "zone=\(zone)&at=\(at.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? at)&kind=\(kind)"
            let response = try options.connect().get("/v1/factors?\(query)")
            if options.json { return print(response.text) }
            let factor = try decode(FactorAnswer.self, from: response)
            printTable([
                ("factor", "\(factor.mg_per_kwh) mg/kWh (\(factor.kind))"), ("dataset", factor.dataset),
                ("row", "\(factor.row.zone) \(factor.row.start) .. \(factor.row.end)"), ("source", factor.row.source),
                ("tried", factor.path.map { "\($0.zone)\($0.year.map { " \($0)" } ?? " hourly")" }.joined(separator: ", ")),
            ])
        }
    }
}
