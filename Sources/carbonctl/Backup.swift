import ArgumentParser
import CarbonAPI
import CarbonClient
import CarbonLedger
import Foundation
import TransparencyLog

#if canImport(Glibc)
import Glibc
#endif

struct BackupCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backup",
        abstract: "Save a consistent copy of the daemon's database while it keeps serving (admin).",
        discussion: """
            The daemon copies its database as of one moment with SQLite's online backup
            (ingest goes on meanwhile), checks the copy as a restore will (a carbonledger
            database of the ledger key, every entry's signature and data, and the root
            against the signed checkpoint) and streams it here with its SHA-256 and that
            checkpoint. It is written to --out.partial, its digest and the checkpoint's
            signature (with --key, or the key the daemon serves) are checked, then it is
            renamed to --out. An existing --out is never overwritten. The daemon needs free disk
            space the size of its database beside it while the copy is made.

            Bring a backup back with: carbonledgerd --config FILE --restore BACKUP
            """)

    @OptionGroup var options: ClientOptions
    @OptionGroup var keyOption: KeyOption

    @Option(name: .long, help: "The file to write (must not exist).")
    var out: String

    func run() throws {
        guard !FileManager.default.fileExists(atPath: out) else {
            throw CommandFailure("\(out) exists already; choose another name or remove it first")
        }
        let daemon = try options.connect()
        let verifier = try keyOption.verifier() ?? ledgerKey(daemon)
        let partial = out + ".partial"
        let fd = open(partial, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw CommandFailure("cannot create \(partial): \(String(cString: strerror(errno)))") }
        var kept = false
        defer {
            close(fd)
            if !kept { unlink(partial) }
        }
        var digest = SHA256Stream()
        let response = try daemon.client.request("POST", "/v1/admin/backup", streamingSuccessTo: { bytes in
            digest.update(bytes)
            var offset = 0
            while offset < bytes.count {
                let n = write(fd, bytes.baseAddress! + offset, bytes.count - offset)
                if n < 0 && errno == EINTR { continue }
                guard n > 0 else { throw CommandFailure("cannot write \(partial): \(String(cString: strerror(errno)))") }
                offset += n
            }
        })
        guard (200..<300).contains(response.status) else { throw CommandFailure(problem: response) }
        guard fsync(fd) == 0 else { throw CommandFailure("cannot sync \(partial): \(String(cString: strerror(errno)))") }
        let (checkpoint, note) = try Self.check(response, digest: digest.finish(), verifier: verifier)
        guard rename(partial, out) == 0 else { throw CommandFailure("cannot rename \(partial) to \(out): \(String(cString: strerror(errno)))") }
        kept = true
        let directory = (out as NSString).deletingLastPathComponent
        let dirFD = open(directory.isEmpty ? "." : directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if dirFD >= 0 {
            fsync(dirFD)
            close(dirFD)
        }
        if options.json {
            print("{\"file\":\"\(out)\",\"size\":\(checkpoint.size),\"root\":\"\(checkpoint.rootHash.base64)\",\"verified\":true}")
        } else {
            print("backup of the ledger at size \(checkpoint.size) written to \(out) and verified")
            print(note, terminator: "")
        }
    }

    /// The copy arrived whole (its SHA-256 is the one the daemon sent) and holds a
    /// checkpoint signed by `verifier`; the daemon checked its ledger against that
    /// checkpoint before sending it, as `carbonledgerd --restore` checks it again.
    private static func check(_ response: HTTPResponse, digest: Hash256, verifier: NoteVerifier) throws -> (Checkpoint, String) {
        let sent = response.header("Repr-Digest") ?? ""
        guard sent == "sha-256=:\(digest.base64):" else {
            throw CommandFailure(
                "the backup does not check: its SHA-256 is \(digest.base64), the daemon sent \(sent.isEmpty ? "none" : sent)", exitCode: 3)
        }
        guard let encoded = response.header("Ledger-Checkpoint"), let bytes = Base64.decode(encoded) else {
            throw CommandFailure("the backup does not check: the daemon sent no Ledger-Checkpoint", exitCode: 3)
        }
        let note = String(decoding: bytes, as: UTF8.self)
        do {
            return (try SignedCheckpoint.open(note, verifiers: [verifier]).checkpoint, note)
        } catch {
            throw CommandFailure("the backup does not check: its checkpoint does not verify with \(verifier.vkey): \(error)", exitCode: 3)
        }
    }

    /// The key the daemon serves: enough to check the copy arrived whole and consistent.
    private func ledgerKey(_ daemon: Daemon) throws -> NoteVerifier {
        let answer = try daemon.get("/v1/ledger/key", as: KeyAnswer.self)
        guard let key = answer.keys.first else { throw CommandFailure("the daemon serves no ledger key") }
        do { return try NoteVerifier(key) } catch { throw CommandFailure("the daemon's ledger key \(key): \(error)") }
    }
}
