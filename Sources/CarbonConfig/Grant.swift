/// What a peer may do on the socket (interface.md section 1).
public enum Role: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    case utility, consumer, reader, auditor, planner, metrics, admin

    /// The name as the config writes it.
    public var description: String { rawValue }
}

/// One `[[access.grant]]`: which peers it matches and the role it gives them.
public struct Grant: Sendable, Equatable, CustomStringConvertible {
    /// How a grant recognises a peer from its kernel credentials.
    public enum Matcher: Sendable, Hashable, CustomStringConvertible {
        /// The peer's uid.
        case uid(UInt32)
        /// The peer's gid, or a supplementary group of the peer's user.
        case gid(UInt32)
        /// The user name of the peer's uid.
        case user(String)
        /// A group (by name) that is the peer's gid or a supplementary group of its user.
        case group(String)
        /// The uid the daemon itself runs as (`self = true`).
        case daemonUser

        /// The matcher as the config writes it: `uid = 1001`, `self = true`.
        public var description: String {
            switch self {
            case .uid(let uid): return "uid = \(uid)"
            case .gid(let gid): return "gid = \(gid)"
            case .user(let name): return "user = \(quoted(name))"
            case .group(let name): return "group = \(quoted(name))"
            case .daemonUser: return "self = true"
            }
        }
    }

    /// Which peers this grant is for.
    public var matcher: Matcher
    /// The role those peers get.
    public var role: Role
    /// The utility id a `utility` grant is bound to; `nil` for every other role.
    public var utility: String?
    /// The consumer ids a `consumer` grant is bound to; empty for every other role.
    public var consumers: [String]

    /// A grant; `utility` and `consumers` must fit `role` (the config parser checks that).
    public init(matcher: Matcher, role: Role, utility: String? = nil, consumers: [String] = []) {
        self.matcher = matcher
        self.role = role
        self.utility = utility
        self.consumers = consumers
    }

    /// The grant as it would be written inline, for logs: `uid = 1001, role = "utility", utility = "zj-grid"`.
    public var description: String {
        var parts = ["\(matcher)", "role = \(quoted(role.rawValue))"]
        if let utility { parts.append("utility = \(quoted(utility))") }
        if !consumers.isEmpty { parts.append("consumers = [\(consumers.map(quoted).joined(separator: ", "))]") }
        return parts.joined(separator: ", ")
    }
}

/// A string in double quotes with `"` and `\` escaped, as TOML writes a basic string.
func quoted(_ text: String) -> String {
    var out = "\""
    for scalar in text.unicodeScalars {
        switch scalar {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case "\n": out += "\\n"
        case "\t": out += "\\t"
        case _ where scalar.value < 0x20 || scalar.value == 0x7F:
            out += "\\u" + String(scalar.value, radix: 16).leftPadded(to: 4)
        default: out.unicodeScalars.append(scalar)
        }
    }
    return out + "\""
}

extension String {
    fileprivate func leftPadded(to width: Int) -> String {
        String(repeating: "0", count: max(0, width - count)) + self
    }
}
