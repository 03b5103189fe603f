/// A connecting process as the kernel reports it (SO_PEERCRED), never as it claims to be.
public struct PeerCredentials: Sendable, Hashable {
    /// The peer's effective user id.
    public var uid: UInt32
    /// The peer's effective group id.
    public var gid: UInt32
    /// The peer's process id (for logs; never for decisions).
    public var pid: Int32

    /// Credentials as `getsockopt(SO_PEERCRED)` gives them.
    public init(uid: UInt32, gid: UInt32, pid: Int32) {
        self.uid = uid
        self.gid = gid
        self.pid = pid
    }
}

/// What a peer may do: the role of the first grant that matched it, with its bindings.
public struct Authorization: Sendable, Equatable {
    /// The role given.
    public var role: Role
    /// The utility a `utility` peer acts for; `nil` for other roles.
    public var utility: String?
    /// The consumers a `consumer` peer may read; empty for other roles.
    public var consumers: Set<String>
    /// Index of the grant in `[[access.grant]]` (0-based, as in `access.grant[N]` errors).
    public var grantIndex: Int

    /// An authorization (normally made by `Access.authorize`).
    public init(role: Role, utility: String?, consumers: Set<String>, grantIndex: Int) {
        self.role = role
        self.utility = utility
        self.consumers = consumers
        self.grantIndex = grantIndex
    }
}

/// Decides a peer's role from the grants: the first grant that matches wins,
/// none means 403. Root is nothing special: it is admin only if a grant says so.
public struct Access: Sendable {
    /// The grants, in file order.
    public let grants: [Grant]
    /// The uid the daemon runs as, matched by `self = true`.
    public let daemonUID: UInt32
    private let resolver: any IdentityResolver

    /// Access by `grants` (in file order) for a daemon running as `daemonUID`.
    public init(grants: [Grant], daemonUID: UInt32, resolver: some IdentityResolver) {
        self.grants = grants
        self.daemonUID = daemonUID
        self.resolver = resolver
    }

    /// The peer's authorization, or `nil` when no grant matches (answer 403).
    ///
    /// Name lookups happen only when a grant needs them, and at most once each.
    public func authorize(_ peer: PeerCredentials) -> Authorization? {
        var lookups = PeerLookups(peer: peer, resolver: resolver)
        for (index, grant) in grants.enumerated() where matches(grant.matcher, peer, &lookups) {
            return Authorization(
                role: grant.role, utility: grant.utility,
                consumers: Set(grant.consumers), grantIndex: index
            )
        }
        return nil
    }

    private func matches(_ matcher: Grant.Matcher, _ peer: PeerCredentials, _ lookups: inout PeerLookups) -> Bool {
        switch matcher {
        case .uid(let uid): return peer.uid == uid
        case .daemonUser: return peer.uid == daemonUID
        case .user(let name): return lookups.userName() == name
        case .gid(let gid): return lookups.isMember(of: gid)
        case .group(let name):
            guard let gid = resolver.groupID(name: name) else { return false }
            return lookups.isMember(of: gid)
        }
    }
}

/// The name-service facts about one peer, looked up lazily and kept for one decision.
private struct PeerLookups {
    let peer: PeerCredentials
    let resolver: any IdentityResolver
    private var name: String??
    private var groups: Set<UInt32>?

    init(peer: PeerCredentials, resolver: any IdentityResolver) {
        self.peer = peer
        self.resolver = resolver
    }

    mutating func userName() -> String? {
        if let name { return name }
        let found = resolver.userName(uid: peer.uid)
        name = .some(found)
        return found
    }

    /// Whether `gid` is the peer's gid or a supplementary group of the peer's user.
    mutating func isMember(of gid: UInt32) -> Bool {
        if peer.gid == gid { return true }
        if groups == nil {
            groups = Set(resolver.supplementaryGroups(uid: peer.uid, primaryGID: peer.gid))
        }
        return groups!.contains(gid)
    }
}
