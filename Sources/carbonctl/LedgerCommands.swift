import ArgumentParser
import CarbonAPI
import CarbonLedger
import CarbonModel
import Foundation
import TransparencyLog

/// A verifier key given on the command line.
struct KeyOption: ParsableArguments {
    @Option(name: .long, help: "The ledger's verifier key (name+hexid+base64), as published by its operator.")
    var key: String?

    func verifier() throws -> NoteVerifier? {
        guard let key else { return nil }
        do { return try NoteVerifier(key) } catch { throw CommandFailure("--key: \(error)") }
    }

    func requiredVerifier(policy: WitnessPolicy? = nil) throws -> NoteVerifier {
        if let verifier = try verifier() { return verifier }
        // A policy that names exactly one log names the ledger's key.
        if let logs = policy?.logs, logs.count == 1 { return logs[0].verifier }
        throw CommandFailure("--key is required: pass the ledger's verifier key")
    }
}

/// Where the daemon serves the checkpoint a command checks: the cosigned one when a
/// witness policy is given.
func checkpointPath(_ policy: WitnessPolicy?) -> String {
    policy == nil ? "/v1/ledger/checkpoint" : "/v1/ledger/checkpoint/cosigned"
}

/// Checks `note` against `policy` (nothing when nil) and says which witnesses cosigned it.
func witnessed(_ note: String, _ checkpoint: Checkpoint, policy: WitnessPolicy?) throws -> String {
    guard let policy else { return "" }
    return ", cosigned by " + (try policy.check(note, checkpoint: checkpoint)).joined(separator: ", ")
}

/// Opens a signed checkpoint with the verifier, or fails naming why.
func openCheckpoint(_ note: String, verifier: NoteVerifier) throws -> Checkpoint {
    do {
        return try SignedCheckpoint.open(note, verifiers: [verifier]).checkpoint
    } catch {
        throw CommandFailure("the checkpoint does not verify with \(verifier.vkey): \(error)\n\(note)", exitCode: 3)
    }
}

struct CheckpointCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "checkpoint",
        abstract: "Print the latest signed checkpoint, verified when --key is given.")

    @OptionGroup var options: ClientOptions
    @OptionGroup var keyOption: KeyOption
    @OptionGroup var state: StateOption
    @OptionGroup var witnessOptions: WitnessOptions

    func run() throws {
        let policy = try witnessOptions.load()
        let daemon = try options.connect()
        let note = try daemon.get(checkpointPath(policy)).text
        guard policy != nil || keyOption.key != nil else { return print(note, terminator: "") }
        let verifier = try keyOption.requiredVerifier(policy: policy)
        let checkpoint = try openCheckpoint(note, verifier: verifier)
        let cosigners = try policy?.check(note, checkpoint: checkpoint)
        try state.advance(to: checkpoint, note: note, verifiers: [verifier]) { try daemon.consistencyFailure(of: checkpoint, from: $0) }
        if options.json {
            var answer: [String: JSONValue] = [
                "origin": .string(checkpoint.origin), "size": .int(Int64(checkpoint.size)),
                "root": .string(checkpoint.rootHash.base64), "verified": .bool(true),
            ]
            if let cosigners { answer["cosigned_by"] = .array(cosigners.map(JSONValue.string)) }
            print(String(decoding: JSONValue.object(answer).canonicalBytes(), as: UTF8.self))
        } else {
            print(note, terminator: "")
            print("verified: size \(checkpoint.size), signed by \(verifier.name)"
                  + (cosigners.map { ", cosigned by " + $0.joined(separator: ", ") } ?? ""))
        }
    }
}

