import CarbonClient
import CarbonStore
import Foundation
import Logging
import NIOPosix
import ServiceLifecycle
import Synchronization
import TransparencyLog

/// The witness policy in force (`ledger.witness_policy`) and what the witnesses
/// have cosigned: the latest checkpoint whose cosignatures meet the policy, served
/// beside the plain one. A policy the witnesses cannot meet holds that checkpoint
/// back (and shows in health and metrics); ingest and signing never wait for it.
public final class Witnessing: Sendable {
    public let policy: WitnessPolicy
    /// Where the latest cosigned checkpoint is kept across restarts (nil: nowhere).
    let file: String?
    private let state = Mutex(Progress())

    struct Progress {
        /// The latest checkpoint meeting the policy: the log's note with the witnesses' lines.
        var cosigned: (size: UInt64, note: String)?
        /// The size of the latest checkpoint pushed (nil before the first round).
        var pushed: UInt64?
        /// Why each witness failed in the last round it failed, cleared when it cosigns.
        var failures: [String: String] = [:]
    }

    public init(policy: WitnessPolicy, file: String? = nil) {
        self.policy = policy
        self.file = file
    }

    /// Takes back the cosigned checkpoint kept in `file` if it still stands: signed by
    /// a key of `keys`, meeting the policy in force, and with the root the ledger has
    /// at its size (`root`). Returns why it was set aside, nil when taken or absent.
    func restore(keys: [NoteVerifier], root: (UInt64) async throws -> Hash256?) async -> String? {
        guard let file, let note = try? String(contentsOfFile: file, encoding: .utf8) else { return nil }
        do {
            let opened = try SignedNote.open(note, verifiers: keys)
            let checkpoint = try Checkpoint(text: opened.text)
            let cosigners = policy.cosigners(of: opened.text, among: opened.unverified).map(\.witness.name)
            guard policy.isMet(byWitnessesNamed: cosigners) else { return "it does not meet the witness policy in force" }
            guard try await root(checkpoint.size) == checkpoint.rootHash else {
                return "the ledger has another root at its size \(checkpoint.size)"
            }
            state.withLock { $0.cosigned = (checkpoint.size, note) }
            return nil
        } catch {
            return "\(error)"
        }
    }

    /// The latest cosigned checkpoint note, nil before one met the policy.
    public var cosignedNote: String? { state.withLock { $0.cosigned?.note } }

    /// Its size (0 before one met the policy).
    var cosignedSize: UInt64 { state.withLock { $0.cosigned?.size ?? 0 } }

    /// Whether the latest checkpoint pushed met the policy (true before the first round).
    var isMet: Bool {
        state.withLock { progress in progress.pushed.map { $0 == progress.cosigned?.size } ?? true }
    }

    /// The policy not met for the latest checkpoint pushed, in a sentence; nil when met.
    var problem: String? {
        state.withLock { progress in
            guard let pushed = progress.pushed, pushed != progress.cosigned?.size else { return nil }
            let why = progress.failures.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }.joined(separator: "; ")
            return "the witness policy (\(policy.quorumDescription)) is not met for the checkpoint of size \(pushed); "
                + "the cosigned checkpoint stays at size \(progress.cosigned?.size ?? 0)" + (why.isEmpty ? "" : " (\(why))")
        }
    }

    /// Records a round for the checkpoint `note` of `size`: the cosignature lines each
    /// witness returned, and why the others failed. Throws when a new cosigned
    /// checkpoint could not be kept in `file` (it is served all the same).
    func record(size: UInt64, note: String, text: String, lines: [String: String], failures: [String: String]) throws {
        var failures = failures
        let verified = policy.witnesses.filter { witness in
            guard let line = lines[witness.name] else { return false }
            // A one-line note text makes the answer a note whose signature lines can be read.
            let signatures = (try? SignedNote.read("x\n\n" + line).unverified) ?? []
            let valid = witness.verifier.cosignatureTime(of: text, among: signatures) != nil
            if !valid { failures[witness.name] = "its answer holds no valid cosignature of the checkpoint by its key" }
            return valid
        }
        let met = policy.isMet(byWitnessesNamed: verified.map(\.name))
        let cosignedNote = note + verified.compactMap { lines[$0.name] }.joined()
        let advanced = state.withLock { progress in
            progress.pushed = size
            for witness in verified { progress.failures[witness.name] = nil }
            progress.failures.merge(failures) { $1 }
            guard met && size >= progress.cosigned?.size ?? 0 else { return false }
            progress.cosigned = (size, cosignedNote)
            return true
        }
        if advanced, let file { try Data(cosignedNote.utf8).write(to: URL(fileURLWithPath: file), options: .atomic) }
    }
}

