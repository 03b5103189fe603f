#if canImport(Glibc)
import Glibc
#endif

/// Why a request to the daemon's socket failed, in words a user can act on.
public enum ClientError: Error, Sendable, Equatable, CustomStringConvertible {
    /// `connect(2)` failed; `errno` is the system's reason.
    case cannotConnect(path: String, errno: Int32)
    /// The socket path does not fit a `sockaddr_un` (107 bytes).
    case socketPathTooLong(path: String)
    /// The daemon closed the connection before the response was complete.
    case connectionClosed
    /// The daemon's answer is not HTTP/1.1 this client can read.
    case malformedResponse(String)
    /// No data moved for the configured timeout.
    case timedOut
    /// A send or receive failed for a reason other than the above.
    case io(operation: String, errno: Int32)
    /// The request itself cannot be sent (a line break in a header, say).
    case invalidRequest(String)

    /// The message a user sees.
    public var description: String {
        switch self {
        case .cannotConnect(let path, let code):
            let hint = code == EACCES || code == EPERM
                ? "is this user in the socket's group?" : "is the daemon running?"
            return "cannot connect to \(path): \(systemMessage(code)) (\(hint))"
        case .socketPathTooLong(let path):
            return "cannot connect to \(path): the path is longer than the 107 bytes a Unix socket address holds"
        case .connectionClosed:
            return "connection closed by the daemon before the response was complete"
        case .malformedResponse(let detail):
            return "malformed response: \(detail)"
        case .timedOut:
            return "timed out waiting for the daemon"
        case .io(let operation, let code):
            return "\(operation) failed: \(systemMessage(code))"
        case .invalidRequest(let detail):
            return "invalid request: \(detail)"
        }
    }
}

func systemMessage(_ code: Int32) -> String {
    String(cString: strerror(code))
}
