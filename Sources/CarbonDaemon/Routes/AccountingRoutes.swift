import CarbonAPI
import CarbonAccounting
import CarbonModel
import CarbonStore
import Foundation
import Hummingbird
import TransparencyLog

/// Emissions, scores, the incentive directory, zone inventories and period closing
/// (methodology sections 4 to 8).
struct AccountingRoutes {
    let store: CarbonStore
    let factors: FactorsInForce
    let costly: CostlyWork

    /// The longest emissions series one request may ask for.
    static let maxEmissionsSpan: Int64 = 400 * 86_400
    /// The most periods one inventory request may ask for.
    static let maxInventoryPeriods = 400

    func register(on router: Router<DaemonContext>) {
        router.get("/v1/consumers/{id}/score") { request, context in
            let consumer = try await readableConsumer(context)
            let period = try period(request, "period", anyKind: true)
            let language = AcceptLanguage.explanationLanguage(request.headers[values: .acceptLanguage])
            return try await costly.run(context) { try await score(of: consumer, period: period, language: language) }
        }
        router.get("/v1/consumers/{id}/emissions") { request, context in
            let consumer = try await readableConsumer(context)
            return try await costly.run(context) { try await emissions(of: consumer, request) }
        }
        router.get("/v1/incentives") { request, context in
            try context.require(.reader, .auditor, .admin)
            return try await costly.run(context) { try await directory(request) }
        }
        router.get("/v1/zones/{zone}/inventory") { request, context in
            try context.require(.planner, .reader, .auditor, .admin)
            let zone = try context.pathParameter("zone")
            return try await costly.run(context) { try await inventory(zone: zone, request) }
        }
        router.post("/v1/periods/{period}/close") { _, context in
            try context.require(.admin)
            let text = try context.pathParameter("period")
            guard let period = Period(text) else {
                throw Problem.badParameter("period", "must be YYYY-MM or YYYY-MM-DD, got \"\(text)\"")
            }
            return try await close(period)
        }
        router.post("/v1/periods/{period}/restate") { request, context in
            try context.require(.admin)
            let text = try context.pathParameter("period")
            guard let period = Period(text), period.granularity == store.program.granularity else {
                throw Problem.badParameter(
                    "period", "must be a period of the program (\(store.program.granularity.rawValue)), got \"\(text)\"")
            }
            return try await restate(period, reason: try await RestateRequest.reason(of: request, context: context))
        }
    }

    // MARK: Consumers

    /// The consumer of the path, if this peer may read its figures.
    private func readableConsumer(_ context: DaemonContext) async throws -> Consumer {
        try await CarbonDaemon.readableConsumer(context, store: store).consumer
    }

    private func score(of consumer: Consumer, period: Period, language: ExplanationLanguage) async throws -> Response {
        let found = try await accounted { try await store.reader.consumerScore(period, consumer: consumer.id) }
        guard let found, let score = found.score else {
            throw Problem.notFound("consumer \"\(consumer.id)\" has no readings in period \(period)")
        }
        let entry = found.signed.map { signed in
            ScoreEntryAnswer(
                index: signed.index, entry: String(decoding: signed.body, as: UTF8.self),
                signature: Base64.encode(signed.signature),
                proof: .init(size: signed.checkpoint.size, hashes: signed.proof.map(\.base64)),
                checkpoint: signed.checkpoint.note)
        }
        let explanation = found.basis.map { ScoreExplanation(figures: score.figures, basis: $0, language: language) }
        var answer = ScoreAnswer(
            consumer: consumer.id, period: period.description, method: PeriodComputation.method,
            provisional: found.provisional, figures: Self.figures(score.figures), entry: entry,
            benchmarkAsOf: found.benchmarksAsOf.map { (Timestamp.format($0.time), $0.size) },
            explanation: explanation.map(ExplanationAnswer.init))
        if found.signed != nil, let open = try await store.reader.openRestatement(of: period) {
            answer.restatement = OpenRestatementAnswer(entry: open.entry, reason: open.reason)
        }
        var response = try JSONResponse.encode(answer)
        response.headers[.contentLanguage] = language.rawValue
        response.headers[.vary] = "Accept-Language"
        return response
    }

