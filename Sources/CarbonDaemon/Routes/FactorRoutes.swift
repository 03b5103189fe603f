import CarbonAPI
import CarbonAccounting
import CarbonModel
import Hummingbird

/// `GET /v1/factors`: which emission factor applies where and when, and why.
struct FactorRoutes {
    let factors: FactorSet

    func register(on router: Router<DaemonContext>) {
        router.get("/v1/factors") { request, context in
            try context.requireGranted()
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
    }
}
