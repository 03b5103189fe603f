import CarbonAPI
import CarbonClient
import Foundation
import TransparencyLog

/// A test double of carbonledgerd on a socket of its own: it passes every request to a
/// genuine daemon and returns its answer, except where `lie` returns another one. The
/// lies are made from genuine answers (or signed with the genuine key), so only the
/// checks carbonctl makes can tell them from the truth.
final class LyingDaemon: @unchecked Sendable {
    /// A replacement answer: the status and the JSON or text body.
    struct Answer: Sendable {
        var status = 200
        var body: [UInt8]

        init(status: Int = 200, _ body: [UInt8]) {
            self.status = status
            self.body = body
        }

        init(status: Int = 200, _ text: String) { self.init(status: status, Array(text.utf8)) }

        /// A JSON answer encoded from one of the API's answer types.
        init(json: some Encodable) throws { self.init(Array(try JSONEncoder().encode(json))) }
    }

    let genuine: DaemonProcess
    private let server: TestServer

    /// The socket carbonctl is pointed at.
    var socket: String { server.socketPath }

    /// `lie` sees each request target (path and query) and returns a replacement, or nil
    /// to pass the genuine answer on.
    init(genuine: DaemonProcess, lie: @escaping @Sendable (_ target: String) -> Answer?) throws {
        self.genuine = genuine
        let socket = genuine.socket
        server = try TestServer { request, _, _ in
            if let answer = lie(request.target) {
                return .respond(fixedResponse(answer.status, answer.body, headers: ["Content-Type: application/json"]))
            }
            guard let client = try? UnixHTTPClient(socketPath: socket),
                let response = try? client.request(request.method, request.target, headers: [], body: request.body)
            else { return .close }
            let type = response.header("Content-Type").map { ["Content-Type: \($0)"] } ?? []
            return .respond(fixedResponse(response.status, response.body, headers: type))
        }
    }

    deinit { server.stop() }

    /// Runs carbonctl against the double, with the client state in `state`.
    func carbonctl(_ arguments: [String], state: String) throws -> (status: Int32, out: String, err: String) {
        try DaemonProcess.run(
            "carbonctl", arguments + ["--socket", socket], environment: ["CARBONLEDGER_STATE_DIR": state])
    }
}

/// A genuine daemon's ledger as a test needs it to build lies: its signing key, its
/// entries' leaf hashes, and checkpoints signed as the daemon would sign them.
struct GenuineLedger {
    let daemon: DaemonProcess
    let signer: NoteSigner

    init(_ daemon: DaemonProcess) throws {
        self.daemon = daemon
        let skey = try String(contentsOfFile: daemon.keyPath, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        signer = try NoteSigner(skey: skey)
    }

    /// The genuine answer to a GET, failing the test unless it is 200.
    func get(_ target: String) throws -> HTTPResponse {
        let response = try daemon.client().get(target)
        guard response.status == 200 else { throw DaemonTestFailure("GET \(target): \(response.status) \(response.text)") }
        return response
    }

    /// The leaf hashes of the first `size` entries.
    func leafHashes(size: UInt64) throws -> [Hash256] {
        let answer = try JSONDecoder().decode(
            EntriesAnswer.self, from: Data(get("/v1/ledger/entries?start=0&end=\(size)").body))
        let hashes = answer.entries.compactMap { Hash256(base64: $0.leaf_hash) }
        guard hashes.count == Int(size) else { throw DaemonTestFailure("expected \(size) entries, got \(hashes.count)") }
        return hashes
    }

    /// A checkpoint over `leaves`, signed with `signer` (the genuine key unless given).
    func sign(leaves: [Hash256], with other: NoteSigner? = nil) throws -> String {
        let checkpoint = try Checkpoint(
            origin: daemon.origin, size: UInt64(leaves.count), rootHash: RFC6962.rootHash(ofLeafHashes: leaves))
        return try SignedCheckpoint.sign(checkpoint, signers: [other ?? signer]).note
    }
}