struct Proof: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Fetch and check an inclusion proof of an entry or of one reading.",
        discussion: """
            --index N proves entry N in the latest checkpoint. --reading UTILITY/METER/START
            proves one reading: its leaf in its batch's root, and the batch's readings entry
            in the checkpoint. Both proofs are checked here, with --key, by RFC 6962 rules;
            the proven reading must be the one asked for and its batch size the entry's count.
            The checkpoint must extend the one verified last (see --state), like `checkpoint`.
            """)

    @OptionGroup var options: ClientOptions
    @OptionGroup var keyOption: KeyOption
    @OptionGroup var state: StateOption

    @Option(name: .long, help: "The entry index to prove.")
    var index: UInt64?

    @Option(name: .long, help: "The reading to prove, as UTILITY/METER/START (START: Unix seconds or RFC 3339).")
    var reading: String?

    @Option(name: .long, help: "Also write the proof as a C2SP tlog-proof file, for `carbonctl verify-proof`.")
    var out: String?

    @OptionGroup var witnessOptions: WitnessOptions

    func validate() throws {
        guard (index == nil) != (reading == nil) else { throw ValidationError("give exactly one of --index and --reading") }
    }

    func run() throws {
        let policy = try witnessOptions.load()
        let verifier = try keyOption.requiredVerifier(policy: policy)
        let daemon = try options.connect()
        if let index {
            try proveEntry(index, daemon: daemon, verifier: verifier, policy: policy)
        } else if let reading {
            try proveReading(try ReadingKey(parsing: reading), daemon: daemon, verifier: verifier, policy: policy)
        }
    }

    private func write(_ proof: TlogProof) throws {
        guard let out else { return }
        do {
            try Data(proof.text.utf8).write(to: URL(fileURLWithPath: out))
        } catch {
            throw CommandFailure("cannot write \(out): \(error)")
        }
    }

    /// The checkpoint a proof leads to must extend the one verified last, as for `checkpoint`.
    private func remember(_ checkpoint: Checkpoint, note: String, daemon: Daemon, verifier: NoteVerifier) throws {
        try state.advance(to: checkpoint, note: note, verifiers: [verifier]) {
            try daemon.consistencyFailure(of: checkpoint, from: $0)
        }
    }

    private func proveEntry(_ index: UInt64, daemon: Daemon, verifier: NoteVerifier, policy: WitnessPolicy?) throws {
        let note = try daemon.get(checkpointPath(policy)).text
        let checkpoint = try openCheckpoint(note, verifier: verifier)
        _ = try witnessed(note, checkpoint, policy: policy)
        guard index < checkpoint.size else {
            throw CommandFailure("entry \(index) is not in the latest \(policy == nil ? "" : "cosigned ")checkpoint, of size \(checkpoint.size)")
        }
        let proofResponse = try daemon.get("/v1/ledger/proof/inclusion?index=\(index)&size=\(checkpoint.size)")
        let proof = try decode(InclusionAnswer.self, from: proofResponse)
        // index < size, so index + 1 cannot overflow.
        let entries = try daemon.get("/v1/ledger/entries?start=\(index)&end=\(index + 1)", as: EntriesAnswer.self)
        guard let entry = entries.entries.first, entry.index == index else {
            throw CommandFailure("the daemon did not return entry \(index)", exitCode: 3)
        }
        let leaf = RFC6962.leafHash(Array(entry.entry.utf8))
        try checkInclusion(leaf: leaf, index: index, size: checkpoint.size, hashes: proof.hashes, root: checkpoint.rootHash,
                           what: "entry \(index)")
        try remember(checkpoint, note: note, daemon: daemon, verifier: verifier)
        try write(TlogProof(
            index: index, hashes: proof.hashes.compactMap(Hash256.init(base64:)), checkpoint: note,
            extra: .object(["entry": .string(entry.entry)])))
        if options.json { return print(proofResponse.text) }
        print("entry \(index) is in the checkpoint of size \(checkpoint.size) (\(proof.hashes.count) hashes)")
        print(entry.entry)
    }

    private func proveReading(_ key: ReadingKey, daemon: Daemon, verifier: NoteVerifier, policy: WitnessPolicy?) throws {
        let response = try daemon.get(key.proofPath)
        let proof = try decode(ReadingProofAnswer.self, from: response)
        try key.check(leaf: proof.reading)
        var (note, entryPath) = (proof.checkpoint, proof.entry_path)
        if policy != nil {
            // The entry's path to the latest cosigned checkpoint instead of the latest one.
            note = try daemon.get(checkpointPath(policy)).text
        }
        let checkpoint = try openCheckpoint(note, verifier: verifier)
        if policy != nil {
            guard proof.entry_index < checkpoint.size else {
                throw CommandFailure(
                    "the reading's entry \(proof.entry_index) is not yet in a checkpoint the witnesses cosigned "
                        + "(the latest cosigned has size \(checkpoint.size)); try again once they have", exitCode: 3)
            }
            entryPath = try decode(InclusionAnswer.self, from: try daemon.get(
                "/v1/ledger/proof/inclusion?index=\(proof.entry_index)&size=\(checkpoint.size)")).hashes
        }
        let cosigners = try witnessed(note, checkpoint, policy: policy)
        try checkInclusion(
            leaf: RFC6962.leafHash(Array(proof.entry.utf8)), index: proof.entry_index, size: checkpoint.size,
            hashes: entryPath, root: checkpoint.rootHash, what: "readings entry \(proof.entry_index)")
        let batch = BatchInclusion(
            reading: proof.reading, position: Int64(proof.position), batchSize: Int64(proof.batch_size),
            path: proof.batch_path, entry: proof.entry)
        try batch.verify()
        try remember(checkpoint, note: note, daemon: daemon, verifier: verifier)
        try write(TlogProof(
            index: proof.entry_index, hashes: entryPath.compactMap(Hash256.init(base64:)), checkpoint: note,
            extra: .object([
                "entry": .string(proof.entry), "reading": .string(proof.reading), "position": .int(batch.position),
                "batch_size": .int(batch.batchSize), "batch_path": .array(proof.batch_path.map(JSONValue.string)),
            ])))
        if options.json { return print(response.text) }
        print("reading \(proof.position) of \(proof.batch_size) in entry \(proof.entry_index), "
              + "in the checkpoint of size \(checkpoint.size)\(cosigners): verified")
        print(proof.reading)
    }
}

