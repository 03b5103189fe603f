import ArgumentParser
import CarbonLedger
import CarbonWitness
import Foundation
import Logging
import Synchronization
import TransparencyLog

struct WitnessCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "witness",
        abstract: "Run a C2SP tlog-witness that cosigns the checkpoints of the logs it is given.",
        discussion: """
            A witness is a party of its own (a certification body, say) with its own key
            (carbonctl keygen --witness). It answers POST /add-checkpoint as C2SP tlog-witness
            specifies: it cosigns a checkpoint signed by a key given with --log only if the
            tree extends the last one it cosigned for that log, and records the new tree in
            --state before answering, so it never cosigns a rollback or a fork. Give each key
            a log signs with (a log in a key rotation signs with two).
            """)

    @Option(name: .long, help: "The witness's private key file (carbonctl keygen --witness).")
    var key: String

    @Option(name: .long, help: "The folder that keeps what the witness has cosigned.")
    var state: String

    @Option(name: .long, help: "A log verifier key (name = origin) whose checkpoints this witness cosigns; repeat for several.")
    var log: [String] = []

    @Option(name: .long, help: "Where to listen: unix:PATH or HOST:PORT.")
    var listen: String

    func run() throws {
        let logs = try log.map { vkey in
            do { return try NoteVerifier(vkey) } catch { throw CommandFailure("--log \(vkey): \(error)") }
        }
        guard !logs.isEmpty else { throw CommandFailure("give at least one --log key") }
        let signer: WitnessSigner
        let witnessState: WitnessState
        do {
            signer = WitnessSigner(try KeyFile.load(path: key))
            witnessState = try WitnessState(folder: state)
        } catch {
            throw CommandFailure("\(error)")
        }
        let witness = Witness(signer: signer, logs: logs, state: witnessState)
        let failure = Mutex<String?>(nil)
        let done = DispatchSemaphore(value: 0)
        Task {
            do {
                try await WitnessServer.run(witness, listen: listen, logger: Logger(label: "carbonctl.witness"))
            } catch {
                failure.withLock { $0 = "\(error)" }
            }
            done.signal()
        }
        done.wait()
        if let message = failure.withLock({ $0 }) { throw CommandFailure(message) }
    }
}
