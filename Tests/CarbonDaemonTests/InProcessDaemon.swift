import CarbonClient
import CarbonConfig
import CarbonDaemon
import CarbonStore
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore

#if canImport(Glibc)
import Glibc
#endif

/// The daemon's application in this process, over the folder, key and config a
/// `DaemonProcess` writes (that process is never started): requests go straight to
/// the router, from any peer credentials, with no socket in between. For tests of
/// what routes answer; what needs a real process (signals, crashes, the socket,
/// real users) stays with `DaemonProcess`.
final class InProcessDaemon: Sendable {
    let files: DaemonProcess
    private let store: CarbonStore
    private let responder: Router<DaemonContext>.Responder
    private let logger: Logger

    /// The test process itself: the peer the default grants (`self = true`) make admin.
    static let me = PeerCredentials(uid: getuid(), gid: getgid(), pid: getpid())

    init(_ files: DaemonProcess) async throws {
        self.files = files
        var logger = Logger(label: "carbonledgerd.test")
        logger.logLevel = .warning
        self.logger = logger
        let config = try Config.load(path: files.configPath)
        let (store, calendar) = try await DaemonApplication.openStore(config, logger: logger)
        do {
            let application = try await DaemonApplication(
                config: config, store: store, calendar: calendar, metrics: .init(), logger: logger)
            responder = application.router.buildResponder()
        } catch {
            store.close()
            throw error
        }
        self.store = store
    }

    /// A daemon over a fresh `DaemonProcess` folder (`grants`, `extraConfig` as there).
    convenience init(grants: String = DaemonProcess.selfAdmin, extraConfig: String = "") async throws {
        try await self.init(DaemonProcess(grants: grants, extraConfig: extraConfig))
    }

    deinit { store.close() }

    /// One request from `peer`, answered as the socket would answer it (status, headers, whole body).
    func request(
        _ method: String, _ path: String, headers: [(String, String)] = [], body: [UInt8] = [],
        as peer: PeerCredentials = InProcessDaemon.me
    ) async throws -> CarbonClient.HTTPResponse {
        var fields = HTTPFields()
        for (name, value) in headers {
            guard let name = HTTPField.Name(name) else { continue }
            fields.append(HTTPField(name: name, value: value))
        }
        let head = HTTPRequest(method: HTTPRequest.Method(method)!, scheme: nil, authority: "localhost", path: path, headerFields: fields)
        let request = Request(head: head, body: RequestBody(buffer: ByteBuffer(bytes: body)))
        let context = DaemonContext(source: .init(connection: PeerConnection(peer: peer), logger: logger))
        let response = try await responder.respond(to: request, context: context)
        var collector = BodyCollector()
        try await response.body.write(collector.writer)
        return CarbonClient.HTTPResponse(
            status: response.status.code, reason: response.status.reasonPhrase,
            headers: response.headers.map { ($0.name.canonicalName, $0.value) }, body: await collector.bytes())
    }
}

/// Gathers a response body as the server would write it to the socket.
private struct BodyCollector {
    private let storage = Storage()
    private final class Storage: @unchecked Sendable {
        var bytes: [UInt8] = []
    }

    var writer: some ResponseBodyWriter { Writer(storage: storage) }

    func bytes() async -> [UInt8] { storage.bytes }

    private struct Writer: ResponseBodyWriter {
        let storage: Storage
        mutating func write(_ buffer: ByteBuffer) async throws {
            storage.bytes += buffer.readableBytesView
        }
        consuming func finish(_ trailingHeaders: HTTPFields?) async throws {}
    }
}

/// What a test sends requests through: the application in this process, or a real
/// daemon's socket. Fixtures take one, so the same setup serves both kinds of test.
protocol TestAPI {
    func send(_ method: String, _ path: String, headers: [(String, String)], body: [UInt8]) async throws -> CarbonClient.HTTPResponse
}

extension TestAPI {
    func get(_ path: String) async throws -> CarbonClient.HTTPResponse {
        try await send("GET", path, headers: [], body: [])
    }

    func post(
        _ path: String, _ body: String, contentType: String = "application/x-ndjson", headers: [(String, String)] = []
    ) async throws -> CarbonClient.HTTPResponse {
        try await send("POST", path, headers: [("Content-Type", contentType)] + headers, body: Array(body.utf8))
    }
}

extension InProcessDaemon: TestAPI {
    func send(_ method: String, _ path: String, headers: [(String, String)], body: [UInt8]) async throws -> CarbonClient.HTTPResponse {
        try await request(method, path, headers: headers, body: body)
    }
}

/// A real daemon's socket as a `TestAPI` (the client itself keeps its blocking calls).
struct SocketAPI: TestAPI {
    let client: UnixHTTPClient

    func send(_ method: String, _ path: String, headers: [(String, String)], body: [UInt8]) async throws -> CarbonClient.HTTPResponse {
        try client.request(method, path, headers: headers, body: body)
    }
}

/// What a route test talks to, as any peer: the application in this process, or a
/// real daemon (whose peers other than the test itself are throwaway users' processes).
protocol RouteTarget {
    func send(
        _ method: String, _ path: String, as peer: Peer, contentType: String?, bytes: [UInt8]?, headers: [(String, String)]
    ) async throws -> CarbonClient.HTTPResponse
    /// The database file, read for row counts.
    var database: String { get }
}

extension RouteTarget {
    func send(
        _ method: String, _ path: String, as peer: Peer = .test, contentType: String? = nil, body: String? = nil,
        headers: [(String, String)] = []
    ) async throws -> CarbonClient.HTTPResponse {
        try await send(method, path, as: peer, contentType: contentType, bytes: body.map { Array($0.utf8) }, headers: headers)
    }
}

extension DaemonProcess: RouteTarget {}

extension InProcessDaemon: RouteTarget {
    var database: String { files.database }

    func send(
        _ method: String, _ path: String, as peer: Peer, contentType: String?, bytes: [UInt8]?, headers: [(String, String)]
    ) async throws -> CarbonClient.HTTPResponse {
        let credentials =
            switch peer {
            case .test: Self.me
            case .user(let account, let gid, _): PeerCredentials(uid: account.uid, gid: gid ?? account.gid, pid: 1)
            }
        return try await request(
            method, path, headers: (contentType.map { [("Content-Type", $0)] } ?? []) + headers, body: bytes ?? [],
            as: credentials)
    }
}
