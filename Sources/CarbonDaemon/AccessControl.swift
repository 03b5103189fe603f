import CarbonConfig
import Hummingbird
import Synchronization

/// The grants in force, replaceable on reload, with each peer's answer cached
/// (resolving user and group names reads the system databases).
final class AccessControl: Sendable {
    private struct State {
        var access: Access
        var answers: [PeerKey: Authorization?] = [:]
    }

    private struct PeerKey: Hashable {
        var uid: UInt32
        var gid: UInt32
    }

    private let state: Mutex<State>

    init(_ access: Access) {
        state = Mutex(State(access: access))
    }

    /// Puts new grants in force for every later request.
    func replace(_ access: Access) {
        state.withLock { $0 = State(access: access) }
    }

    func authorize(_ peer: PeerCredentials) -> Authorization? {
        let key = PeerKey(uid: peer.uid, gid: peer.gid)
        // Resolved under the lock so an answer never outlives a reload.
        return state.withLock { state in
            if let cached = state.answers[key] { return cached }
            let answer = state.access.authorize(peer)
            state.answers[key] = .some(answer)
            return answer
        }
    }
}

/// Refuses connections past the limit and attaches the peer's grant to the request.
struct AccessMiddleware: RouterMiddleware {
    typealias Context = DaemonContext
    let control: AccessControl

    func handle(_ request: Request, context: DaemonContext, next: (Request, DaemonContext) async throws -> Response) async throws -> Response {
        guard !context.overLimit else {
            throw Problem(.serviceUnavailable, "too-many-connections", "the daemon serves its maximum number of connections; retry later")
        }
        var context = context
        context.authorization = context.peer.flatMap(control.authorize)
        return try await next(request, context)
    }
}
