import CarbonConfig
import NIOCore
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// The layout of Linux's `struct ucred`, which Glibc does not export to Swift.
struct UCred: Sendable {
    var pid: Int32 = 0
    var uid: UInt32 = 0
    var gid: UInt32 = 0
}

/// One connection as the daemon knows it: the peer's kernel credentials (read once,
/// when it was accepted), whether it came past `limits.max_connections`, and the
/// grant decided for it. A request's context gets it from the server, or a test
/// makes one for any credentials.
public final class PeerConnection: Sendable {
    /// The peer's kernel credentials (nil only if the socket could not say).
    public let peer: PeerCredentials?
    /// The connection was accepted past `limits.max_connections`.
    let overLimit: Bool
    /// The grant decided for this connection, and under which grants generation.
    private let grant = Mutex<(authorization: Authorization?, generation: Int)>((nil, -1))

    public init(peer: PeerCredentials?, overLimit: Bool = false) {
        self.peer = peer
        self.overLimit = overLimit
    }

    /// The connection's grant, decided once per connection and again after a reload
    /// (`generation` changes), so group membership is looked up when a peer connects.
    func authorization(generation: Int, decide: (PeerCredentials) -> Authorization?) -> Authorization? {
        let cached = grant.withLock { $0.generation == generation ? Optional.some($0.authorization) : nil }
        if let cached { return cached }
        guard let peer else { return nil }
        // Name-service lookups may block (LDAP): never under a lock.
        let authorization = decide(peer)
        grant.withLock { $0 = (authorization, generation) }
        return authorization
    }
}

/// The open connections of one server, by channel.
final class Connections: Sendable {
    private let table = Mutex<[ObjectIdentifier: PeerConnection]>([:])
    private let limit = Atomic<Int>(Int.max)

    /// The number of open connections.
    var count: Int { table.withLock { $0.count } }

    /// Sets the most connections served at once; later ones get 503.
    func setLimit(_ maximum: Int) { limit.store(maximum, ordering: .relaxed) }

    func opened(_ channel: any Channel, peer: PeerCredentials?) {
        let maximum = limit.load(ordering: .relaxed)
        table.withLock { table in
            let id = ObjectIdentifier(channel)
            guard table[id] == nil else { return }
            table[id] = PeerConnection(peer: peer, overLimit: table.count >= maximum)
        }
    }

    func closed(_ channel: any Channel) {
        _ = table.withLock { $0.removeValue(forKey: ObjectIdentifier(channel)) }
    }

    /// The connection `channel` is, or one of unknown credentials if it was never registered.
    func connection(of channel: any Channel) -> PeerConnection {
        table.withLock { $0[ObjectIdentifier(channel)] } ?? PeerConnection(peer: nil)
    }
}

/// Reads the peer's credentials when a connection opens and forgets them when it closes.
final class PeerCredentialsHandler: ChannelInboundHandler, RemovableChannelHandler, Sendable {
    typealias InboundIn = NIOAny
    let connections: Connections

    init(connections: Connections) {
        self.connections = connections
    }

    func handlerAdded(context: ChannelHandlerContext) {
        guard context.channel.isActive else { return }
        register(context.channel)
    }

    func channelActive(context: ChannelHandlerContext) {
        register(context.channel)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        connections.closed(context.channel)
        context.fireChannelInactive()
    }

    private func register(_ channel: any Channel) {
        guard let provider = channel as? any SocketOptionProvider else {
            connections.opened(channel, peer: nil)
            return
        }
        let future: EventLoopFuture<UCred> = provider.unsafeGetSocketOption(
            level: NIOBSDSocket.OptionLevel(rawValue: SOL_SOCKET),
            name: NIOBSDSocket.Option(rawValue: SO_PEERCRED))
        // On the channel's own event loop the option is read synchronously, before any request.
        future.whenComplete { [connections] result in
            let peer = (try? result.get()).map { PeerCredentials(uid: $0.uid, gid: $0.gid, pid: $0.pid) }
            connections.opened(channel, peer: peer)
        }
    }
}
