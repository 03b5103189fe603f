import ArgumentParser
import CarbonLedger
import TransparencyLog


struct Keygen: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Create a ledger's or a witness's signing key.",
        discussion: """
            Writes the private key to --out (mode 0600; an existing file is never
            overwritten) and prints the verifier key, which you publish to auditors.
            For a ledger, --origin must equal ledger.origin in the daemon's config; for a
            witness (--witness) it is the witness's name, and the printed key is the one
            witness policies name.
            """)

    @Option(name: .long, help: "The ledger's origin, e.g. ledger.example.org/zhejiang, or the witness's name (no spaces, no '+').")
    var origin: String

    @Option(name: .long, help: "Where to write the private key.")
    var out: String

    @Flag(name: .long, help: "A witness's key: print its cosignature/v1 verifier key (type 0x04) for policies.")
    var witness = false

    func run() throws {
        do {
            let vkey = try KeyFile.create(path: out, origin: origin)
            print(witness ? try WitnessVerifier(vkey).vkey : vkey)
        } catch {
            throw CommandFailure("\(error)")
        }
    }
}
