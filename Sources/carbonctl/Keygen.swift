import ArgumentParser
import CarbonLedger


struct Keygen: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Create a ledger signing key.",
        discussion: """
            Writes the private key to --out (mode 0600; an existing file is never
            overwritten) and prints the verifier key, which you publish to auditors.
            --origin must equal ledger.origin in the daemon's config.
            """)

    @Option(name: .long, help: "The ledger's origin, e.g. ledger.example.org/zhejiang (no spaces, no '+').")
    var origin: String

    @Option(name: .long, help: "Where to write the private key.")
    var out: String

    func run() throws {
        do {
            print(try KeyFile.create(path: out, origin: origin))
        } catch {
            throw CommandFailure("\(error)")
        }
    }
}
