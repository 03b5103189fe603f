import Foundation
import Hummingbird
import Logging
import Metrics
import Synchronization

/// Records every request once it is answered: an observation of
/// `carbonledger_http_request_duration_seconds`, and one log line (peer uid, method,
/// route, status, duration) at `debug`, or at `notice` for a request that took a
/// second or more and at `warning` for a 5xx answer: at the default level the log
/// costs a write per unusual request, not per request.
/// The route is the pattern that matched (`/v1/consumers/{id}`), never the raw path,
/// so ids stay out of the metrics and the log and the label set stays small.
struct RequestRecorder: RouterMiddleware {
    typealias Context = DaemonContext
    let logger: Logger
    private let timers = Timers()

    init(logger: Logger) {
        self.logger = logger
    }

    func handle(_ request: Request, context: DaemonContext, next: (Request, DaemonContext) async throws -> Response) async throws -> Response {
        let started = ContinuousClock.now
        do {
            let response = try await next(request, context)
            // Measured when the answer is ready: wrapping the body to time its writing would
            // cost every in-memory answer Hummingbird's single-write path; only a streamed
            // body (a backup) is written after this point.
            record(request, context, status: response.status.code, since: started)
            return response
        } catch {
            record(request, context, status: (error as? any HTTPResponseError)?.status.code ?? 500, since: started)
            throw error
        }
    }

    private func record(_ request: Request, _ context: DaemonContext, status: Int, since started: ContinuousClock.Instant) {
        let elapsed = ContinuousClock.now - started
        // Unmatched paths share one label: a scanner must not grow the label set.
        let route = context.endpointPath ?? "unmatched"
        let method = request.method.rawValue
        timer(TimerKey(method: method, route: route, status: status)).record(duration: elapsed)
        let level: Logger.Level = status >= 500 ? .warning : elapsed >= .seconds(1) ? .notice : .debug
        let milliseconds = Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15
        logger.log(level: level, "request", metadata: [
            "uid": context.peer.map { .stringConvertible($0.uid) } ?? "unknown",
            "method": .string(method),
            "route": .string(route),
            "status": .stringConvertible(status),
            "duration_ms": .string(String(format: "%.3f", milliseconds)),
        ])
    }

    private struct TimerKey: Hashable {
        var method: String
        var route: String
        var status: Int
    }

    /// One histogram per label set, made once (a factory lookup per request would take the registry's lock).
    private final class Timers: Sendable {
        let table = Mutex<[TimerKey: Metrics.Timer]>([:])
    }

    private func timer(_ key: TimerKey) -> Metrics.Timer {
        timers.table.withLock { timers in
            if let timer = timers[key] { return timer }
            let timer = Metrics.Timer(
                label: DaemonMetrics.requestDuration,
                dimensions: [("method", key.method), ("route", key.route), ("status", String(key.status))])
            timers[key] = timer
            return timer
        }
    }
}
