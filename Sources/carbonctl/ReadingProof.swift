import CarbonModel
import Foundation
import TransparencyLog

/// The reading `--reading UTILITY/METER/START` names. A daemon that answers with a
/// proof of another reading proves nothing about this one, so its leaf is compared.
struct ReadingKey {
    var utility: String
    var meter: String
    /// START as given (Unix seconds or RFC 3339), for the request and messages.
    var startText: String
    /// START in Unix seconds, as the reading leaf carries it.
    var start: Int64

    init(parsing text: String) throws {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 3, parts.allSatisfy({ !$0.isEmpty }) else {
            throw CommandFailure("--reading must be UTILITY/METER/START, got \"\(text)\"")
        }
        guard let start = Timestamp.parse(parts[2]) else {
            throw CommandFailure("--reading: START must be Unix seconds or RFC 3339 with an offset, got \"\(parts[2])\"")
        }
        utility = String(parts[0])
        meter = String(parts[1])
        startText = String(parts[2])
        self.start = start
    }

    var description: String { "\(utility)/\(meter)/\(startText)" }

    /// The request path of this reading's proof.
    var proofPath: String {
        let path = [utility, meter, startText].map { $0.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed) ?? $0 }
        return "/v1/readings/\(path[0])/\(path[1])/\(path[2])/proof"
    }

    /// Fails unless `leaf` is the canonical leaf of this reading (utility, meter and start).
    func check(leaf: String) throws {
        guard let fields = (try? JSONValue.parse(Array(leaf.utf8)))?.objectValue else {
            throw CommandFailure("the daemon's reading leaf is not a JSON object: \(leaf.prefix(300))", exitCode: 3)
        }
        let found = (
            utility: fields["utility"]?.stringValue, meter: fields["meter"]?.stringValue, start: fields["start"]?.intValue)
        guard found.utility == utility, found.meter == meter, found.start == start else {
            throw CommandFailure(
                "WRONG READING: asked for \(description) (utility \"\(utility)\", meter \"\(meter)\", start \(start)), "
                    + "the daemon proved utility \(Self.show(found.utility)), meter \(Self.show(found.meter)), "
                    + "start \(found.start.map(String.init) ?? "none"): \(leaf.prefix(300))", exitCode: 3)
        }
    }

    private static func show(_ text: String?) -> String { text.map { "\"\($0)\"" } ?? "none" }
}

/// The inner half of a reading proof (ledger.md section 5): the reading's leaf at
/// `position` of a batch of `batchSize`, and its RFC 6962 path to the `root` of the
/// batch's `readings` entry. The batch size is checked against the entry's `count`:
/// the proof is only as good as the tree size it is checked in.
struct BatchInclusion {
    var reading: String
    var position: Int64
    var batchSize: Int64
    var path: [String]
    /// The `readings` entry, as proven in the checkpoint.
    var entry: String

    /// Checks the entry's kind and count, then the reading's inclusion in the entry's root.
    func verify() throws {
        guard let fields = (try? JSONValue.parse(Array(entry.utf8)))?.objectValue else {
            throw CommandFailure("the proven entry is not a JSON object: \(entry.prefix(300))", exitCode: 3)
        }
        // A corrected reading's version in force is a leaf of a `corrections` entry.
        guard let kind = fields["kind"]?.stringValue, kind == "readings" || kind == "corrections" else {
            throw CommandFailure(
                "the proven entry is a \(fields["kind"]?.stringValue ?? "?") entry, not a readings or corrections entry: "
                    + "\(entry.prefix(300))",
                exitCode: 3)
        }
        guard let rootText = fields["root"]?.stringValue, let root = Hash256(base64: rootText) else {
            throw CommandFailure("the readings entry has no root: \(entry.prefix(300))", exitCode: 3)
        }
        guard let count = fields["count"]?.intValue, count == batchSize else {
            throw CommandFailure(
                "WRONG BATCH SIZE: the proof puts the reading in a batch of \(batchSize), "
                    + "the readings entry counts \(fields["count"]?.intValue.map(String.init) ?? "nothing"): \(entry.prefix(300))",
                exitCode: 3)
        }
        guard batchSize > 0, (0..<batchSize).contains(position) else {
            throw CommandFailure("the reading's position \(position) is outside its batch of \(batchSize)", exitCode: 3)
        }
        // Both are within 0..<Int64.max here, so the conversions are exact.
        try checkInclusion(
            leaf: RFC6962.leafHash(Array(reading.utf8)), index: UInt64(position), size: UInt64(batchSize), hashes: path,
            root: root, what: "the reading (position \(position) of \(batchSize))")
    }
}
