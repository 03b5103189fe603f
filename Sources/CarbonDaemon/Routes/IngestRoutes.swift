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

    /// What a readings body is: one of the bulk formats, or a Green Button feed with
    /// the ids (and, for corrections, the reason) the query gives it.
    private enum ReadingsBody {
        case bulk(BodyFormat)
        case greenButton(GreenButtonTarget, reason: String?)
    }

    private func postReadings(_ request: Request, _ context: DaemonContext) async throws -> Response {
        let authorization = try context.require(.utility, .admin)
        let submitter = Submitter(utility: authorization.role == .utility ? authorization.utility : nil)
        let query = request.uri.queryParameters
        let correct = try flag(query, "correct")
        let partial = try flag(query, "partial")
        let batchID = try batchID(request)
        let kind: ReadingsBody =
            Self.isGreenButton(request.headers[.contentType] ?? "")
            ? .greenButton(try greenButtonTarget(query, submitter: submitter), reason: correct ? try reason(query) : nil)
            : .bulk(try bodyFormat(request))
        let limits = limits.current
        let body = try await BodyReader.collect(request, limits: limits)
        let maxRecords = limits.maxRecordsPerBatch
        do {
            if correct {
                let parsed = try body.withUnsafeReadableBytes { bytes throws(BodyError) in
                    switch kind {
                    case .bulk(let format):
                        return try CorrectionParser.parse(bytes, format: format, maxRecords: maxRecords)
                    case .greenButton(let target, let reason):
                        let feed = try GreenButtonParser.parse(bytes, target: target, maxRecords: maxRecords)
                        return ParsedBatch(
                            records: feed.records.map { ReadingCorrection(reading: $0, reason: reason ?? "") },
                            recordIndex: feed.recordIndex, errors: feed.errors, count: feed.count)
                    }
                }
                let batch = CorrectionBatch(
                    submitter: submitter, batchID: batchID, partial: partial, corrections: parsed.records,
                    recordIndex: parsed.recordIndex, parseErrors: parsed.errors)
                return try answer(await store.writer.submit(.corrections(batch)), records: parsed.count, noun: "corrections")
            }
            let parsed = try body.withUnsafeReadableBytes { bytes throws(BodyError) in
                switch kind {
                case .bulk(let format): try ReadingParser.parse(bytes, format: format, maxRecords: maxRecords)
                case .greenButton(let target, _): try GreenButtonParser.parse(bytes, target: target, maxRecords: maxRecords)
                }
            }
            let batch = ReadingBatch(
                submitter: submitter, batchID: batchID, partial: partial,
                hashed: HashedReadings(readings: parsed.records, recordIndex: parsed.recordIndex),
                parseErrors: parsed.errors)
            return try answer(await store.writer.submit(.readings(batch)), records: parsed.count, noun: "readings")
        } catch let error as BodyError {
            throw Problem(bodyError: error)
        }
    }

    /// Whether a `Content-Type` is a Green Button (NAESB ESPI) feed: Atom XML, the
    /// media type ESPI names (generic XML is not taken as one).
    static func isGreenButton(_ contentType: String) -> Bool {
        let mediaType = contentType.split(separator: ";", maxSplits: 1).first ?? ""
        return mediaType.trimmingCharacters(in: .whitespaces).lowercased() == "application/atom+xml"
    }

    /// Whose readings a Green Button feed holds: `consumer` and `meter` from the query,
    /// `utility` the peer's own (an admin names it).
    private func greenButtonTarget(_ query: Parameters, submitter: Submitter) throws -> GreenButtonTarget {
        func required(_ name: String) throws -> String {
            guard let value = query[Substring(name)] else {
                throw Problem.badParameter(name, "is required with a Green Button feed (ESPI names no \(name))")
            }
            return String(value)
        }
        let utility: String
        if let own = submitter.utility {
            if let named = query["utility"], named != own {
                throw Problem(.forbidden, "forbidden", "this peer may only push readings of utility \"\(own)\"")
            }
            utility = own
        } else {
            utility = try required("utility")
        }
        let target = GreenButtonTarget(utility: utility, consumer: try required("consumer"), meter: try required("meter"))
        if let problem = target.problems.first {
            throw Problem.badParameter(String(problem.prefix { $0 != " " }), problem)
        }
        return target
    }

    /// The `reason` of a Green Button feed's corrections, from the query.
    private func reason(_ query: Parameters) throws -> String {
        guard let reason = query["reason"].map(String.init) else {
            throw Problem.badParameter(
                "reason",
                "corrections from a Green Button feed need reason=: estimated_to_actual, meter_fault, data_error or "
                    + "your own words, 1 to \(CorrectionParser.maximumReasonCharacters) characters")
        }
        if let problem = CorrectionParser.reasonProblem(reason) { throw Problem.badParameter("reason", problem) }
        return reason
    }

    /// A Boolean query parameter: absent is false.
    private func flag(_ query: Parameters, _ name: String) throws -> Bool {
        switch query[Substring(name)] {
        case nil, "false": return false
        case "true": return true
        case let other?: throw Problem.badParameter(name, "must be true or false, got \"\(other)\"")
        }
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
                "Content-Type \"\(contentType)\" is not supported; send application/json, application/x-ndjson or "
                    + "text/csv (readings also application/atom+xml, a Green Button feed)")
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
