import CarbonAccounting
import CarbonModel
import TransparencyLog

/// A `period` entry: a period was closed with these parameters and benchmarks.
public struct PeriodEntry: Sendable, Equatable {
    public var period: Period
    public var method: String
    /// The program time zone the period and annual factor rows were read in.
    public var timezone: String
    public var parameters: ProgramParameters
    /// Every peer group with at least one member, by zone then class; for a zone tree
    /// so large that the list would pass `ScoreEntry.inputListBudget` twice over, the
    /// root over each group's canonical JSON and their count, so the entry still fits
    /// the 65,535 bytes of a tile.
    public var benchmarks: RecordedList<PeerBenchmark>
    /// Consumers scored (one `score` entry each).
    public var consumers: Int
    /// For a period closed again after a restatement: the index of the `period` entry
    /// whose figures this one replaces (absent from the entry otherwise).
    public var restates: UInt64?

    public init(
        period: Period, method: String, timezone: String, parameters: ProgramParameters, benchmarks: [PeerBenchmark],
        consumers: Int, restates: UInt64? = nil
    ) {
        self.init(
            period: period, method: method, timezone: timezone, parameters: parameters,
            benchmarks: RecordedList(benchmarks, budget: 2 * ScoreEntry.inputListBudget, json: Self.json), consumers: consumers,
            restates: restates)
    }

    init(
        period: Period, method: String, timezone: String, parameters: ProgramParameters,
        benchmarks: RecordedList<PeerBenchmark>, consumers: Int, restates: UInt64?
    ) {
        self.period = period
        self.method = method
        self.timezone = timezone
        self.parameters = parameters
        self.benchmarks = benchmarks
        self.consumers = consumers
        self.restates = restates
    }

    /// `params`: the program parameters in force, under their config names.
    var paramsValue: JSONValue {
        let p = parameters
        return .object([
            "timezone": .string(timezone),
            "min_peers": .int(Int64(p.minPeers)),
            "weights": .object([
                "peer": .int(p.weights.peer), "reduction": .int(p.weights.reduction),
                "timing": .int(p.weights.timing), "green": .int(p.weights.green),
            ]),
            "points_per_kg": .int(p.pointsPerKg),
            "baseline": .string(p.baseline.rawValue),
            "eligible_max_grade": .int(Int64(p.eligibleMaxGrade)),
            "static_benchmarks": .array(p.staticBenchmarks.map { b in
                .object([
                    "zone": .string(b.zone), "class": .string(b.consumerClass.rawValue), "ug_per_day": .int(b.ugPerDay),
                ])
            }),
        ])
    }

    /// `benchmarks`, or `benchmarks_root` and `benchmarks_count`.
    var benchmarkFields: [String: JSONValue] { benchmarks.fields("benchmarks", json: Self.json) }

    /// A peer group as the entry writes it.
    private static func json(_ b: PeerBenchmark) -> JSONValue {
        .object([
            "zone": .string(b.zone), "class": .string(b.consumerClass.rawValue), "n": .int(Int64(b.n)),
            "sum_loc_ug": .integer(b.sumLocUg), "sum_norm": .integer(b.sumNorm),
        ])
    }
}

/// A `score` entry: one consumer's figures for a closed period and what they were
/// computed from.
public struct ScoreEntry: Sendable, Equatable {
    public var consumer: String
    public var period: Period
    public var method: String
    public var figures: ScoreFigures
    /// RFC 6962 root over the consumer's reading leaves of the period, ordered by (start, meter).
    public var readingsRoot: Hash256
    /// Ids of the certificates matched with any of those readings, ascending.
    public var certificates: RecordedList<String>
    /// Roots of the factor datasets that supplied a factor, ascending by their base64.
    public var factorRoots: RecordedList<Hash256>
    /// In a restated period: the index of the consumer's `score` entry this one
    /// replaces (absent when the consumer had none, and outside restatements).
    public var restates: UInt64?

    public init(
        consumer: String, period: Period, method: String, figures: ScoreFigures, readingsRoot: Hash256,
        certificates: [String], factorRoots: [Hash256], restates: UInt64? = nil
    ) {
        self.init(
            consumer: consumer, period: period, method: method, figures: figures, readingsRoot: readingsRoot,
            certificates: RecordedList(certificates, budget: Self.inputListBudget, json: JSONValue.string),
            factorRoots: RecordedList(factorRoots, budget: Self.inputListBudget) { .string($0.base64) },
            restates: restates)
    }

