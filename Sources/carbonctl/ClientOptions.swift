import ArgumentParser
import CarbonAPI
import CarbonClient
import Foundation

/// Options shared by the commands that talk to the daemon.
struct ClientOptions: ParsableArguments {
    @Option(name: .long, help: "The daemon's Unix socket (default: $CARBONLEDGER_SOCKET or var/run/carbonledger.sock).")
    var socket: String?

    @Flag(name: .long, help: "Print the daemon's JSON instead of a table.")
    var json = false

    var socketPath: String {
        socket ?? ProcessInfo.processInfo.environment["CARBONLEDGER_SOCKET"] ?? "var/run/carbonledger.sock"
    }

    func connect() throws -> Daemon {
        try Daemon.connect(socketPath)
    }
}

/// The daemon as seen from carbonctl: requests that fail with a problem+json become a readable error.
struct Daemon {
    let client: UnixHTTPClient

    /// The daemon on the socket at `path`.
    static func connect(_ path: String) throws -> Daemon {
        do {
            return Daemon(client: try UnixHTTPClient(socketPath: path))
        } catch {
            throw CommandFailure("\(error)")
        }
    }

    /// GET `path`, failing unless the answer is 2xx.
    func get(_ path: String, headers: [(String, String)] = []) throws -> HTTPResponse {
        try checked(client.request("GET", path, headers: headers))
    }

    /// POST `body` to `path`, failing unless the answer is 2xx.
    func post(_ path: String, contentType: String, body: [UInt8], headers: [(String, String)] = []) throws -> HTTPResponse {
        try checked(client.request("POST", path, headers: [("Content-Type", contentType)] + headers, body: body))
    }

    /// GET `path` and decode its JSON.
    func get<T: Decodable>(_ path: String, as type: T.Type) throws -> T {
        try decode(T.self, from: get(path))
    }

    private func checked(_ response: HTTPResponse) throws -> HTTPResponse {
        guard (200..<300).contains(response.status) else { throw CommandFailure(problem: response) }
        return response
    }
}

/// Decodes a JSON answer, naming what did not fit.
func decode<T: Decodable>(_ type: T.Type, from response: HTTPResponse) throws -> T {
    do {
        return try JSONDecoder().decode(T.self, from: Data(response.body))
    } catch {
        throw CommandFailure("unexpected answer from the daemon (\(error)): \(response.text.prefix(300))")
    }
}

/// A failure printed as one clear message, exiting non-zero.
struct CommandFailure: Error, CustomStringConvertible {
    var description: String
    var exitCode: Int32 = 1

    init(_ description: String, exitCode: Int32 = 1) {
        self.description = description
        self.exitCode = exitCode
    }

    /// A daemon's problem+json answer, with every record error it lists.
    init(problem response: HTTPResponse) {
        guard let problem = try? JSONDecoder().decode(ProblemAnswer.self, from: Data(response.body)) else {
            self.init("HTTP \(response.status): \(response.text.prefix(500))")
            return
        }
        let records = (problem.errors ?? []).map { error in
            "  record \(error.index)\(error.field.isEmpty ? "" : " \(error.field)"): \(error.message)"
        }
        let lines = ["\(response.status) \(problem.title): \(problem.detail)"]
            + ErrorListing.lines(records, limit: isatty(STDERR_FILENO) == 1 ? ErrorListing.terminalLimit : nil)
        self.init(lines.joined(separator: "\n"))
    }
}

/// Prints rows as aligned columns.
func printTable(_ rows: [(String, String)]) {
    let width = rows.map(\.0.count).max() ?? 0
    for (key, value) in rows {
        print(key.padding(toLength: width, withPad: " ", startingAt: 0) + "  " + value)
    }
}