/// Checks an RFC 6962 inclusion proof given as base64 hashes.
func checkInclusion(leaf: Hash256, index: UInt64, size: UInt64, hashes: [String], root: Hash256, what: String) throws {
    let proof = try hashes.map { text in
        guard let hash = Hash256(base64: text) else { throw CommandFailure("malformed proof hash \(text)", exitCode: 3) }
        return hash
    }
    do {
        try RFC6962.verifyInclusion(leafHash: leaf, index: index, size: size, proof: proof, root: root)
    } catch {
        throw CommandFailure("\(what) is NOT proven in the tree of size \(size): \(error)", exitCode: 3)
    }
}

struct Verify: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check the whole ledger: checkpoint signature, every entry's signature, and the root.",
        discussion: """
            Fetches the latest checkpoint and every entry, checks each entry's canonical form,
            own signature and leaf hash, recomputes the RFC 6962 root over all of them, which
            must equal the checkpoint's, and every hash tile the daemon serves. Signatures verify with --key until a `key` entry (signed by the
            key in force) hands over to the key it announces; the checkpoint must verify with
            the last key of that chain. Needs the auditor or admin role.
            """)

    @OptionGroup var options: ClientOptions
    @OptionGroup var keyOption: KeyOption
    @OptionGroup var state: StateOption
    @OptionGroup var witnessOptions: WitnessOptions

    func run() throws {
        let policy = try witnessOptions.load()
        let daemon = try options.connect()
        let verification = try verify(
            DaemonLedger(daemon, checkpoint: checkpointPath(policy)), first: keyOption.requiredVerifier(policy: policy),
            options: .init(checksData: false))
        let checkpoint = verification.checkpoint
        let cosigners = try witnessed(verification.note, checkpoint, policy: policy)
        let chain = verification.keys
        try state.advance(to: checkpoint, note: verification.note, verifiers: chain.keys) { try daemon.consistencyFailure(of: checkpoint, from: $0) }
        if options.json {
            print("{\"size\":\(checkpoint.size),\"root\":\"\(checkpoint.rootHash.base64)\",\"key\":\"\(chain.current.vkey)\",\"verified\":true}")
        } else {
            print("verified \(checkpoint.size) entries: every signature, and the root \(checkpoint.rootHash.base64); "
                  + "the checkpoint is \(verification.signedBy)\(cosigners)")
        }
    }
}