    init(
        consumer: String, period: Period, method: String, figures: ScoreFigures, readingsRoot: Hash256,
        certificates: RecordedList<String>, factorRoots: RecordedList<Hash256>, restates: UInt64?
    ) {
        self.consumer = consumer
        self.period = period
        self.method = method
        self.figures = figures
        self.readingsRoot = readingsRoot
        self.certificates = certificates
        self.factorRoots = factorRoots
        self.restates = restates
    }

    /// Every figure of methodology section 6 under its method name; absent ones `null`.
    public static func figureFields(_ f: ScoreFigures) -> [String: JSONValue] {
        func optional(_ x: Int64?) -> JSONValue { x.map(JSONValue.int) ?? .null }
        return [
            "energy_wh": .int(f.energyWh), "export_wh": .int(f.exportWh), "loc_ug": .int(f.locUg),
            "mkt_ug": .int(f.mktUg), "matched_wh": .int(f.matchedWh), "estimated_wh": .int(f.estimatedWh),
            "k_milli": optional(f.kMilli), "grade": optional(f.grade.map { Int64($0.rawValue) }), "p": .int(f.p),
            "q_milli": optional(f.qMilli), "r": .int(f.r), "zone_flat_mg": .int(f.zoneFlatMg),
            "s_milli": optional(f.sMilli), "t": .int(f.t), "g": .int(f.g), "score": .int(f.score),
            "bench_ug": optional(f.benchUg), "avoided_ug": .int(f.avoidedUg), "points": .int(f.points),
            "flags": .array(f.flags.map { .string($0.rawValue) }),
        ]
    }

    /// The figures recorded in a `score` entry's fields; nil when one is missing or malformed.
    public static func figures(from fields: [String: JSONValue]) -> ScoreFigures? {
        func int(_ key: String) -> Int64? { fields[key]?.intValue }
        func optional(_ key: String) -> Int64?? {
            guard let value = fields[key] else { return nil }
            if value.isNull { return .some(nil) }
            return value.intValue.map { .some($0) }
        }
        guard let energy = int("energy_wh"), let export = int("export_wh"), let loc = int("loc_ug"),
            let mkt = int("mkt_ug"), let matched = int("matched_wh"), let estimated = int("estimated_wh"),
            let k = optional("k_milli"), let p = int("p"), let q = optional("q_milli"), let r = int("r"),
            let flat = int("zone_flat_mg"), let sMilli = optional("s_milli"), let t = int("t"), let g = int("g"),
            let score = int("score"), let bench = optional("bench_ug"), let avoided = int("avoided_ug"),
            let points = int("points"), let flagNames = fields["flags"]?.arrayValue
        else { return nil }
        let flags = flagNames.compactMap { $0.stringValue.flatMap(ScoreFlag.init(rawValue:)) }
        guard flags.count == flagNames.count else { return nil }
        return ScoreFigures(
            energyWh: energy, exportWh: export, locUg: loc, mktUg: mkt, matchedWh: matched, estimatedWh: estimated,
            kMilli: k, p: p, qMilli: q, r: r, zoneFlatMg: flat, sMilli: sMilli, t: t, g: g, score: score,
            benchUg: bench, avoidedUg: avoided, points: points, flags: flags)
    }

    var fields: [String: JSONValue] {
        var fields = Self.figureFields(figures)
        fields["consumer"] = .string(consumer)
        fields["period"] = .string(period.description)
        fields["method"] = .string(method)
        var inputs: [String: JSONValue] = ["readings_root": .string(readingsRoot.base64)]
        inputs.merge(certificates.fields("certificates", json: JSONValue.string)) { $1 }
        inputs.merge(factorRoots.fields("factors") { .string($0.base64) }) { $1 }
        fields["inputs"] = .object(inputs)
        if let restates { fields["restates"] = .int(Int64(restates)) }
        return fields
    }

    /// The most bytes an input list takes in a score entry. A list within it is written
    /// as ledger.md says (`certificates: [ids]`); a longer one as `<name>_root`, the RFC
    /// 6962 root over the leaves `"<item>"` (each item as a canonical JSON string), and
    /// `<name>_count`, so that every score entry stays within the 65,535 bytes a
    /// tlog-tiles entry may have, however many certificates a consumer used.
    public static let inputListBudget = 16_384
}