/// Pushes each new checkpoint to the policy's witnesses (C2SP tlog-witness
/// `add-checkpoint`) and records what they cosign in `Witnessing`.
///
/// The writer's latest durable checkpoint is read from memory every `interval`;
/// checkpoints signed while a round is under way are skipped for the newest, which
/// extends them. A round that does not meet the policy is tried again after a pause
/// that doubles up to a minute.
struct WitnessPusher: Service {
    let witnessing: Witnessing
    let store: CarbonStore
    let logger: Logger
    var interval: Duration = .milliseconds(100)

    func run() async throws {
        let reader = store.reader
        let setAside = await witnessing.restore(keys: (try? await reader.keys()) ?? []) { size in
            size == 0 ? RFC6962.emptyRoot : try await reader.inclusionProof(index: 0, size: size).root
        }
        if let setAside, let file = witnessing.file {
            logger.notice("the cosigned checkpoint kept in \(file) is set aside: \(setAside)")
        }
        let links = witnessing.policy.witnesses.compactMap { witness -> WitnessLink? in
            guard let url = witness.url else {
                logger.warning("witness \(witness.name) has no URL in the policy: checkpoints are not pushed to it")
                return nil
            }
            do {
                return try WitnessLink(name: witness.name, url: url)
            } catch {
                logger.warning("witness \(witness.name): \(error)")
                return nil
            }
        }
        var retryAt = ContinuousClock.now
        var pause = Duration.seconds(1)
        var lastPushed: UInt64?
        while !Task.isShuttingDownGracefully {
            do { try await Task.sleep(for: interval) } catch { return }  // cancelled: the daemon is stopping
            guard let checkpoint = store.writer.latestCheckpoint else { continue }
            let fresh = checkpoint.size != lastPushed
            guard fresh || (ContinuousClock.now >= retryAt && !witnessing.isMet) else { continue }
            lastPushed = checkpoint.size
            await push(checkpoint, to: links)
            if witnessing.isMet {
                pause = .seconds(1)
            } else {
                retryAt = ContinuousClock.now + pause
                pause = min(pause * 2, .seconds(60))
            }
        }
    }

    /// One round: every witness asked for its cosignature of `checkpoint` at once.
    private func push(_ checkpoint: StoredCheckpoint, to links: [WitnessLink]) async {
        let text: String
        do {
            text = try SignedCheckpoint.unverified(checkpoint.note).text
        } catch {
            return logger.error("the latest checkpoint does not parse: \(error)")
        }
        let outcomes = await withTaskGroup(of: (String, Result<String, WitnessPushError>).self) { group in
            for link in links {
                group.addTask { (link.name, await self.ask(link, checkpoint)) }
            }
            return await group.reduce(into: [:]) { $0[$1.0] = $1.1 }
        }
        var lines: [String: String] = [:]
        var failures: [String: String] = [:]
        for (name, outcome) in outcomes {
            switch outcome {
            case .success(let line): lines[name] = line
            case .failure(let error):
                failures[name] = error.description
                logger.notice("witness \(name) did not cosign the checkpoint of size \(checkpoint.size): \(error)")
            }
        }
        do {
            try witnessing.record(size: checkpoint.size, note: checkpoint.note, text: text, lines: lines, failures: failures)
        } catch {
            logger.warning("the cosigned checkpoint could not be kept for a restart: \(error)")
        }
    }

