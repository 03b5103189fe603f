import CarbonAPI
import CarbonConfig
import CarbonLedger
import CarbonModel
import CarbonStore
import Hummingbird

/// `POST /v1/certificates`: granular certificates, one `certificate` entry each.
struct CertificateRoutes {
    let store: CarbonStore
    let limits: LimitsInForce

    func register(on router: Router<DaemonContext>) {
        router.post("/v1/certificates") { request, context in
            let authorization = try context.require(.utility, .admin)
            let contentType = (request.headers[.contentType] ?? "").lowercased()
            guard contentType.hasPrefix("application/json") || contentType.hasPrefix("application/x-ndjson") else {
                throw Problem(.unsupportedMediaType, "unsupported-media-type",
                              "send certificates as application/json or application/x-ndjson, not \"\(contentType)\"")
            }
            let body = try await BodyReader.collect(request, limits: limits.current)
            let records = try Self.records(body, ndjson: contentType.hasPrefix("application/x-ndjson"), limit: limits.current.maxRecordsPerBatch)
            var batch = CertificateBatch(
                submitter: Submitter(utility: authorization.role == .utility ? authorization.utility : nil),
                certificates: [], recordIndex: [], parseErrors: [])
            for (index, record) in records.enumerated() {
                switch Self.certificate(record, index: index) {
                case .success(let certificate):
                    batch.certificates.append(certificate)
                    batch.recordIndex.append(index)
                case .failure(let error):
                    batch.parseErrors.append(error)
                }
            }
            switch try await store.writer.submit(.certificates(batch)) {
            case .committed(let result):
                return try JSONResponse.encode(IngestAnswer(result))
            case .rejected(let kind, let errors):
                let detail = "\(Set(errors.map(\.index)).count) of \(records.count) certificates were refused, so none was stored"
                throw Problem.refused(kind, detail, errors: errors)
            }
        }
    }

    /// The body's objects: a JSON array (or one object), or NDJSON lines; past `limit`
    /// records the body is refused before the rest is parsed.
    private static func records(_ body: ByteBuffer, ndjson: Bool, limit: Int) throws -> [JSONValue] {
        do {
            return try body.withUnsafeReadableBytes { bytes throws(JSONRecordsError) in
                try JSONValue.records(bytes, ndjson: ndjson, maxRecords: limit)
            }
        } catch .tooManyRecords(let limit) {
            throw Problem(.contentTooLarge, "too-many-records", "more than \(limit) certificates (limits.max_records_per_batch)")
        } catch .malformed(let error) {
            throw Problem(.badRequest, "malformed-body", "the body is not valid JSON: \(error)")
        }
    }

    /// One certificate, or the first problem of the record (each problem named in the message).
    private static func certificate(_ value: JSONValue, index: Int) -> Result<Certificate, RecordError> {
        guard case .object(let fields) = value else {
            return .failure(RecordError(index: index, field: "", message: "a certificate is a JSON object"))
        }
        var problems: [(String, String)] = []
        let known: Set<String> = ["id", "consumer", "start", "end", "wh", "technology", "issuer"]
        for name in fields.keys.sorted() where !known.contains(name) { problems.append((name, "unknown field \"\(name)\"")) }
        func text(_ name: String, rule: (String) -> String?) -> String {
            guard case .string(let value)? = fields[name] else {
                problems.append((name, "\(name) must be a string"))
                return ""
            }
            if let problem = rule(value) {
                problems.append((name, "\(name) \(problem)"))
                return ""
            }
            return value
        }
        // Certificate windows cover the readings they match, so they share the readings' span.
        let window = ReadingParser.startRange.lowerBound...ReadingParser.startRange.upperBound
        func instant(_ name: String) -> Int64 {
            let parsed: Int64? =
                switch fields[name] {
                case .int(let value)?: value
                case .string(let value)?: Timestamp.parse(value)
                default: nil
                }
            guard let parsed, window.contains(parsed) else {
                problems.append((
                    name, "\(name) must be Unix seconds or RFC 3339 with an offset, from "
                        + "\(Timestamp.format(window.lowerBound)) to \(Timestamp.format(window.upperBound))"))
                return 0
            }
            return parsed
        }
        let id = text("id", rule: Identifier.nameProblem)
        let consumer = text("consumer", rule: Identifier.nameProblem)
        let start = instant("start")
        let end = instant("end")
        if problems.allSatisfy({ $0.0 != "start" && $0.0 != "end" }), end <= start {
            problems.append(("end", "end must be after start"))
        }
        var wh: Int64 = 0
        if case .int(let value)? = fields["wh"], (1...1_000_000_000_000).contains(value) {
            wh = value
        } else {
            problems.append(("wh", "wh must be an integer from 1 to 1000000000000"))
        }
        let technology = text("technology", rule: Identifier.referenceProblem)
        let issuer = text("issuer", rule: Identifier.referenceProblem)
        guard problems.isEmpty else {
            return .failure(RecordError(index: index, field: problems[0].0, message: problems.map(\.1).joined(separator: "; ")))
        }
        return .success(Certificate(
            id: id, consumer: consumer, start: start, end: end, wh: wh, technology: technology, issuer: issuer))
    }
}
