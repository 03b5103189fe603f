import Foundation
import TransparencyLog

/// A tlog-witness: cosigns a log's checkpoints as long as each extends the last it
/// cosigned, so it never cosigns a rollback or a fork.
public struct Witness: Sendable {
    /// The witness's signing side.
    public let signer: WitnessSigner
    /// The keys trusted for each log origin (several during a log's key rotation).
    public let logs: [String: [NoteVerifier]]
    /// What it has cosigned.
    public let state: WitnessState
    private let clock: @Sendable () -> UInt64

    public init(
        signer: WitnessSigner, logs: [NoteVerifier], state: WitnessState,
        clock: @escaping @Sendable () -> UInt64 = { UInt64(max(1, Date().timeIntervalSince1970)) }
    ) {
        self.signer = signer
        self.logs = Dictionary(grouping: logs, by: \.name)
        self.state = state
        self.clock = clock
    }

    /// An answer to an `add-checkpoint` request: status, content type and body.
    public struct Answer: Sendable, Equatable {
        public let status: Int
        public let contentType: String
        public let body: String
    }

    /// Handles an `add-checkpoint` request body.
    public func addCheckpoint(_ body: [UInt8]) -> Answer {
        do {
            let request = try AddCheckpointRequest(parsing: body)
            let line = try state.update { trees throws(WitnessRefusal) in
                let (checkpoint, text) = try AddCheckpoint.check(
                    request, keys: { logs[$0] }, held: { trees[$0] })
                let tree = WitnessedTree(size: checkpoint.size, root: checkpoint.rootHash)
                return (checkpoint.origin, tree, signer.cosign(checkpointText: text, time: clock()))
            }
            return Answer(status: 200, contentType: "text/plain; charset=utf-8", body: line)
        } catch let refusal as WitnessRefusal {
            if case .sizeConflict(let size, _) = refusal {
                return Answer(status: 409, contentType: "text/x.tlog.size", body: "\(size)\n")
            }
            return Answer(status: refusal.status, contentType: "text/plain; charset=utf-8", body: "\(refusal)\n")
        } catch {
            return Answer(status: 500, contentType: "text/plain; charset=utf-8", body: "\(error)\n")
        }
    }
}
