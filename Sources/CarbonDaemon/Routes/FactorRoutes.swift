import CarbonAPI
import CarbonAccounting
import CarbonModel
import CarbonStore
import Foundation
import Hummingbird
import Synchronization

/// The factor datasets in force, replaced after each load.
final class FactorsInForce: Sendable {
    private let factorSet: Mutex<FactorSet>
    let calendar: TZifCalendar

    init(_ set: FactorSet, calendar: TZifCalendar) {
        self.factorSet = Mutex(set)
        self.calendar = calendar
    }

    var current: FactorSet { factorSet.withLock { $0 } }

    func replace(_ new: FactorSet) { factorSet.withLock { $0 = new } }
}

/// `GET /v1/factors`: which emission factor applies where and when, and why;
/// `POST /v1/factors`: load a dataset (admin), recorded as one `factors` entry.
struct FactorRoutes {
    let store: CarbonStore
    let factors: FactorsInForce
    let limits: LimitsInForce

    func register(on router: Router<DaemonContext>) {
        router.get("/v1/factors") { request, context in
            try context.requireGranted()
            return try lookup(request)
        }
        router.post("/v1/factors") { request, context in
            try context.require(.admin)
            return try await load(request)
        }
    }

    private func lookup(_ request: Request) throws -> Response {
        let factors = factors.current
        let query = request.uri.queryParameters
        guard let zone = query["zone"].map(String.init), !zone.isEmpty else {
            throw Problem.badParameter("zone", "is required")
        }
        guard factors.zoneTree.contains(zone) else { throw Problem.badParameter("zone", "unknown zone \"\(zone)\"") }
        guard let atText = query["at"].map(String.init), let at = Timestamp.parse(atText) else {
            throw Problem.badParameter("at", "is required: Unix seconds or RFC 3339 with an offset")
        }
        let kindText = query["kind"].map(String.init) ?? "average"
        guard let kind = FactorKind(rawValue: kindText) else {
            throw Problem.badParameter("kind", "must be average or residual, got \"\(kindText)\"")
        }
        guard let found = factors.resolve(kind: kind, zone: zone, at: at) else {
            throw Problem.notFound("no \(kind.rawValue) factor applies to \(zone) at \(Timestamp.format(at))")
        }
        let row = found.row
        return try JSONResponse.encode(FactorAnswer(
            zone: zone, at: Timestamp.format(at), kind: kind.rawValue, mg_per_kwh: found.mgPerKWh, dataset: found.dataset,
            row: FactorRowAnswer(
                zone: row.zone, kind: row.kind.rawValue, start: Timestamp.format(row.start), end: Timestamp.format(row.end),
                mg_per_kwh: row.mgPerKWh, source: row.source),
            path: found.path.map { FactorStepAnswer(zone: $0.zone, kind: $0.kind.rawValue, year: $0.year) },
            residual_fallback: found.residualFallback))
    }

    private func load(_ request: Request) async throws -> Response {
        let query = request.uri.queryParameters
        guard let name = query["dataset"].map(String.init),
            (1...64).contains(name.utf8.count),
            name.unicodeScalars.allSatisfy({ $0.isASCII && (CharacterSet.alphanumerics.contains($0) || "._-".unicodeScalars.contains($0)) })
        else {
            throw Problem.badParameter("dataset", "a dataset name of 1 to 64 letters, digits, '.', '_' or '-' is required")
        }
        let contentType = (request.headers[.contentType] ?? "").lowercased()
        let format: FactorFile.Format
        if contentType.hasPrefix("text/csv") {
            format = .csv
        } else if contentType.hasPrefix("application/x-ndjson") || contentType.hasPrefix("application/ndjson") {
            format = .ndjson
        } else {
            throw Problem(.unsupportedMediaType, "unsupported-media-type",
                          "send a factor dataset as text/csv or application/x-ndjson, not \"\(contentType)\"")
        }
        let body = try await BodyReader.collect(request, limits: limits.current)
        guard let text = body.getString(at: body.readerIndex, length: body.readableBytes), text.utf8.count == body.readableBytes
        else { throw Problem(.badRequest, "malformed-body", "the dataset is not UTF-8") }
        let inForce = factors.current
        var parsed = FactorFile.parse(
            text, format: format, dataset: name, electricityMapsZone: query["zone"].map(String.init), calendar: factors.calendar)
        for (row, index) in zip(parsed.rows, parsed.recordIndex) where !inForce.zoneTree.contains(row.zone) {
            parsed.errors.append(RecordError(index: index, field: "zone", message: "unknown zone \"\(row.zone)\""))
        }
        guard parsed.errors.isEmpty else {
            throw Problem(
                .unprocessableContent, "invalid-records", "the dataset was not loaded",
                errors: parsed.errors.sorted { $0.index < $1.index })
        }
        guard !parsed.rows.isEmpty else { throw Problem(.unprocessableContent, "invalid-records", "the dataset has no rows") }
        do {
            _ = try FactorSet(rows: inForce.rows + parsed.rows, zoneTree: inForce.zoneTree, calendar: factors.calendar)
        } catch {
            throw Problem(.unprocessableContent, "invalid-records", "\(error)")
        }
        let outcome = try await store.writer.submit(.factors(FactorDataset(name: name, rows: parsed.rows)))
        switch outcome {
        case .committed(let result):
            factors.replace(try FactorSet(
                rows: await store.reader.factorRows(), zoneTree: inForce.zoneTree, calendar: factors.calendar))
            return try JSONResponse.encode(IngestAnswer(result))
        case .rejected(_, let errors):
            throw Problem(.conflict, "conflicting-records", errors.first?.message ?? "the dataset was not loaded", errors: errors)
        }
    }
}
