import Foundation
import Hummingbird
import Logging

/// Serves a witness over HTTP/1.1: `POST /add-checkpoint` (C2SP tlog-witness), on a
/// Unix socket (`unix:PATH`) or a TCP address (`HOST:PORT`; put TLS in front of it to
/// offer it beyond the machine).
public enum WitnessServer {
    /// The largest request body: a checkpoint with its signatures and 63 proof lines fit many times over.
    static let maxBodyBytes = 64 * 1024

    /// Where a witness listens, parsed from `unix:PATH` or `HOST:PORT`.
    static func address(_ text: String) throws -> BindAddress {
        if text.hasPrefix("unix:") {
            let path = String(text.dropFirst(5))
            guard !path.isEmpty else { throw WitnessError("--listen unix: needs a socket path") }
            return .unixDomainSocket(path: path)
        }
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]), (1...65535).contains(port) else {
            throw WitnessError("--listen must be unix:PATH or HOST:PORT, got \(text)")
        }
        return .hostname(String(text[..<colon]), port: port)
    }

    /// Runs the witness on `listen` (`unix:PATH` or `HOST:PORT`) until SIGTERM or SIGINT.
    public static func run(_ witness: Witness, listen: String, logger: Logger) async throws {
        let address = try address(listen)
        let router = Router()
        router.post("/add-checkpoint") { request, _ -> Response in
            let body = try await request.body.collect(upTo: maxBodyBytes)
            let answer = witness.addCheckpoint(Array(buffer: body))
            if answer.status == 200 {
                logger.info("cosigned", metadata: ["answer": "\(answer.body.count) bytes"])
            } else {
                logger.notice("refused", metadata: ["status": "\(answer.status)", "why": "\(answer.body)"])
            }
            return Response(
                status: .init(code: answer.status),
                headers: [.contentType: answer.contentType],
                body: .init(byteBuffer: ByteBuffer(string: answer.body)))
        }
        let app = Application(
            router: router, configuration: .init(address: address, serverName: "carbonctl-witness"), logger: logger)
        logger.info("witness serving", metadata: ["vkey": "\(witness.signer.verifier.vkey)", "logs": "\(witness.logs.keys.sorted())"])
        try await app.runService()
    }
}
