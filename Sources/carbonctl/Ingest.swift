import ArgumentParser
import CarbonAPI
import Foundation
import CarbonClient
import TransparencyLog

#if canImport(Glibc)
import Glibc
#endif

struct Ingest: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Push a file of readings (JSON array, NDJSON, CSV or a Green Button feed).",
        discussion: """
            The format follows the file's extension (.json, .ndjson/.jsonl, .csv, .xml for a
            Green Button feed) unless --format says otherwise. NDJSON and CSV files are sent
            in batches of --batch-size records; each batch's id is derived from its content,
            so running the same command again after an interruption stores nothing twice.

            A Green Button (NAESB ESPI) feed names no consumer or meter: give them with
            --consumer and --meter (and --utility as an administrator). It is sent whole.

            With --correct each record replaces the stored reading of its meter and start
            (a meter-data revision): JSON, NDJSON and CSV records carry a `reason` field;
            a Green Button feed takes --reason for all of its readings.
            """)

    @OptionGroup var options: ClientOptions

    @Argument(help: "The file to send.")
    var file: String

    @Option(name: .long, help: "json, ndjson or csv (default: from the file's extension).")
    var format: BodyFormatOption?

    @Option(name: .long, help: "Records per request for NDJSON and CSV files.")
    var batchSize = 10_000

    @Flag(name: .long, help: "Store the good records of a batch and list the bad ones, instead of refusing the batch.")
    var partial = false

    @Flag(name: .long, help: "Correct stored readings instead of adding new ones.")
    var correct = false

    @Option(name: .long, help: "Why the readings of a Green Button feed are corrected (with --correct).")
    var reason: String?

    @Option(name: .long, help: "The consumer a Green Button feed's meter belongs to.")
    var consumer: String?

    @Option(name: .long, help: "The meter whose intervals a Green Button feed holds.")
    var meter: String?

    @Option(name: .long, help: "The utility of a Green Button feed (an administrator names it; a utility's own by default).")
    var utility: String?

    func validate() throws {
        let feed = (format ?? BodyFormatOption(fileName: file)) == .xml
        if feed && (consumer == nil || meter == nil) {
            throw ValidationError("a Green Button feed names no consumer or meter: pass --consumer and --meter")
        }
        if !feed && (consumer != nil || meter != nil || utility != nil) {
            throw ValidationError("--consumer, --meter and --utility name the meter of a Green Button feed (.xml) only")
        }
        if reason != nil && !(feed && correct) {
            throw ValidationError("--reason goes with --correct and a Green Button feed; other formats carry a reason per record")
        }
        if feed && correct && reason == nil {
            throw ValidationError("corrections from a Green Button feed need --reason (e.g. estimated_to_actual)")
        }
    }

    func run() throws {
        var query: [(String, String)] = []
        if correct { query.append(("correct", "true")) }
        for (name, value) in [("utility", utility), ("consumer", consumer), ("meter", meter), ("reason", reason)] {
            if let value { query.append((name, value)) }
        }
        try send(file: file, path: "/v1/readings", query: query, noun: correct ? "corrections" : "readings",
                 format: format, batchSize: batchSize, partial: partial, options: options)
    }
}

struct Consumers: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Register consumers.",
        subcommands: [Add.self])

    struct Add: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Register or update consumers from a file (JSON array, NDJSON or CSV).")

        @OptionGroup var options: ClientOptions

        @Argument(help: "The file to send.")
        var file: String

        @Option(name: .long, help: "json, ndjson or csv (default: from the file's extension).")
        var format: BodyFormatOption?

        @Flag(name: .long, help: "Store the good records and list the bad ones, instead of refusing the file.")
        var partial = false

        func run() throws {
            try send(file: file, path: "/v1/consumers", query: [], noun: "consumers", format: format, batchSize: 100_000,
                     partial: partial, options: options)
        }
    }
}

enum BodyFormatOption: String, ExpressibleByArgument, CaseIterable {
    /// `xml`: a Green Button (NAESB ESPI) feed, readings only.
    case json, ndjson, csv, xml

    var contentType: String {
        switch self {
        case .json: "application/json"
        case .ndjson: "application/x-ndjson"
        case .csv: "text/csv"
        case .xml: "application/atom+xml"
        }
    }

    init?(fileName: String) {
        switch (fileName as NSString).pathExtension.lowercased() {
        case "json": self = .json
        case "ndjson", "jsonl": self = .ndjson
        case "csv": self = .csv
        case "xml": self = .xml
        default: return nil
        }
    }
}

