import ArgumentParser
import CarbonAPI
import Foundation

struct RotateKey: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rotate-key",
        abstract: "Change the ledger's signing key (admin).",
        discussion: """
            Make the new key first, with the same origin, where the daemon can read it:
              carbonctl keygen --origin ORIGIN --out /var/lib/carbonledger/ledger-2.key
            The daemon appends a `key` entry announcing the new verifier key, signed by the
            old key, and signs every later entry and checkpoint with the new key; for
            ledger.key_overlap checkpoints carry both signatures. Then point ledger.key at
            the new file (the next start needs it) and publish the new verifier key next to
            the old one: auditors holding the old key follow the chain of keys.
            """)

    @OptionGroup var options: ClientOptions

    @Option(name: .long, help: "The new private key file (path as the daemon sees it; mode 0600, same origin).")
    var newKey: String

    func run() throws {
        let path = URL(fileURLWithPath: newKey).standardizedFileURL.path
        let body = try JSONEncoder().encode(KeyRotationRequest(key: path))
        let response = try options.connect().post("/v1/ledger/key/rotate", contentType: "application/json", body: Array(body))
        let answer = try decode(KeyRotationAnswer.self, from: response)
        if options.json { return print(response.text) }
        print("entry \(answer.entry) hands the ledger over from \(answer.previous)")
        print("to the new verifier key (publish it):")
        print(answer.vkey)
        print("Set ledger.key = \"\(path)\" in the daemon's config before its next start.")
    }
}
