import ArgumentParser
import Foundation

@main
struct CarbonCtl: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "carbonctl",
        abstract: "Talk to carbonledgerd and check its signed ledger yourself.",
        discussion: """
            Commands that talk to the daemon use its Unix socket (--socket, or the
            CARBONLEDGER_SOCKET environment variable, default var/run/carbonledger.sock).
            What the daemon lets you do depends on the grant your user matches.
            """,
        version: "0.1.0",
        subcommands: [
            BackupCommand.self,
            Keygen.self, Key.self, RotateKey.self, Health.self, Whoami.self, Consumers.self, Ingest.self,
            Factors.self, Certificates.self, Score.self, Directory.self, Inventory.self, Close.self, Restate.self,
            CheckpointCommand.self, Proof.self, Verify.self, VerifyProof.self, Export.self, Audit.self, WitnessCommand.self,
        ])

    /// Runs the command; a `CommandFailure` prints its message and exits with its own
    /// status (3: something did not verify), which ArgumentParser would flatten to 1.
    static func main() {
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch let failure as CommandFailure {
            FileHandle.standardError.write(Data("Error: \(failure)\n".utf8))
            Foundation.exit(failure.exitCode)
        } catch {
            exit(withError: error)
        }
    }
}
