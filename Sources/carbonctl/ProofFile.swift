import ArgumentParser
import CarbonModel
import Foundation
import TransparencyLog

/// A C2SP `tlog-proof` file (ledger.md section 5): the entry's index, its inclusion
/// path, and the signed checkpoint the path leads to. The `extra` line carries the
/// proven data as base64 canonical JSON, so the file verifies on its own:
/// `{"entry": <the entry as a string>}`, and for a reading also `"reading"`,
/// `"position"`, `"batch_size"` and `"batch_path"` (its path to the entry's `root`).
struct TlogProof {
    static let header = "c2sp.org/tlog-proof@v1"

    var index: UInt64
    var hashes: [Hash256]
    var checkpoint: String
    var extra: JSONValue

    var text: String {
        var lines = [Self.header, "extra " + Base64.encode(extra.canonicalBytes()), "index \(index)"]
        lines += hashes.map(\.base64)
        return lines.joined(separator: "\n") + "\n\n" + checkpoint
    }

    init(index: UInt64, hashes: [Hash256], checkpoint: String, extra: JSONValue) {
        self.index = index
        self.hashes = hashes
        self.checkpoint = checkpoint
        self.extra = extra
    }

    init(parsing text: String) throws {
        guard let split = text.range(of: "\n\n") else { throw CommandFailure("not a tlog-proof: no empty line", exitCode: 3) }
        var lines = text[..<split.lowerBound].split(separator: "\n", omittingEmptySubsequences: false)[...]
        checkpoint = String(text[split.upperBound...])
        guard lines.popFirst() == Substring(Self.header) else {
            throw CommandFailure("not a tlog-proof: the first line must be \(Self.header)", exitCode: 3)
        }
        var extra: JSONValue? = nil
        if let line = lines.first, line.hasPrefix("extra ") {
            lines.removeFirst()
            guard let bytes = Base64.decode(String(line.dropFirst(6))), let value = try? JSONValue.parse(bytes) else {
                throw CommandFailure("the proof's extra line is not base64 JSON", exitCode: 3)
            }
            extra = value
        }
        guard let line = lines.popFirst(), line.hasPrefix("index "), let index = UInt64(line.dropFirst(6)) else {
            throw CommandFailure("the proof has no index line", exitCode: 3)
        }
        self.index = index
        hashes = try lines.map { line in
            guard let hash = Hash256(base64: String(line)) else { throw CommandFailure("malformed proof hash \(line)", exitCode: 3) }
            return hash
        }
        guard let extra else { throw CommandFailure("the proof carries no entry (extra line)", exitCode: 3) }
        self.extra = extra
    }
}

struct VerifyProof: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify-proof",
        abstract: "Check a tlog-proof file offline: the checkpoint, the entry's inclusion, and a reading's path to its entry.",
        discussion: """
            Offline, the file's checkpoint is compared with the one verified last (see --state)
            only where no daemon is needed: at the same size its root must be the saved one (else
            FORK, exit 4); the first checkpoint seen for a ledger is saved. A checkpoint of another
            size is neither compared nor saved: run `carbonctl checkpoint` or `proof` online to
            have the daemon prove that one tree contains the other.
            """)

    @OptionGroup var keyOption: KeyOption
    @OptionGroup var state: StateOption
    @OptionGroup var witnessOptions: WitnessOptions

    @Argument(help: "The .tlog-proof file written by `carbonctl proof --out`.")
    var file: String

    /// A proof file is a few kilobytes; a larger one is not worth reading.
    static let maximumBytes = 1 << 20

    func run() throws {
        let policy = try witnessOptions.load()
        let verifier = try keyOption.requiredVerifier(policy: policy)
        let data = try BundleFile.read(URL(fileURLWithPath: file), limit: Self.maximumBytes, what: "a tlog-proof file")
        let proof = try TlogProof(parsing: String(decoding: data, as: UTF8.self))
        let checkpoint = try openCheckpoint(proof.checkpoint, verifier: verifier)
        let cosigners = try witnessed(proof.checkpoint, checkpoint, policy: policy)
        guard let entry = proof.extra["entry"]?.stringValue else { throw CommandFailure("the proof carries no entry", exitCode: 3) }
        try checkInclusion(
            leaf: RFC6962.leafHash(Array(entry.utf8)), index: proof.index, size: checkpoint.size,
            hashes: proof.hashes.map(\.base64), root: checkpoint.rootHash, what: "entry \(proof.index)")
        var verified = "entry \(proof.index) is in the checkpoint of size \(checkpoint.size)\(cosigners): verified"
        var proven = entry
        if let reading = proof.extra["reading"]?.stringValue {
            guard let position = proof.extra["position"]?.intValue, let size = proof.extra["batch_size"]?.intValue,
                let path = proof.extra["batch_path"]?.arrayValue?.compactMap(\.stringValue)
            else { throw CommandFailure("the reading part of the proof is incomplete", exitCode: 3) }
            try BatchInclusion(reading: reading, position: position, batchSize: size, path: path, entry: entry).verify()
            verified = "reading \(position) of \(size) in entry \(proof.index), in the checkpoint of size \(checkpoint.size)\(cosigners): verified"
            proven = reading
        }
        let comparison = try state.compareOffline(checkpoint, note: proof.checkpoint, verifiers: [verifier])
        print(verified)
        print(proven)
        if case .notComparable(let saved) = comparison {
            FileHandle.standardError.write(Data((
                "note: the checkpoint (size \(checkpoint.size)) was not compared with the one verified last "
                    + "(size \(saved)): offline, only a checkpoint of the same size can be; it was not saved\n").utf8))
        }
    }
}
