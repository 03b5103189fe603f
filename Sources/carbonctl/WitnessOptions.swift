import ArgumentParser
import Foundation
import TransparencyLog

/// Which witnesses must have cosigned a checkpoint for it to be accepted: a C2SP
/// tlog-policy file, or witness keys and how many of them must agree.
struct WitnessOptions: ParsableArguments {
    @Option(name: .long, help: "A C2SP tlog-policy file: the checkpoint must carry cosignatures meeting its quorum.")
    var policy: String?

    @Option(name: .customLong("witness"), help: "A witness's cosignature key (name+id+base64); repeat for several.")
    var witnesses: [String] = []

    @Option(name: .long, help: "How many of the --witness keys must have cosigned (default: all).")
    var minWitnesses: Int?

    /// The policy the options describe; nil when none was given.
    func load() throws -> WitnessPolicy? {
        if let policy {
            guard witnesses.isEmpty, minWitnesses == nil else {
                throw CommandFailure("give either --policy or --witness/--min-witnesses, not both")
            }
            let data = try BundleFile.read(URL(fileURLWithPath: policy), limit: 1 << 20, what: "a policy file")
            do { return try WitnessPolicy(parsing: String(decoding: data, as: UTF8.self)) } catch {
                throw CommandFailure("--policy \(policy): \(error)")
            }
        }
        guard !witnesses.isEmpty else {
            if minWitnesses != nil { throw CommandFailure("--min-witnesses needs --witness keys") }
            return nil
        }
        let verifiers = try witnesses.map { key in
            do { return try WitnessVerifier(key) } catch { throw CommandFailure("--witness \(key): \(error)") }
        }
        do { return try WitnessPolicy(witnesses: verifiers, minimum: minWitnesses ?? verifiers.count) } catch {
            throw CommandFailure("--min-witnesses: \(error)")
        }
    }
}

extension WitnessPolicy {
    /// The witnesses whose cosignatures of the checkpoint in `note` verify, if they
    /// meet the quorum; otherwise the failure says who cosigned and what was needed.
    func check(_ note: String, checkpoint: Checkpoint) throws -> [String] {
        let signatures: [NoteSignature]
        do { signatures = try SignedNote.read(note).unverified } catch {
            throw CommandFailure("the checkpoint: \(error)", exitCode: 3)
        }
        let cosigners = cosigners(of: checkpoint.text, among: signatures).map(\.witness.name)
        guard isMet(byWitnessesNamed: cosigners) else {
            throw CommandFailure(
                "the checkpoint of size \(checkpoint.size) does not meet the witness policy: it needs \(quorumDescription), "
                    + "and is cosigned by " + (cosigners.isEmpty ? "no known witness" : cosigners.joined(separator: ", ")),
                exitCode: 3)
        }
        return cosigners
    }
}
