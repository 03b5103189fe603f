import CarbonAPI
import CarbonConfig
import CarbonModel
import Foundation
import CarbonStore
import Hummingbird

/// An RFC 9457 problem: every error the daemon answers with.
struct Problem: HTTPResponseError, CustomStringConvertible {
    var status: HTTPResponse.Status
    /// A stable slug, published as `type` = `urn:carbonledger:problem:<slug>`.
    var slug: String
    var detail: String
    /// One element per bad record of a bulk body.
    var errors: [RecordError]
    /// Seconds after which the same request may succeed (`Retry-After`).
    var retryAfter: Int?
    /// The connection is closed once this answer is written (`Connection: close`).
    var closesConnection = false
    /// The methods the target takes (`Allow`, with 405).
    var allow: String?

    init(
        _ status: HTTPResponse.Status, _ slug: String, _ detail: String, errors: [RecordError] = [],
        retryAfter: Int? = nil, closesConnection: Bool = false
    ) {
        self.status = status
        self.slug = slug
        self.detail = detail
        self.errors = errors
        self.retryAfter = retryAfter
        self.closesConnection = closesConnection
    }

    /// A store that cannot take the request now: 507 for a full disk, else 503; both
    /// say that nothing was stored and when to try again.
    static func storeUnavailable(_ reason: StoreUnavailability) -> Problem {
        switch reason {
        case .diskFull:
            Problem(
                HTTPResponse.Status(code: 507, reasonPhrase: "Insufficient Storage"), "storage-full",
                "the disk holding the database is full; nothing of this request was stored: free space and send it again",
                retryAfter: 60)
        case .unavailable(let why):
            Problem(
                .serviceUnavailable, "store-unavailable", "nothing of this request was stored: \(why)", retryAfter: 5)
        }
    }

    var description: String { "\(status.code) \(slug): \(detail)" }

    static func noGrant(_ peer: PeerCredentials?) -> Problem {
        let who = peer.map { "uid \($0.uid), gid \($0.gid)" } ?? "an unidentified peer"
        // Nothing on this connection will be served: it is closed after the answer.
        return Problem(.forbidden, "no-grant", "no access grant matches \(who)", closesConnection: true)
    }

    static func badParameter(_ name: String, _ message: String) -> Problem {
        Problem(.badRequest, "bad-parameter", "\(name): \(message)")
    }

    /// A refused batch: 403, 422 or 409 by the worst of its records.
    static func refused(_ kind: RejectionKind, _ detail: String, errors: [RecordError]) -> Problem {
        switch kind {
        case .forbidden: Problem(.forbidden, "foreign-records", detail, errors: errors)
        case .invalid: Problem(.unprocessableContent, "invalid-records", detail, errors: errors)
        case .conflict: Problem(.conflict, "conflicting-records", detail, errors: errors)
        }
    }

    static func notFound(_ what: String) -> Problem {
        Problem(.notFound, "not-found", what)
    }

    /// A write sent to a daemon that only reads (`--read-only`): 405, naming the writer.
    static func readOnly(_ error: StoreError) -> Problem {
        var problem = Problem(.methodNotAllowed, "read-only", "\(error)")
        problem.allow = "GET, HEAD"
        return problem
    }

    func response(from request: Request, context: some RequestContext) throws -> Response {
        let body = ProblemAnswer(
            type: "urn:carbonledger:problem:\(slug)", title: status.reasonPhrase, status: status.code,
            detail: detail, errors: errors.isEmpty ? nil : errors)
        var response = try JSONResponse.encode(body, status: status)
        response.headers[.contentType] = "application/problem+json"
        if let retryAfter { response.headers[.retryAfter] = String(retryAfter) }
        if closesConnection { response.headers[.connection] = "close" }
        if let allow { response.headers[.allow] = allow }
        return response
    }
}

/// Turns every error into problem+json, including the framework's own (404, 413, ...).
struct ProblemMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let problem as Problem {
            throw problem
        } catch let error as HTTPResponseError {
            // Render the framework's errors with our body, keeping their status.
            let detail = (error as? HTTPError)?.body ?? "\(error)"
            throw Problem(error.status, "http-\(error.status.code)", detail)
        } catch let error as StoreError {
            switch error {
            case .readOnly: throw Problem.readOnly(error)
            case .notOnThisEngine:
                throw Problem(.notImplemented, "not-on-this-engine", "\(error)")
            default:
                if let reason = StoreUnavailability(error) {
                    context.logger.error("request refused, store unavailable: \(error)")
                    throw Problem.storeUnavailable(reason)
                }
                context.logger.error("request failed: \(error)")
                throw Problem(.internalServerError, "internal", "the daemon could not complete the request: \(error)")
            }
        } catch {
            if let reason = StoreUnavailability(error) {
                context.logger.error("request refused, store unavailable: \(error)")
                throw Problem.storeUnavailable(reason)
            }
            context.logger.error("request failed: \(error)")
            throw Problem(.internalServerError, "internal", "the daemon could not complete the request: \(error)")
        }
    }
}

/// JSON bodies for answers.
enum JSONResponse {
    static func encode(_ value: some Encodable, status: HTTPResponse.Status = .ok) throws -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let data = try encoder.encode(value)
        return Response(
            status: status, headers: [.contentType: "application/json"],
            body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}

/// On a daemon that only reads (`--read-only`), every request but a GET or HEAD is
/// refused with 405 before its body is read, naming where writes go.
struct ReadOnlyMiddleware<Context: RequestContext>: RouterMiddleware {
    /// Where writes go, for the refusal.
    let writer: String

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard request.method == .get || request.method == .head else {
            throw Problem.readOnly(StoreError.readOnly(writer))
        }
        return try await next(request, context)
    }
}
