import CarbonConfig
import Foundation
import Hummingbird
import Logging

/// Where a request context comes from: the connection the request arrived on (as
/// the server registered it when it was accepted) and the logger.
public struct DaemonContextSource: RequestContextSource, Sendable {
    public var connection: PeerConnection
    public var logger: Logger

    public init(connection: PeerConnection, logger: Logger) {
        self.connection = connection
        self.logger = logger
    }
}

/// What a request knows about who sent it.
public struct DaemonContext: RequestContext {
    public typealias Source = DaemonContextSource
    public var coreContext: CoreRequestContextStorage
    /// The connection the request came on.
    let connection: PeerConnection
    /// The grant the peer matched, set by `AccessMiddleware`; nil: no grant.
    public var authorization: Authorization?

    public init(source: DaemonContextSource) {
        coreContext = .init(source: source)
        connection = source.connection
    }

    /// The peer's kernel credentials (nil only if the socket could not say).
    public var peer: PeerCredentials? { connection.peer }

    /// The connection was accepted past `limits.max_connections`.
    var overLimit: Bool { connection.overLimit }

    /// The peer's grant if its role is one of `roles`, else a 403 problem.
    @discardableResult
    func require(_ roles: Role...) throws -> Authorization {
        guard let authorization else { throw Problem.noGrant(peer) }
        guard roles.contains(authorization.role) else {
            throw Problem(
                .forbidden, "forbidden",
                "role \(authorization.role.rawValue) may not do this (needs \(roles.map(\.rawValue).joined(separator: " or ")))")
        }
        return authorization
    }

    /// The peer's grant for any role but `metrics` (interface.md: "any granted peer").
    @discardableResult
    func requireGranted() throws -> Authorization {
        try require(.utility, .consumer, .reader, .auditor, .planner, .admin)
    }

    /// Whether the peer may read the figures of `consumer` (owned by `utility`).
    func mayRead(consumer: String, ofUtility utility: String) -> Bool {
        guard let authorization else { return false }
        switch authorization.role {
        case .admin, .auditor, .reader: return true
        case .utility: return authorization.utility == utility
        case .consumer: return authorization.consumers.contains(consumer)
        case .planner, .metrics: return false
        }
    }

    /// Whether the peer may read every consumer of `utility`, so that learning whether
    /// one exists tells it nothing it may not know.
    func mayReadEveryConsumer(ofUtility utility: String?) -> Bool {
        switch authorization?.role {
        case .admin?, .auditor?, .reader?: true
        case .utility?: utility != nil && authorization?.utility == utility
        default: false
        }
    }

    /// The answer for consumer data that this peer may not see or that does not exist:
    /// a 404 to a peer that may read every consumer of `utility`, otherwise one 403 for
    /// both, so that a peer cannot probe which ids exist.
    func unreadable(_ what: String, ofUtility utility: String?, missing: Bool) -> Problem {
        if missing && mayReadEveryConsumer(ofUtility: utility) { return Problem.notFound("no \(what)") }
        return Problem(.forbidden, "forbidden", "this peer may not read \(what) (not one of its own, or none exists)")
    }

    /// A path segment, percent-decoded (ids and RFC 3339 times may be escaped).
    func pathParameter(_ name: String) throws -> String {
        let raw = try parameters.require(name)
        guard let decoded = raw.removingPercentEncoding else { throw Problem.badParameter(name, "malformed percent-encoding") }
        return decoded
    }
}
