import CarbonClient
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The OpenAPI description at `/v1/openapi.json` against the daemon itself: every
/// operation's roles are the ones it enforces and every status it answers is one the
/// description lists; then schemathesis (PyPI) fuzzes the whole surface as the admin
/// and as the lowest roles: no 5xx, no answer outside its schema.
@Suite struct OpenAPITests {
    /// Values for the path and required query parameters that reach stored data of the matrix daemon.
    static let examples: [String: String] = [
        "id": "c1", "utility": "u1", "meter": "m1", "start": String(Probe.start), "zone": "CN",
        "period": Probe.period, "from": Probe.period, "at": String(Probe.start), "index": "0", "dataset": "probe",
        "path": "entries/000.p/1",
    ]

    static func document(_ daemon: DaemonProcess, as peer: Peer) throws -> [String: Any] {
        let answer = try daemon.send("GET", "/v1/openapi.json", as: peer)
        try #require(answer.status == 200, "\(answer.text)")
        return try answer.json()
    }

    @Test func everyOperationEnforcesItsRolesAndAnswersOnlyWhatItLists() throws {
        let (daemon, users) = try AccessTests.matrixDaemon()
        let openapi = try Self.document(daemon, as: users.peer(for: .admin))
        #expect(openapi["openapi"] as? String == "3.1.0")
        let paths = try #require(openapi["paths"] as? [String: [String: Any]])
        var operations = 0
        for (template, item) in paths.sorted(by: { $0.key < $1.key }) {
            for (method, value) in item {
                let operation = try #require(value as? [String: Any])
                let roles = Set((operation["x-roles"] as? [String]) ?? [])
                let documented = Set(((operation["responses"] as? [String: Any]) ?? [:]).keys.compactMap(Int.init))
                #expect(!roles.isEmpty && documented.contains(200) && documented.contains(403), "\(method) \(template)")
                var path = template
                for (name, value) in Self.examples { path = path.replacingOccurrences(of: "{\(name)}", with: value) }
                let required = ((operation["parameters"] as? [[String: Any]]) ?? [])
                    .filter { $0["in"] as? String == "query" && $0["required"] as? Bool == true }
                    .compactMap { $0["name"] as? String }
                if !required.isEmpty {
                    path += "?" + required.map { "\($0)=\(Self.examples[$0] ?? "x")" }.joined(separator: "&")
                }
                // The admin last: its writes (a close, a backup) must not change what others see first.
                for role in GrantRole.allCases.filter({ $0 != .admin }) + [.admin] {
                    let answer = try daemon.send(method.uppercased(), path, as: users.peer(for: role))
                    let what = "\(role) \(method.uppercased()) \(path): \(answer.status) \(answer.text.prefix(200))"
                    #expect(documented.contains(answer.status), "undocumented status: \(what)")
                    if roles.contains(role.rawValue) {
                        #expect(answer.status != 403 || !answer.text.contains("may not do this"), "refused a listed role: \(what)")
                    } else {
                        expectForbidden(answer, "a role not listed was served: \(what)")
                    }
                }
                operations += 1
            }
        }
        #expect(operations == 28, "the description lists \(operations) operations")
    }

    /// schemathesis against a real daemon, reached through socat run as each role's user
    /// (the daemon sees that user's credentials), with a fixed seed and a short budget;
    /// `make fuzz` runs it longer.
    @Test(arguments: [GrantRole.admin, .consumer, .planner, .metrics])
    func schemathesisFindsNoServerErrorAndNoAnswerOutsideItsSchema(role: GrantRole) throws {
        let (daemon, users) = try AccessTests.matrixDaemon()
        let openapi = daemon.directory.appendingPathComponent("openapi.json")
        try Data(try daemon.send("GET", "/v1/openapi.json", as: users.peer(for: .admin)).body).write(to: openapi)
        let peer = users.peer(for: role)
        let bridge = try SocketBridge(socket: daemon.socket, as: peer)
        let run = try withExtendedLifetime(bridge) {
            try runProgram(
                SchemathesisRun.executable,
                SchemathesisRun.arguments(spec: openapi.path, port: bridge.port, examples: SchemathesisRun.examples, seed: 20261203)
                    + ["--report-dir", daemon.directory.appendingPathComponent("schemathesis").path],
                check: false)
        }
        let output = String(decoding: run.out, as: UTF8.self)
        #expect(run.status == 0, "schemathesis as \(role):\n\(output.suffix(6000))\n\(run.err.suffix(2000))")
        #expect(output.contains("passed"), "\(output.suffix(2000))")
        #expect(daemon.isRunning)
        #expect(try daemon.send("GET", "/v1/health", as: users.peer(for: .admin)).status == 200)
    }
}

/// How schemathesis is run here and by `make fuzz`.
enum SchemathesisRun {
    /// Installed by `make test` (and `make fuzz-http`) in the project's `.build-venv`.
    static var executable: String { DaemonProcess.repositoryRoot.appendingPathComponent(".build-venv/bin/schemathesis").path }

    /// Examples per operation: a short run unless `CARBONLEDGER_HTTP_FUZZ_EXAMPLES` asks for more.
    static var examples: Int {
        ProcessInfo.processInfo.environment["CARBONLEDGER_HTTP_FUZZ_EXAMPLES"].flatMap(Int.init) ?? 15
    }

    static func arguments(spec: String, port: UInt16, examples: Int, seed: Int) -> [String] {
        [
            "run", spec, "--url", "http://127.0.0.1:\(port)",
            "--checks", "not_a_server_error,response_schema_conformance,status_code_conformance,content_type_conformance",
            "--max-examples", String(examples), "--seed", String(seed), "--workers", "1", "--request-timeout", "30",
        ]
    }
}

/// socat forwarding a loopback TCP port to the daemon's socket, run as `peer`'s user,
/// so a TCP-only client reaches the daemon with that user's credentials.
final class SocketBridge {
    let port: UInt16
    private let process: Process

    init(socket: String, as peer: Peer) throws {
        port = try Self.freePort()
        process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/setpriv")
        let account = peer.account
        process.arguments = [
            "--reuid=\(account.uid)", "--regid=\(peer.gid)", "--clear-groups", "/usr/bin/socat",
            "TCP-LISTEN:\(port),bind=127.0.0.1,reuseaddr,fork", "UNIX-CONNECT:\(socket)",
        ]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        guard waitUntil({ Self.accepts(self.port) }) else { throw DaemonTestFailure("socat did not listen on \(port)") }
    }

    deinit {
        // SIGKILL: socat keeps the signal mask it inherits, in which the test runner may block SIGTERM.
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    /// A port the kernel has just handed out on loopback.
    static func freePort() throws -> UInt16 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        guard bound else { throw DaemonTestFailure("no free port: \(errno)") }
        return UInt16(bigEndian: address.sin_port)
    }

    static func accepts(_ port: UInt16) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = port.bigEndian
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
    }
}
