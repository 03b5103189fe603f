import CarbonConfig
import Hummingbird
import Synchronization

/// The grants in force, replaceable on reload. Each connection's grant is decided
/// once, when its first request arrives, and again after a reload.
final class AccessControl: Sendable {
    private let state: Mutex<(access: Access, generation: Int)>

    init(_ access: Access) {
        state = Mutex((access, 0))
    }

    /// Puts new grants in force for every later request.
    func replace(_ access: Access) {
        state.withLock { $0 = (access, $0.generation + 1) }
    }

    /// The grant of `connection`.
    func authorize(_ connection: PeerConnection) -> Authorization? {
        let (access, generation) = state.withLock { $0 }
        return connection.authorization(generation: generation, decide: access.authorize)
    }
}

/// Refuses connections past the limit and attaches the peer's grant to the request.
struct AccessMiddleware: RouterMiddleware {
    typealias Context = DaemonContext
    let control: AccessControl

    func handle(_ request: Request, context: DaemonContext, next: (Request, DaemonContext) async throws -> Response) async throws -> Response {
        guard !context.overLimit else {
            // Closed after the answer: a reconnection is counted again, and may be served.
            throw Problem(
                .serviceUnavailable, "too-many-connections",
                "the daemon serves its maximum number of connections (limits.max_connections); retry later",
                retryAfter: 1, closesConnection: true)
        }
        var context = context
        context.authorization = control.authorize(context.connection)
        return try await next(request, context)
    }
}
