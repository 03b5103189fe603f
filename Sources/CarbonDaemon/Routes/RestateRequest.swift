import CarbonModel
import Foundation
import Hummingbird

/// The body of `POST /v1/periods/{period}/restate`: `{"reason": "..."}`.
enum RestateRequest {
    /// The longest body taken: a reason of 200 characters, escaped, with room to spare.
    static let maximumBytes = 4_096

    /// The reason the body gives: 1 to 200 characters without control characters.
    static func reason(of request: Request, context: DaemonContext) async throws -> String {
        let body: ByteBuffer
        do {
            body = try await request.body.collect(upTo: maximumBytes)
        } catch {
            throw Problem(.contentTooLarge, "body-too-large", "the body must be at most \(maximumBytes) bytes")
        }
        let shape = "the body must be {\"reason\": \"...\"}, the reason 1 to \(CorrectionParser.maximumReasonCharacters) characters"
        guard let value = try? JSONValue.parse(Array(buffer: body)), let fields = value.objectValue,
            fields.count == 1, let reason = fields["reason"]?.stringValue
        else { throw Problem(.badRequest, "bad-body", shape) }
        if let problem = CorrectionParser.reasonProblem(reason) {
            throw Problem(.unprocessableContent, "invalid-reason", problem)
        }
        return reason
    }
}
