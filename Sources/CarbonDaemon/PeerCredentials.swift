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

/// The open connections and the kernel credentials of each peer, read once
/// per connection (SO_PEERCRED) when it is accepted.
final class Connections: Sendable {
    /// One process-wide table: a request context can only reach it statically.
    static let shared = Connections()

    private struct Entry {
        var peer: PeerCredentials?
        var overLimit: Bool
        /// The grant decided for this connection, and under which grants generation.
        var authorization: Authorization?
        var generation = -1
    }

    private let table = Mutex<[ObjectIdentifier: Entry]>([:])
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
            table[id] = Entry(peer: peer, overLimit: table.count >= maximum)
        }
    }

    func closed(_ channel: any Channel) {
        _ = table.withLock { $0.removeValue(forKey: ObjectIdentifier(channel)) }
    }

    /// The connection's grant, decided once per connection and again after a reload
    /// (`generation` changes), so group membership is looked up when a peer connects.
    func authorization(
        of channel: ObjectIdentifier, generation: Int, decide: (PeerCredentials) -> Authorization?
    ) -> Authorization? {
        let known = table.withLock { table -> (peer: PeerCredentials?, cached: Authorization??) in
            guard let entry = table[channel] else { return (nil, nil) }
            return (entry.peer, entry.generation == generation ? .some(entry.authorization) : nil)
        }
        if let cached = known.cached { return cached }
        guard let peer = known.peer else { return nil }
        // Name-service lookups may block (LDAP): never under the lock every connection takes.
        let authorization = decide(peer)
        table.withLock { table in
            table[channel]?.authorization = authorization
            table[channel]?.generation = generation
        }
        return authorization
    }

    /// The peer of `channel` and whether it was accepted past the connection limit.
    func peer(of channel: any Channel) -> (peer: PeerCredentials?, overLimit: Bool) {
        table.withLock { table in
            guard let entry = table[ObjectIdentifier(channel)] else { return (nil, false) }
            return (entry.peer, entry.overLimit)
        }
    }
}

/// Reads the peer's credentials when a connection opens and forgets them when it closes.
final class PeerCredentialsHandler: ChannelInboundHandler, RemovableChannelHandler, Sendable {
    typealias InboundIn = NIOAny

    func handlerAdded(context: ChannelHandlerContext) {
        guard context.channel.isActive else { return }
        register(context.channel)
    }

    func channelActive(context: ChannelHandlerContext) {
        register(context.channel)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        Connections.shared.closed(context.channel)
        context.fireChannelInactive()
    }

    private func register(_ channel: any Channel) {
        guard let provider = channel as? any SocketOptionProvider else {
            Connections.shared.opened(channel, peer: nil)
            return
        }
        let future: EventLoopFuture<UCred> = provider.unsafeGetSocketOption(
            level: NIOBSDSocket.OptionLevel(rawValue: SOL_SOCKET),
            name: NIOBSDSocket.Option(rawValue: SO_PEERCRED))
        // On the channel's own event loop the option is read synchronously, before any request.
        future.whenComplete { result in
            let peer = (try? result.get()).map { PeerCredentials(uid: $0.uid, gid: $0.gid, pid: $0.pid) }
            Connections.shared.opened(channel, peer: peer)
        }
    }
}