/// Sends a file in batches and prints what the daemon made of each.
private func send(
    file: String, path: String, query extra: [(String, String)], noun: String, format: BodyFormatOption?, batchSize: Int,
    partial: Bool, options: ClientOptions
) throws {
    guard let format = format ?? BodyFormatOption(fileName: file) else {
        throw CommandFailure("cannot tell the format of \(file) from its extension; pass --format json, ndjson, csv or xml")
    }
    guard let contents = FileManager.default.contents(atPath: file) else { throw CommandFailure("cannot read \(file)") }
    let batches = Batches.split(Array(contents), format: format, size: batchSize)
    let daemon = try options.connect()
    let progress = Progress(total: batches.reduce(0) { $0 + $1.records }, noun: noun)
    var accepted = 0
    var duplicates = 0
    var lastCheckpoint = ""
    for (number, batch) in batches.enumerated() {
        let id = "sha256:" + SHA256.hash(batch.body).hex.prefix(32)
        let query = "?batch=\(id)" + (partial ? "&partial=true" : "")
            + extra.map { "&\($0.0)=\(percentEncoded($0.1))" }.joined()
        let raw: HTTPResponse
        do {
            raw = try daemon.post(path + query, contentType: format.contentType, body: batch.body)
        } catch let failure as CommandFailure {
            progress.finish()
            throw CommandFailure(
                batches.count > 1 ? "batch \(number + 1) of \(batches.count) (records from \(batch.firstRecord)): \(failure)" : "\(failure)")
        }
        let response = try decode(IngestAnswer.self, from: raw)
        if options.json { print(raw.text) }
        accepted += response.accepted
        duplicates += response.duplicates
        lastCheckpoint = response.checkpoint ?? lastCheckpoint
        let records = response.errors.map { error in
            "record \(batch.firstRecord + error.index) \(error.field): \(error.message)"
        }
        let onTerminal = !options.json && isatty(STDERR_FILENO) == 1
        for line in ErrorListing.lines(records, limit: onTerminal ? ErrorListing.terminalLimit : nil) {
            FileHandle.standardError.write(Data("\(line)\n".utf8))
        }
        progress.advance(by: batch.records)
    }
    progress.finish()
    if !options.json {
        print("\(accepted) \(noun) accepted, \(duplicates) duplicates")
        if !lastCheckpoint.isEmpty { print("checkpoint:\n\(lastCheckpoint)", terminator: "") }
    }
}

/// A file cut into request bodies of at most `size` records, each with the header (CSV).
enum Batches {
    struct Batch {
        var body: [UInt8]
        /// 0-based index in the file of the batch's first record.
        var firstRecord: Int
        var records: Int
    }

    static func split(_ bytes: [UInt8], format: BodyFormatOption, size: Int) -> [Batch] {
        // A JSON array and a Green Button feed are sent whole.
        guard format != .json && format != .xml else { return [Batch(body: bytes, firstRecord: 0, records: 0)] }
        var lines = bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: true)
            .filter { !$0.allSatisfy { $0 == UInt8(ascii: "\r") || $0 == UInt8(ascii: " ") } }
        var header: [UInt8] = []
        if format == .csv, !lines.isEmpty { header = Array(lines.removeFirst()) + [UInt8(ascii: "\n")] }
        // A quoted CSV field may hold a newline: then send the file whole rather than cut a record.
        if format == .csv, bytes.contains(UInt8(ascii: "\"")) {
            return [Batch(body: bytes, firstRecord: 0, records: lines.count)]
        }
        var batches: [Batch] = []
        var start = 0
        while start < lines.count {
            let end = min(start + size, lines.count)
            var body = header
            for line in lines[start..<end] {
                body += line
                body.append(UInt8(ascii: "\n"))
            }
            batches.append(Batch(body: body, firstRecord: start, records: end - start))
            start = end
        }
        return batches.isEmpty ? [Batch(body: bytes, firstRecord: 0, records: 0)] : batches
    }
}

/// A one-line progress bar on a terminal; silent otherwise.
final class Progress {
    private let total: Int
    private let noun: String
    private var done = 0
    private let enabled = isatty(STDERR_FILENO) == 1

    init(total: Int, noun: String) {
        self.total = total
        self.noun = noun
    }

    func advance(by count: Int) {
        done = min(done + count, total)
        guard enabled, total > 0 else { return }
        let width = 30
        // Double: `width * done` may overflow Int for a total near Int.max.
        let filled = Int(Double(width) * Double(done) / Double(total))
        let bar = String(repeating: "=", count: filled) + String(repeating: " ", count: width - filled)
        FileHandle.standardError.write(Data("\r[\(bar)] \(Int(100 * Double(done) / Double(total)))% \(done)/\(total) \(noun)".utf8))
    }

    func finish() {
        if enabled && done > 0 { FileHandle.standardError.write(Data("\n".utf8)) }
    }
}
