#if canImport(Glibc)
import Glibc
#endif

/// A connected stream socket, `AF_UNIX` (the daemon) or TCP (a witness), closed when released.
final class UnixSocketConnection {
    private let fd: Int32

    /// Connects to TCP `host`:`port` (the first address that accepts); `timeout`
    /// bounds every single send and receive.
    init(host: String, port: Int, timeout: Duration?) throws {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var found: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(host, String(port), &hints, &found)
        guard status == 0, let first = found else {
            throw ClientError.cannotConnect(path: "\(host):\(port)", errno: status == EAI_SYSTEM ? errno : EHOSTUNREACH)
        }
        defer { freeaddrinfo(first) }
        var lastError = ECONNREFUSED
        var candidate: UnsafeMutablePointer<addrinfo>? = first
        while let address = candidate {
            candidate = address.pointee.ai_next
            let fd = socket(address.pointee.ai_family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
            guard fd >= 0 else { lastError = errno; continue }
            var result: Int32
            repeat { result = connect(fd, address.pointee.ai_addr, address.pointee.ai_addrlen) } while result != 0 && errno == EINTR
            if result == 0 {
                self.fd = fd
                if let timeout { setTimeout(timeout) }
                return
            }
            lastError = errno
            close(fd)
        }
        throw ClientError.cannotConnect(path: "\(host):\(port)", errno: lastError)
    }

    /// Connects to `path`; `timeout` bounds every single send and receive.
    init(path: String, timeout: Duration?) throws {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let pathBytes = Array(path.utf8)
        let capacity = MemoryLayout.size(ofValue: address.sun_path)
        guard !pathBytes.isEmpty, pathBytes.count < capacity, !pathBytes.contains(0) else {
            throw ClientError.socketPathTooLong(path: path)
        }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: pathBytes)
        }

        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw ClientError.io(operation: "socket", errno: errno) }
        var status: Int32
        repeat {
            status = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
                }
            }
        } while status != 0 && errno == EINTR
        guard status == 0 else {
            let code = errno
            close(fd)
            throw ClientError.cannotConnect(path: path, errno: code)
        }
        self.fd = fd
        if let timeout { setTimeout(timeout) }
    }

    deinit {
        close(fd)
    }

    private func setTimeout(_ timeout: Duration) {
        let (seconds, attoseconds) = timeout.components
        var value = timeval(tv_sec: Int(max(0, seconds)), tv_usec: Int(attoseconds / 1_000_000_000_000))
        if value.tv_sec == 0 && value.tv_usec == 0 { value.tv_usec = 1 }  // 0 would mean "no timeout"
        for option in [SO_RCVTIMEO, SO_SNDTIMEO] {
            _ = setsockopt(fd, SOL_SOCKET, option, &value, socklen_t(MemoryLayout<timeval>.size))
        }
    }

    /// Sends all of `bytes`; a peer that has gone away surfaces as `PeerGone`.
    func send(_ bytes: UnsafeRawBufferPointer) throws {
        var offset = 0
        while offset < bytes.count {
            let sent = Glibc.send(fd, bytes.baseAddress! + offset, bytes.count - offset, Int32(MSG_NOSIGNAL))
            if sent >= 0 {
                offset += sent
                continue
            }
            switch errno {
            case EINTR: continue
            case EPIPE, ECONNRESET: throw PeerGone()
            case EAGAIN, EWOULDBLOCK: throw ClientError.timedOut
            case let code: throw ClientError.io(operation: "send", errno: code)
            }
        }
    }

    /// Receives up to `buffer.count` bytes; 0 means the peer closed its side.
    func receive(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        while true {
            let count = recv(fd, buffer.baseAddress, buffer.count, 0)
            if count >= 0 { return count }
            switch errno {
            case EINTR: continue
            case ECONNRESET: throw PeerGone()
            case EAGAIN, EWOULDBLOCK: throw ClientError.timedOut
            case let code: throw ClientError.io(operation: "receive", errno: code)
            }
        }
    }

    /// Whether an idle kept-alive connection is no longer fit for a request: the
    /// peer closed it, reset it, or sent something unasked (a 408 before closing).
    var isStale: Bool {
        var entry = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        return poll(&entry, 1, 0) != 0
    }
}

/// The peer closed or reset the connection (EOF, EPIPE, ECONNRESET).
struct PeerGone: Error {}
