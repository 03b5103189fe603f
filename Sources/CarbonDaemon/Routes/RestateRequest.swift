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
        let scalars = reason.unicodeScalars
        guard !scalars.isEmpty, scalars.count <= CorrectionParser.maximumReasonCharacters,
            !scalars.contains(where: { $0.value < 0x20 || (0x7F...0x9F).contains($0.value) })
        else {
            throw Problem(.unprocessableContent, "invalid-reason", "reason: \(shape), without control characters")
        }
        return reason
    }
}
