import CarbonAPI
import CarbonClient
import CarbonLedger
import Foundation
import TransparencyLog

/// A bundle folder written by `carbonctl export`, read file by file within the sizes
/// its formats allow.
struct BundleFolder: LedgerSource {
    let root: URL

    init(_ path: String) {
        root = URL(fileURLWithPath: path, isDirectory: true)
    }

    func checkpoint() -> Result<[UInt8], LedgerSourceError> { read("checkpoint") }
    func tile(_ tile: Tile) -> Result<[UInt8], LedgerSourceError> { read(tile.path) }
    func signatures(_ tile: Tile) -> Result<[UInt8], LedgerSourceError> { read(LedgerBundle.signaturesPath(tile)) }
    func data(_ tile: Tile) -> Result<[UInt8], LedgerSourceError> { read(LedgerBundle.dataPath(tile)) }

    private func read(_ path: String) -> Result<[UInt8], LedgerSourceError> {
        let limit = LedgerBundle.sizeLimit(of: path)
        return BundleFile.contents(root.appendingPathComponent(path), limit: limit.bytes, what: limit.what)
    }
}

/// The daemon's ledger as its API serves it: entries and their signatures from
/// `/v1/ledger/entries` pages, hash and data tiles from the tile routes. The stored
/// leaf hashes a page also carries are not taken from it: the hash tiles, which the
/// verifier rebuilds from the entries, hold the same hashes. The checkpoint is fetched
/// once: every page and tile is read within its tree.
final class DaemonLedger: LedgerSource {
    private let daemon: Daemon
    private let note: HTTPResponse
    /// The checkpoint's claimed size: entries past it belong to no tree it signs.
    private let size: UInt64?
    /// Entries fetched ahead, by index, from `pageFirst`.
    private var page: [EntryAnswer] = []
    private var pageFirst: UInt64 = 0
    /// Entries asked for per page (the daemon may answer fewer).
    private static let pageSize: UInt64 = 39 * 256

    /// The daemon's ledger up to the checkpoint it serves at `checkpoint` (the latest
    /// signed, or the latest cosigned).
    init(_ daemon: Daemon, checkpoint: String = "/v1/ledger/checkpoint") throws {
        self.daemon = daemon
        note = try daemon.client.request("GET", checkpoint)
        size = (try? SignedCheckpoint.unverified(note.text))?.size
    }

    func checkpoint() -> Result<[UInt8], LedgerSourceError> {
        guard (200..<300).contains(note.status) else { return .failure(Self.failure("the checkpoint", note)) }
        return .success(Array(note.body))
    }

    func tile(_ tile: Tile) -> Result<[UInt8], LedgerSourceError> {
        guard case .entries = tile.kind else { return get("/v1/ledger/\(tile.path)") }
        return entries(of: tile).flatMap { entries in
            var bytes: [UInt8] = []
            for entry in entries { LedgerBundle.appendEntry(Array(entry.entry.utf8), to: &bytes) }
            return .success(bytes)
        }
    }

    func signatures(_ tile: Tile) -> Result<[UInt8], LedgerSourceError> {
        entries(of: tile).flatMap { entries in
            var bytes: [UInt8] = []
            for entry in entries {
                guard let signature = Base64.decode(entry.signature), signature.count == 64 else {
                    return .failure(.unreadable("/v1/ledger/entries", why: "entry \(entry.index): the signature is not 64 base64 bytes"))
                }
                bytes += signature
            }
            return .success(bytes)
        }
    }

    func data(_ tile: Tile) -> Result<[UInt8], LedgerSourceError> {
        get("/v1/ledger/" + LedgerBundle.dataPath(tile).dropLast(".ndjson".count)).flatMap { bytes in
            bytes.isEmpty ? .failure(.missing(LedgerBundle.dataPath(tile))) : .success(bytes)
        }
    }

    /// The entries of an entries tile, from the page that holds them (fetched when it does not).
    private func entries(of tile: Tile) -> Result<ArraySlice<EntryAnswer>, LedgerSourceError> {
        let end = tile.first + UInt64(tile.width)
        if tile.first < pageFirst || end > pageFirst + UInt64(page.count) {
            if case .failure(let error) = fetch(from: tile.first, through: end) { return .failure(error) }
        }
        let start = Int(tile.first - pageFirst)
        return .success(page[start..<(start + tile.width)])
    }

    /// Fetches entries from `first` until at least `end` or a page's worth, checking each
    /// index as it comes.
    private func fetch(from first: UInt64, through end: UInt64) -> Result<Void, LedgerSourceError> {
        let location = "/v1/ledger/entries"
        let last = max(end, min(size ?? end, first + Self.pageSize))
        page = []
        pageFirst = first
        while pageFirst + UInt64(page.count) < end {
            let next = pageFirst + UInt64(page.count)
            let answer: EntriesAnswer
            do {
                answer = try daemon.get("\(location)?start=\(next)&end=\(last)&limit=\(Self.pageSize)", as: EntriesAnswer.self)
            } catch {
                return .failure(.unreadable(location, why: "\(error)"))
            }
            guard !answer.entries.isEmpty else { return .failure(.missing("\(location)?start=\(next)")) }
            // Entries past the checkpoint's size belong to no tree it signs.
            guard UInt64(answer.entries.count) <= last - next else {
                return .failure(.unreadable(location, why:
                    "the daemon returned \(answer.entries.count) entries from \(next), past the checkpoint's size \(size ?? last)"))
            }
            for (k, entry) in answer.entries.enumerated() {
                guard entry.index == next + UInt64(k) else {
                    return .failure(.unreadable(location, why: "expected entry \(next + UInt64(k)), got \(entry.index)"))
                }
            }
            page += answer.entries
        }
        return .success(())
    }

    private func get(_ target: String) -> Result<[UInt8], LedgerSourceError> {
        let response: HTTPResponse
        do {
            response = try daemon.client.request("GET", target)
        } catch {
            return .failure(.unreadable(target, why: "\(error)"))
        }
        guard (200..<300).contains(response.status) else { return .failure(Self.failure(target, response)) }
        return .success(Array(response.body))
    }

    private static func failure(_ target: String, _ response: HTTPResponse) -> LedgerSourceError {
        response.status == 404
            ? .missing(target)
            : .unreadable(target, why: CommandFailure(problem: response).description)
    }
}