    /// Asks one witness, starting from the size it was last known to hold and, when it
    /// answers 409 with another, once more from that one.
    private func ask(_ link: WitnessLink, _ checkpoint: StoredCheckpoint) async -> Result<String, WitnessPushError> {
        for _ in 0..<2 {
            let old = link.knownSize
            guard old <= checkpoint.size else {
                return .failure(.init("it holds size \(old), larger than the ledger's \(checkpoint.size)"))
            }
            let proof: [Hash256]
            do {
                proof = old == 0 || old == checkpoint.size
                    ? [] : try await store.reader.consistencyProof(from: old, to: checkpoint.size).hashes
            } catch {
                return .failure(.init("no consistency proof from size \(old): \(error)"))
            }
            let body = Array(AddCheckpointRequest(oldSize: old, proof: proof, note: checkpoint.note).body.utf8)
            let response: HTTPResponse
            do {
                response = try await link.post(body)
            } catch {
                return .failure(.init("\(error)"))
            }
            let answer = String(decoding: response.body, as: UTF8.self)
            // What a refusing witness says goes into health and the log, cut short.
            let said = answer.trimmingCharacters(in: .whitespacesAndNewlines).prefix(200)
            switch response.status {
            case 200:
                link.knownSize = checkpoint.size
                return .success(answer)
            case 409:
                guard let held = UInt64(answer.trimmingCharacters(in: .newlines)) else {
                    return .failure(.init("409 without a size: \(said)"))
                }
                link.knownSize = held
            default:
                return .failure(.init("\(response.status): \(said)"))
            }
        }
        return .failure(.init("its size kept changing under the requests"))
    }
}

/// Why a witness did not cosign, in words for health and the log.
struct WitnessPushError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// One witness's connection and what the daemon knows of it: kept-alive HTTP to its
/// submission prefix, `unix:PATH` or `http://HOST:PORT[/PREFIX]`.
///
/// The blocking client runs on a thread of the link's own, always the same one (its
/// response parser is bound to the thread that made it), off the cooperative pool.
/// `@unchecked Sendable`: only the pusher's round uses a link, one request at a time.
final class WitnessLink: @unchecked Sendable {
    let name: String
    /// The tree size the witness was last known to hold (0: unknown, and 409 tells).
    var knownSize: UInt64 = 0
    private let endpoint: Endpoint
    private let path: String
    private var client: UnixHTTPClient?
    private let thread = NIOThreadPool(numberOfThreads: 1)
    /// A witness answers a few signature lines or a size: more is refused, not buffered.
    static let maxAnswerBytes = 64 * 1024

    private enum Endpoint {
        case unix(String)
        case tcp(host: String, port: Int)
    }

    init(name: String, url: String) throws {
        self.name = name
        if url.hasPrefix("unix:") {
            endpoint = .unix(String(url.dropFirst(5)))
            path = "/add-checkpoint"
        } else if url.hasPrefix("http://"), let components = URLComponents(string: url), let host = components.host {
            endpoint = .tcp(host: host, port: components.port ?? 80)
            path = (components.path.hasSuffix("/") ? String(components.path.dropLast()) : components.path) + "/add-checkpoint"
        } else {
            throw WitnessPushError("its URL \(url) is neither unix:PATH nor http://HOST:PORT/PREFIX (for https, run a TLS tunnel)")
        }
        thread.start()
    }

    deinit {
        thread.shutdownGracefully { _ in }
    }

    /// POSTs an add-checkpoint body on the link's thread.
    func post(_ body: [UInt8]) async throws -> HTTPResponse {
        try await thread.runIfActive { try self.postBlocking(body) }
    }

    /// POSTs an add-checkpoint body, connecting first if need be.
    private func postBlocking(_ body: [UInt8]) throws -> HTTPResponse {
        if client == nil {
            switch endpoint {
            case .unix(let socket):
                client = try UnixHTTPClient(socketPath: socket, timeout: .seconds(10), maxBodyBytes: Self.maxAnswerBytes)
            case .tcp(let host, let port):
                client = try UnixHTTPClient(host: host, port: port, timeout: .seconds(10), maxBodyBytes: Self.maxAnswerBytes)
            }
        }
        do {
            return try client!.request("POST", path, headers: [("Content-Type", "text/plain")], body: body)
        } catch {
            client = nil
            throw error
        }
    }
}
