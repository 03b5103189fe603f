import Foundation

/// Where a PostgreSQL database is and who connects to it, read from a libpq-style
/// connection URL:
///
///     postgresql://carbon@/carbonledger?host=/run/postgresql     (Unix socket folder)
///     postgresql://carbon:secret@db.example:5433/carbonledger     (TCP)
///
/// Only what the daemon uses is accepted: a user, an optional password, one host (a
/// name, an address, or a socket folder given as `host=`), a port and a database.
/// Anything else (several hosts, TLS modes, unknown parameters) is refused naming it,
/// so a typo never silently connects somewhere else. TLS to a remote server belongs to
/// the network in front of it; the daemon speaks to a local socket or a private link.
public struct PostgresLocation: Sendable, Equatable {
    public enum Endpoint: Sendable, Equatable {
        /// The server's socket file, `<folder>/.s.PGSQL.<port>`.
        case unixSocket(path: String)
        case tcp(host: String, port: Int)
    }

    public var endpoint: Endpoint
    public var user: String
    public var password: String?
    public var database: String

    public init(endpoint: Endpoint, user: String, password: String? = nil, database: String) {
        self.endpoint = endpoint
        self.user = user
        self.password = password
        self.database = database
    }

    /// Whether `text` asks for PostgreSQL rather than a SQLite file path.
    public static func isURL(_ text: String) -> Bool {
        text.hasPrefix("postgresql://") || text.hasPrefix("postgres://")
    }

    public struct Problem: Error, CustomStringConvertible, Equatable {
        public let description: String
    }

    static let maxLength = 4096

    /// Reads a connection URL; every refusal names the part that is wrong. The password
    /// never appears in an error.
    public static func parse(_ url: String) throws -> PostgresLocation {
        guard url.utf8.count <= maxLength else {
            throw Problem(description: "the database URL is longer than \(maxLength) bytes")
        }
        guard url.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value != 0x7F }) else {
            throw Problem(description: "the database URL has a space or a control character")
        }
        guard let schemeEnd = url.range(of: "://"), isURL(url) else {
            throw Problem(description: "the database URL must start with postgresql://")
        }
        var rest = url[schemeEnd.upperBound...]
        var query: Substring = ""
        if let mark = rest.firstIndex(of: "?") {
            query = rest[rest.index(after: mark)...]
            rest = rest[..<mark]
        }
        guard !rest.contains("#") else { throw Problem(description: "the database URL may not have a fragment (#)") }
        let authority: Substring
        var path: Substring
        if let slash = rest.firstIndex(of: "/") {
            authority = rest[..<slash]
            path = rest[rest.index(after: slash)...]
        } else {
            authority = rest
            path = ""
        }

        var user = ""
        var password: String?
        var hostPort = authority
        if let at = authority.lastIndex(of: "@") {
            let userInfo = authority[..<at]
            hostPort = authority[authority.index(after: at)...]
            if let colon = userInfo.firstIndex(of: ":") {
                user = try decode(userInfo[..<colon], part: "user")
                password = try decode(userInfo[userInfo.index(after: colon)...], part: "password")
            } else {
                user = try decode(userInfo, part: "user")
            }
        }

        var host = ""
        var port = 5432
        if hostPort.hasPrefix("[") {
            guard let close = hostPort.firstIndex(of: "]") else {
                throw Problem(description: "the database URL's host has a [ without its ]")
            }
            host = String(hostPort[hostPort.index(after: hostPort.startIndex)..<close])
            let after = hostPort[hostPort.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":") else { throw Problem(description: "the database URL's host is malformed") }
                port = try parsePort(after.dropFirst())
            }
        } else if let colon = hostPort.lastIndex(of: ":") {
            host = try decode(hostPort[..<colon], part: "host")
            port = try parsePort(hostPort[hostPort.index(after: colon)...])
        } else {
            host = try decode(hostPort, part: "host")
        }
        guard !host.contains(",") else {
            throw Problem(description: "the database URL names several hosts; give the one to write to or read from")
        }

        var socketFolder: String?
        var seen: Set<String> = []
        for pair in query.split(separator: "&", omittingEmptySubsequences: true) {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let key = try decode(parts[0], part: "parameter name")
            let value = parts.count > 1 ? try decode(parts[1], part: "parameter \(key)") : ""
            guard seen.insert(key).inserted else {
                throw Problem(description: "the database URL gives the parameter \(key) twice")
            }
            switch key {
            case "host":
                guard value.hasPrefix("/") else {
                    throw Problem(description: "the database URL's host= must be a socket folder (an absolute path)")
                }
                socketFolder = value
            case "port":
                port = try parsePort(Substring(value))
            case "user":
                user = value
            case "dbname":
                guard path.isEmpty else {
                    throw Problem(description: "the database URL names the database twice (path and dbname=)")
                }
                path = Substring(value)
            case "sslmode":
                guard value == "disable" || value == "prefer" || value == "allow" else {
                    throw Problem(description: "the database URL asks for sslmode=\(value); the daemon connects without "
                        + "TLS (a Unix socket or a private link)")
                }
            case "application_name", "connect_timeout":
                continue
            default:
                throw Problem(description: "the database URL has the parameter \(key), which the daemon does not use")
            }
        }
        let database = try decode(path, part: "database")

        guard !user.isEmpty else { throw Problem(description: "the database URL names no user (postgresql://USER@...)") }
        guard !database.isEmpty else {
            throw Problem(description: "the database URL names no database (postgresql://...@host/DATABASE)")
        }
        guard !database.contains("/") else { throw Problem(description: "the database URL's database name has a /") }

        let endpoint: Endpoint
        if let socketFolder {
            guard host.isEmpty || host.hasPrefix("/") else {
                throw Problem(description: "the database URL names both the host \(host) and a socket folder")
            }
            endpoint = .unixSocket(path: socketFolder + "/.s.PGSQL.\(port)")
        } else if host.hasPrefix("/") {
            endpoint = .unixSocket(path: host + "/.s.PGSQL.\(port)")
        } else if host.isEmpty {
            endpoint = .unixSocket(path: "/var/run/postgresql/.s.PGSQL.\(port)")
        } else {
            endpoint = .tcp(host: host, port: port)
        }
        return PostgresLocation(endpoint: endpoint, user: user, password: password, database: database)
    }

    private static func parsePort(_ text: Substring) throws -> Int {
        guard !text.isEmpty, text.count <= 5, text.allSatisfy(\.isASCIIDigit), let port = Int(text), (1...65535).contains(port)
        else {
            throw Problem(description: "the database URL's port \(text.prefix(20)) is not a number from 1 to 65535")
        }
        return port
    }

    private static func decode(_ text: Substring, part: String) throws -> String {
        guard let decoded = String(text).removingPercentEncoding else {
            throw Problem(description: "the database URL's \(part) has a malformed %-escape")
        }
        guard !decoded.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) else {
            throw Problem(description: "the database URL's \(part) decodes to a control character")
        }
        return decoded
    }

    /// The URL with the password left out, for logs and health.
    public var redacted: String {
        let who = user + (password == nil ? "" : ":***")
        switch endpoint {
        case .unixSocket(let path): return "postgresql://\(who)@/\(database) (socket \(path))"
        case .tcp(let host, let port): return "postgresql://\(who)@\(host):\(port)/\(database)"
        }
    }
}

extension Character {
    fileprivate var isASCIIDigit: Bool { ("0"..."9").contains(self) }
}
