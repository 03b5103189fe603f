import ArgumentParser
import CarbonAPI
import CarbonStore
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
            (ingest goes on meanwhile) and streams the copy here. It is written to
            --out.partial, checked (a carbonledger database of the ledger key, every
            entry's signature, and the root against the signed checkpoint), then renamed
            to --out. An existing --out is never overwritten. The daemon needs free disk
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
        let response = try daemon.client.request("POST", "/v1/admin/backup", streamingSuccessTo: { bytes in
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
        let summary: LedgerFile.Summary
        do {
            summary = try LedgerFile.check(path: partial, verifier: verifier)
        } catch {
            throw CommandFailure("the backup does not check: \(error)", exitCode: 3)
        }
        guard rename(partial, out) == 0 else { throw CommandFailure("cannot rename \(partial) to \(out): \(String(cString: strerror(errno)))") }
        kept = true
        let directory = (out as NSString).deletingLastPathComponent
        let dirFD = open(directory.isEmpty ? "." : directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if dirFD >= 0 {
            fsync(dirFD)
            close(dirFD)
        }
        let checkpoint = summary.checkpoint
        if options.json {
            print("{\"file\":\"\(out)\",\"size\":\(checkpoint.size),\"root\":\"\(checkpoint.root.base64)\",\"verified\":true}")
        } else {
            print("backup of the ledger at size \(checkpoint.size) written to \(out) and verified")
            print(checkpoint.note, terminator: "")
        }
    }

    /// The key the daemon serves: enough to check the copy arrived whole and consistent.
    private func ledgerKey(_ daemon: Daemon) throws -> NoteVerifier {
        let answer = try daemon.get("/v1/ledger/key", as: KeyAnswer.self)
        guard let key = answer.keys.first else { throw CommandFailure("the daemon serves no ledger key") }
        do { return try NoteVerifier(key) } catch { throw CommandFailure("the daemon's ledger key \(key): \(error)") }
    }
}