    private func emissions(of consumer: Consumer, _ request: Request) async throws -> Response {
        let query = request.uri.queryParameters
        let (from, _) = try instantOrPeriod(request, "from")
        let (toStart, toEnd) = try instantOrPeriod(request, "to")
        // A period as `to` is included whole; an instant is the exclusive end.
        let to = toEnd ?? toStart
        guard to > from else { throw Problem.badParameter("to", "must be after from") }
        guard to - from <= Self.maxEmissionsSpan else {
            throw Problem.badParameter("to", "a series may span at most 400 days")
        }
        let stepText = query["step"].map(String.init) ?? "day"
        guard let step = EmissionsStepKind(rawValue: stepText) else {
            throw Problem.badParameter("step", "must be hour, day or month, got \"\(stepText)\"")
        }
        let buckets = try await accounted {
            try await store.reader.emissions(consumer: consumer.id, from: from, to: to, step: step)
        }
        return try JSONResponse.encode(EmissionsAnswer(
            consumer: consumer.id, from: Timestamp.format(from), to: Timestamp.format(to), step: step.rawValue,
            steps: buckets.map {
                EmissionsStep(
                    start: Timestamp.format($0.start), end: Timestamp.format($0.end), readings: $0.readings,
                    energy_wh: $0.energyWh, loc_ug: $0.locUg, mkt_ug: $0.mktUg, matched_wh: $0.matchedWh)
            }))
    }

    // MARK: Directory and inventory

    private func directory(_ request: Request) async throws -> Response {
        let query = request.uri.queryParameters
        let period = try period(request, "period")
        let zoneTree = factors.current.zoneTree
        let zone = query["zone"].map(String.init)
        if let zone, !zoneTree.contains(zone) { throw Problem.badParameter("zone", "unknown zone \"\(zone)\"") }
        var consumerClass: ConsumerClass? = nil
        if let text = query["class"] {
            guard let parsed = ConsumerClass(rawValue: String(text)) else {
                throw Problem.badParameter("class", "unknown class \"\(text)\"")
            }
            consumerClass = parsed
        }
        let limit = try Query.limit(request)
        let offset = try Cursor.offset(query["cursor"].map(String.init))
        let scores = try await periodScores(period)
        let lines = IncentiveDirectory.entries(
            scores.scores, zone: zone, consumerClass: consumerClass, zoneTree: zoneTree,
            eligibleMaxGrade: store.program.parameters.eligibleMaxGrade)
        let page = lines.dropFirst(offset).prefix(limit)
        let next = offset + page.count < lines.count ? Cursor.make(offset: offset + page.count) : nil
        return try JSONResponse.encode(DirectoryAnswer(
            period: period.description, provisional: scores.provisional,
            consumers: page.map {
                DirectoryLine(
                    consumer: $0.consumer, zone: $0.zone, class: $0.consumerClass.rawValue, score: $0.score,
                    grade: $0.grade?.rawValue, points: $0.points, eligible: $0.eligible)
            },
            cursor: next))
    }

    private func inventory(zone: String, _ request: Request) async throws -> Response {
        let zoneTree = factors.current.zoneTree
        guard zoneTree.contains(zone) else { throw Problem.notFound("no zone \"\(zone)\"") }
        let from = try period(request, "from")
        let to = request.uri.queryParameters["to"] == nil ? from : try period(request, "to")
        guard from <= to else { throw Problem.badParameter("to", "must not be before from") }
        // Counted before anything is computed: each period may cost a whole recomputation.
        var span: [Period] = [from]
        while let last = span.last, last < to {
            guard span.count < Self.maxInventoryPeriods else {
                throw Problem.badParameter("to", "an inventory spans at most \(Self.maxInventoryPeriods) periods")
            }
            span.append(last.next)
        }
        var periods: [InventoryPeriodAnswer] = []
        for current in span {
            let scores = try await periodScores(current)
            let figures = ZoneInventory.period(
                current, zone: zone, scores: scores.scores, zoneTree: zoneTree,
                minPeers: store.program.parameters.minPeers)
            var grades = ["none": figures.grades.none]
            for grade in PeerGrade.allCases { grades[String(grade.rawValue)] = figures.grades[grade] }
            let shown = !figures.suppressed
            periods.append(InventoryPeriodAnswer(
                period: current.description, provisional: scores.provisional,
                energy_wh: shown ? figures.energyWh : nil, loc_g: shown ? figures.locG : nil,
                mkt_g: shown ? figures.mktG : nil, loc_ug: shown ? String(figures.locUg) : nil,
                mkt_ug: shown ? String(figures.mktUg) : nil, consumers: figures.consumers,
                intensity_mg_per_kwh: shown ? figures.intensityMgPerKWh : nil, grades: shown ? grades : nil,
                suppressed: figures.suppressed))
        }
        return try JSONResponse.encode(InventoryAnswer(zone: zone, periods: periods))
    }

    // MARK: Closing

    private func close(_ period: Period) async throws -> Response {
        switch try await store.writer.close(period) {
        case .closed(let result):
            return try JSONResponse.encode(CloseAnswer(result))
        case .rejected(let kind, let errors):
            throw Problem.refused(kind, "period \(period) was not closed: \(errors.first?.message ?? "")", errors: errors)
        }
    }

