import CarbonAPI
import CarbonConfig
import CarbonLedger
import CarbonModel
import CarbonStore
import Hummingbird

/// `POST /v1/readings` and `POST /v1/consumers`: bulk bodies in, ledger entries out.
struct IngestRoutes {
    let store: CarbonStore
    let limits: LimitsInForce

    func register(on router: Router<DaemonContext>) {
        router.post("/v1/readings") { request, context in try await postReadings(request, context) }
        router.post("/v1/consumers") { request, context in try await postConsumers(request, context) }
    }

    private func postReadings(_ request: Request, _ context: DaemonContext) async throws -> Response {
        let authorization = try context.require(.utility, .admin)
        let format = try bodyFormat(request)
        let batchID = try batchID(request)
        let limits = limits.current
        let body = try await BodyReader.collect(request, limits: limits)
        let submitter = Submitter(utility: authorization.role == .utility ? authorization.utility : nil)
        let partial = request.uri.queryParameters["partial"] == "true"
        let correct = request.uri.queryParameters["correct"]
        guard correct == nil || correct == "true" || correct == "false" else {
            throw Problem.badParameter("correct", "must be true or false, got \"\(correct!)\"")
        }
        if correct == "true" {
            let parsed: ParsedBatch<ReadingCorrection>
            do {
                parsed = try body.withUnsafeReadableBytes {
                    try CorrectionParser.parse($0, format: format, maxRecords: limits.maxRecordsPerBatch)
                }
            } catch {
                throw Problem(bodyError: error)
            }
            let batch = CorrectionBatch(
                submitter: submitter, batchID: batchID, partial: partial, corrections: parsed.records,
                recordIndex: parsed.recordIndex, parseErrors: parsed.errors)
            return try answer(await store.writer.submit(.corrections(batch)), records: parsed.count, noun: "corrections")
        }
        let parsed: ParsedBatch<Reading>
        do {
            parsed = try body.withUnsafeReadableBytes {
                try ReadingParser.parse($0, format: format, maxRecords: limits.maxRecordsPerBatch)
            }
        } catch {
            throw Problem(bodyError: error)
        }
        let batch = ReadingBatch(
            submitter: submitter, batchID: batchID, partial: partial,
            hashed: HashedReadings(readings: parsed.records, recordIndex: parsed.recordIndex),
            parseErrors: parsed.errors)
        return try answer(await store.writer.submit(.readings(batch)), records: parsed.count, noun: "readings")
    }

    private func postConsumers(_ request: Request, _ context: DaemonContext) async throws -> Response {
        let authorization = try context.require(.utility, .admin)
        let format = try bodyFormat(request)
        let limits = limits.current
        let body = try await BodyReader.collect(request, limits: limits)
        let parsed: ParsedBatch<Consumer>
        do {
            parsed = try body.withUnsafeReadableBytes {
                try ConsumerParser.parse($0, format: format, maxRecords: limits.maxRecordsPerBatch)
            }
        } catch {
            throw Problem(bodyError: error)
        }
        let batch = ConsumerBatch(
            submitter: Submitter(utility: authorization.role == .utility ? authorization.utility : nil),
            partial: request.uri.queryParameters["partial"] == "true",
            consumers: parsed.records, recordIndex: parsed.recordIndex, parseErrors: parsed.errors)
        return try answer(await store.writer.submit(.consumers(batch)), records: parsed.count, noun: "consumers")
    }

    private func answer(_ outcome: BatchOutcome, records: Int, noun: String) throws -> Response {
        switch outcome {
        case .committed(let result):
            return try JSONResponse.encode(IngestAnswer(result))
        case .rejected(let kind, let errors):
            let bad = Set(errors.map(\.index)).count
            let detail = "\(bad) of \(records) \(noun) were refused, so none was stored (send ?partial=true to store the rest)"
            throw Problem.refused(kind, detail, errors: errors)
        }
    }

    private func bodyFormat(_ request: Request) throws -> BodyFormat {
        let contentType = request.headers[.contentType] ?? ""
        guard let format = BodyFormat(contentType: contentType) else {
            throw Problem(
                .unsupportedMediaType, "unsupported-media-type",
                "Content-Type \"\(contentType)\" is not supported; send application/json, application/x-ndjson or text/csv")
        }
        return format
    }

    private func batchID(_ request: Request) throws -> String? {
        guard let id = request.headers[.init("Batch-Id")!] ?? request.uri.queryParameters["batch"].map(String.init) else {
            return nil
        }
        guard (1...128).contains(id.utf8.count), id.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value < 0x7f }) else {
            throw Problem.badParameter("batch", "a batch id is 1 to 128 printable ASCII characters without spaces")
        }
        return id
    }
}

extension Problem {
    /// A body that cannot be read as a whole.
    init(bodyError error: any Error) {
        switch error {
        case BodyError.tooManyRecords(let limit):
            self.init(.contentTooLarge, "too-many-records", "the body has more than \(limit) records (limits.max_records_per_batch)")
        default:
            self.init(.badRequest, "malformed-body", "\(error)")
        }
    }
}
