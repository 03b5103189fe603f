/// A config file the daemon cannot run with, naming the key at fault and why.
///
/// `description` is what the operator sees, e.g.
/// `config: access.grant[2].role: unknown role "admn" (expected utility, consumer, ...)`.
public struct ConfigError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Dotted path of the offending key (`limits.idle_timeout`, `access.grant[2].role`);
    /// empty when the fault is the file as a whole (unreadable, not TOML).
    public var key: String
    /// What is wrong and, where it helps, what is expected.
    public var message: String

    /// An error about `key`.
    public init(key: String, message: String) {
        self.key = key
        self.message = message
    }

    /// `config: <key>: <message>` (`config: <message>` for the whole file).
    public var description: String {
        key.isEmpty ? "config: \(message)" : "config: \(key): \(message)"
    }
}