    private func restate(_ period: Period, reason: String) async throws -> Response {
        switch try await store.writer.submit(.restate(Restatement(period: period, reason: reason))) {
        case .committed(let result):
            guard let entry = result.entry, let open = try await store.reader.openRestatement(of: period),
                open.entry == entry
            else {
                throw Problem(.internalServerError, "store-failure", "the restatement of \(period) cannot be read back")
            }
            let later = try await store.reader.closedPeriods(from: store.program.span(of: period).end)
            let baseline = store.program.parameters.baseline
            let baselineOf = later.filter { baseline.baselinePeriod(of: $0) == period }
            return try JSONResponse.encode(RestateAnswer(
                period: period.description, entry: entry, restates: open.restates, reason: reason,
                later_periods: later.map(\.description), baseline_of: baselineOf.map(\.description),
                detail: "\(period) is open for corrections (POST /v1/readings?correct=true); its signed figures stay "
                    + "current until an administrator closes it again (POST /v1/periods/\(period)/close), which signs a "
                    + "new period entry and new score entries naming those they restate. Later closed periods keep "
                    + "the figures they were signed with (their baselines and certificate use included); restate "
                    + "them too, in order, to carry the new figures forward.",
                checkpoint: result.checkpoint))
        case .rejected(let kind, let errors):
            throw Problem.refused(kind, "period \(period) was not opened again: \(errors.first?.message ?? "")", errors: errors)
        }
    }

    // MARK: Helpers

    /// A period from the query parameter `name` (required), of the program's kind
    /// unless `anyKind` (a consumer's provisional figures exist for any day or month).
    private func period(_ request: Request, _ name: String, anyKind: Bool = false) throws -> Period {
        guard let text = request.uri.queryParameters[Substring(name)] else {
            throw Problem.badParameter(name, "is required: a period such as 2026-10")
        }
        guard let period = Period(text) else {
            throw Problem.badParameter(name, "must be YYYY-MM or YYYY-MM-DD, got \"\(text)\"")
        }
        guard anyKind || period.granularity == store.program.granularity else {
            throw Problem.badParameter(name, "this program scores calendar \(store.program.granularity.rawValue)s")
        }
        return period
    }

    /// An instant (Unix seconds or RFC 3339) or a period (`2026-10`, `2026-10-15`): its
    /// start, and for a period its end.
    private func instantOrPeriod(_ request: Request, _ name: String) throws -> (Int64, Int64?) {
        guard let text = request.uri.queryParameters[Substring(name)] else {
            throw Problem.badParameter(name, "is required: a period (2026-10, 2026-10-15) or an instant")
        }
        let calendar = store.program.calendar
        if let period = Period(text) { return (period.start(in: calendar), period.end(in: calendar)) }
        guard let instant = Timestamp.parse(String(text)) else {
            throw Problem.badParameter(name, "must be a period (2026-10, 2026-10-15), Unix seconds or RFC 3339")
        }
        return (instant, nil)
    }

    private func periodScores(_ period: Period) async throws -> PeriodScores {
        try await accounted { try await store.reader.periodScores(period) }
    }

    /// Runs an accounting query, turning what the stored data cannot give into 409s.
    private func accounted<T>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let error as AccountingError {
            throw Problem(.conflict, "cannot-account", "\(error)")
        }
    }

    static func figures(_ f: ScoreFigures) -> FiguresAnswer {
        FiguresAnswer(
            energy_wh: f.energyWh, export_wh: f.exportWh, loc_ug: f.locUg, mkt_ug: f.mktUg, matched_wh: f.matchedWh,
            estimated_wh: f.estimatedWh, k_milli: f.kMilli, grade: f.grade?.rawValue, label: f.label, p: f.p,
            q_milli: f.qMilli, r: f.r, zone_flat_mg: f.zoneFlatMg, s_milli: f.sMilli, t: f.t, g: f.g, score: f.score,
            bench_ug: f.benchUg, avoided_ug: f.avoidedUg, points: f.points, flags: f.flags.map(\.rawValue))
    }
}

/// The opaque `cursor` of paginated lists: where the next page starts.
enum Cursor {
    static func make(offset: Int) -> String { Base64.encode(Array("o\(offset)".utf8)) }

    static func offset(_ cursor: String?) throws -> Int {
        guard let cursor else { return 0 }
        guard let bytes = Base64.decode(cursor), bytes.first == UInt8(ascii: "o"),
            let offset = Int(String(decoding: bytes.dropFirst(), as: UTF8.self)), offset >= 0
        else { throw Problem.badParameter("cursor", "is not a cursor this daemon gave") }
        return offset
    }
}
