import CarbonConfig
import Hummingbird
import NIOCore
import Synchronization

/// The limits in force, replaceable on reload.
final class LimitsInForce: Sendable {
    private let limits: Mutex<Config.Limits>

    init(_ limits: Config.Limits) { self.limits = Mutex(limits) }

    var current: Config.Limits { limits.withLock { $0 } }

    func replace(_ new: Config.Limits) { limits.withLock { $0 = new } }
}

/// Reads a request body within the configured size and time limits.
enum BodyReader {
    /// The whole body; 413 past `max_body_bytes` (checked on Content-Length before
    /// reading anything), 408 when the client takes longer than `request_timeout`.
    static func collect(_ request: Request, limits: Config.Limits) async throws -> ByteBuffer {
        if let declared = request.headers[.contentLength].flatMap({ Int($0) }), declared > limits.maxBodyBytes {
            throw tooLarge(limits)
        }
        let body = request.body
        let maximum = limits.maxBodyBytes
        return try await withThrowingTaskGroup(of: ByteBuffer?.self) { group in
            group.addTask {
                do {
                    return try await body.collect(upTo: maximum)
                } catch is NIOTooManyBytesError {
                    throw tooLarge(limits)
                } catch {
                    // The client sent a body that ends early or is not valid HTTP framing.
                    throw Problem(.badRequest, "malformed-body", "the request body could not be read: \(error)")
                }
            }
            group.addTask {
                try await Task.sleep(for: limits.requestTimeout.duration)
                return nil
            }
            defer { group.cancelAll() }
            guard let first = try await group.next(), let buffer = first else {
                throw Problem(
                    .requestTimeout, "request-timeout",
                    "the request body did not arrive within \(limits.requestTimeout) (limits.request_timeout)")
            }
            return buffer
        }
    }

    private static func tooLarge(_ limits: Config.Limits) -> Problem {
        Problem(.contentTooLarge, "body-too-large", "the body exceeds \(limits.maxBodyBytes) bytes (limits.max_body_bytes)")
    }
}
