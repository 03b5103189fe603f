#if canImport(Glibc)
import Glibc
#endif

/// Where the daemon accepts connections: a socket it binds at `daemon.socket`, or
/// one systemd bound and passed to it (socket activation, sd_listen_fds(3)).
enum ListeningSocket: Equatable, Sendable {
    /// Bind this path (removing a stale socket file first) and apply the configured mode and group.
    case path(String)
    /// Serve on this inherited descriptor: a bound, listening AF_UNIX stream socket
    /// whose file, mode and group the socket unit decided.
    case inherited(Int32)

    /// The first descriptor systemd passes (SD_LISTEN_FDS_START).
    static let firstPassedDescriptor: Int32 = 3

    /// The passed socket if `LISTEN_PID` names this process and `LISTEN_FDS` is at least 1,
    /// else `path`. `LISTEN_PID`, `LISTEN_FDS` and `LISTEN_FDNAMES` are removed from the
    /// environment either way, so nothing this process starts mistakes them for its own.
    static func fromEnvironment(orPath path: String) throws -> ListeningSocket {
        let pidText = getenv("LISTEN_PID").map { String(cString: $0) }
        let countText = getenv("LISTEN_FDS").map { String(cString: $0) }
        unsetenv("LISTEN_PID")
        unsetenv("LISTEN_FDS")
        unsetenv("LISTEN_FDNAMES")
        guard let pidText, let countText else { return .path(path) }
        guard let pid = Int32(decimal: pidText) else {
            throw DaemonError("LISTEN_PID=\"\(pidText)\" is not a process id")
        }
        // Meant for another process (the variables leaked through an exec): not ours to use.
        guard pid == getpid() else { return .path(path) }
        guard let count = Int32(decimal: countText) else {
            throw DaemonError("LISTEN_FDS=\"\(countText)\" is not a number of descriptors")
        }
        guard count >= 1 else { return .path(path) }
        // sd_listen_fds marks every passed descriptor close-on-exec; so do we.
        for fd in firstPassedDescriptor..<(firstPassedDescriptor + count) {
            let flags = fcntl(fd, F_GETFD)
            guard flags >= 0 else {
                throw DaemonError("LISTEN_FDS=\(count) but descriptor \(fd) is not open")
            }
            _ = fcntl(fd, F_SETFD, flags | FD_CLOEXEC)
        }
        try checkListeningUnixStream(firstPassedDescriptor)
        return .inherited(firstPassedDescriptor)
    }

    /// The path a Unix socket is bound to, nil for an unnamed or abstract one.
    static func boundPath(_ fd: Int32) -> String? {
        var address = sockaddr_un()
        var length = socklen_t(MemoryLayout<sockaddr_un>.size)
        let named = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        guard named == 0, length > socklen_t(MemoryLayout<sa_family_t>.size) else { return nil }
        let path = withUnsafeBytes(of: address.sun_path) { raw in
            String(decoding: raw.prefix(Int(length) - MemoryLayout<sa_family_t>.size).prefix { $0 != 0 }, as: UTF8.self)
        }
        return path.isEmpty ? nil : path
    }

    /// Refuses a descriptor that is not what the socket unit promises (`ListenStream=` with a path).
    static func checkListeningUnixStream(_ fd: Int32) throws {
        func option(_ name: Int32) -> Int32? {
            var value: Int32 = 0
            var length = socklen_t(MemoryLayout<Int32>.size)
            return getsockopt(fd, SOL_SOCKET, name, &value, &length) == 0 ? value : nil
        }
        guard let domain = option(SO_DOMAIN), let type = option(SO_TYPE), let listening = option(SO_ACCEPTCONN) else {
            throw DaemonError("the passed descriptor \(fd) is not a socket (LISTEN_FDS)")
        }
        guard domain == AF_UNIX, type == Int32(SOCK_STREAM.rawValue), listening == 1 else {
            throw DaemonError(
                "the passed descriptor \(fd) is not a listening Unix stream socket; "
                    + "the socket unit must say ListenStream=/path/of/the.sock")
        }
    }
}

extension Int32 {
    /// Only plain decimal digits, as the environment variables of sd_listen_fds(3) hold.
    fileprivate init?(decimal text: String) {
        guard !text.isEmpty, text.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }), let value = Int32(text) else { return nil }
        self = value
    }
}
