/// Answers of the accounting endpoints: scores, the incentive directory, zone
/// inventories, emission series and period closing. Figures are integers in the
/// units of methodology.md; `kwh` and `kg` fields beside them are decimals for
/// people, rounded for display, never for computing.

/// `POST /v1/periods/{period}/close`.
public struct CloseAnswer: Codable, Sendable, Equatable {
    public var period: String
    /// Index of the `period` entry.
    public var entry: UInt64
    /// Consumers scored (one `score` entry each, right after the `period` entry).
    public var consumers: Int
    /// The period was closed before this request.
    public var already_closed: Bool
    /// The signed checkpoint containing the entries.
    public var checkpoint: String?
    /// For a restated period closed again: the `period` entry whose figures this
    /// close replaced (each new `score` entry names the one it replaces likewise).
    public var restates: UInt64?

    public init(
        period: String, entry: UInt64, consumers: Int, already_closed: Bool, checkpoint: String?, restates: UInt64? = nil
    ) {
        self.period = period
        self.entry = entry
        self.consumers = consumers
        self.already_closed = already_closed
        self.checkpoint = checkpoint
        self.restates = restates
    }
}

/// `POST /v1/periods/{period}/restate`: a closed period opened again for corrections.
public struct RestateAnswer: Codable, Sendable, Equatable {
    public var period: String
    /// Index of the `restatement` entry.
    public var entry: UInt64
    /// Index of the `period` entry whose figures stay current until the period closes again.
    public var restates: UInt64
    public var reason: String
    /// Closed periods after this one: they keep their signed figures (baselines and
    /// certificate use as they were signed) unless they are restated too.
    public var later_periods: [String]
    /// Of those, the ones whose baseline (R) is this period.
    public var baseline_of: [String]
    /// What happens next, in words.
    public var detail: String
    public var checkpoint: String?

    public init(
        period: String, entry: UInt64, restates: UInt64, reason: String, later_periods: [String], baseline_of: [String],
        detail: String, checkpoint: String?
    ) {
        self.period = period
        self.entry = entry
        self.restates = restates
        self.reason = reason
        self.later_periods = later_periods
        self.baseline_of = baseline_of
        self.detail = detail
        self.checkpoint = checkpoint
    }
}

/// Every figure of methodology section 6 under its method name.
public struct FiguresAnswer: Codable, Sendable, Equatable {
    public var energy_wh: Int64
    public var export_wh: Int64
    public var loc_ug: Int64
    public var mkt_ug: Int64
    public var matched_wh: Int64
    public var estimated_wh: Int64
    public var k_milli: Int64?
    public var grade: Int?
    /// `dark-green` ... `red`; null without a grade.
    public var label: String?
    public var p: Int64
    public var q_milli: Int64?
    public var r: Int64
    public var zone_flat_mg: Int64
    public var s_milli: Int64?
    public var t: Int64
    public var g: Int64
    public var score: Int64
    public var bench_ug: Int64?
    public var avoided_ug: Int64
    public var points: Int64
    public var flags: [String]

    public init(
        energy_wh: Int64, export_wh: Int64, loc_ug: Int64, mkt_ug: Int64, matched_wh: Int64, estimated_wh: Int64,
        k_milli: Int64?, grade: Int?, label: String?, p: Int64, q_milli: Int64?, r: Int64, zone_flat_mg: Int64,
        s_milli: Int64?, t: Int64, g: Int64, score: Int64, bench_ug: Int64?, avoided_ug: Int64, points: Int64,
        flags: [String]
    ) {
        self.energy_wh = energy_wh
        self.export_wh = export_wh
        self.loc_ug = loc_ug
        self.mkt_ug = mkt_ug
        self.matched_wh = matched_wh
        self.estimated_wh = estimated_wh
        self.k_milli = k_milli
        self.grade = grade
        self.label = label
        self.p = p
        self.q_milli = q_milli
        self.r = r
        self.zone_flat_mg = zone_flat_mg
        self.s_milli = s_milli
        self.t = t
        self.g = g
        self.score = score
        self.bench_ug = bench_ug
        self.avoided_ug = avoided_ug
        self.points = points
        self.flags = flags
    }
}

/// A closed score's ledger entry, its signature and its inclusion proof.
public struct ScoreEntryAnswer: Codable, Sendable, Equatable {
    public struct Proof: Codable, Sendable, Equatable {
        public var size: UInt64
        public var hashes: [String]

        public init(size: UInt64, hashes: [String]) {
            self.size = size
            self.hashes = hashes
        }
    }

    public var index: UInt64
    /// The canonical entry bytes as a string.
    public var entry: String
    /// base64 Ed25519 entry signature (ledger.md section 2).
    public var signature: String
    /// RFC 9162 inclusion path in the tree of `size` (the latest checkpoint).
    public var proof: Proof
    /// The latest signed checkpoint, whose root the proof leads to.
    public var checkpoint: String

    public init(index: UInt64, entry: String, signature: String, proof: Proof, checkpoint: String) {
        self.index = index
        self.entry = entry
        self.signature = signature
        self.proof = proof
        self.checkpoint = checkpoint
    }
}

/// `GET /v1/consumers/{id}/score`.
public struct ScoreAnswer: Codable, Sendable, Equatable {
    public var consumer: String
    public var period: String
    public var method: String
    public var provisional: Bool
    public var figures: FiguresAnswer
    /// Energy in kWh, for display.
    public var kwh: Double
    /// `loc_ug` and `mkt_ug` in kg, for display.
    public var loc_kg: Double
    public var mkt_kg: Double
    /// Once the period is closed.
    public var entry: ScoreEntryAnswer?
    /// For a provisional score: when (RFC 3339) and at what ledger size the peer
    /// groups behind `k_milli`, `grade` and `bench_ug` were computed; the consumer's
    /// own figures are always current.
    public var benchmark_as_of: String?
    public var benchmark_size: UInt64?
    /// Set while the period is open again for corrections: the figures shown are the
    /// signed ones, current until the period is closed again.
    public var restatement: OpenRestatementAnswer? = nil
    /// The score in words.
    public var explanation: ExplanationAnswer?

    public init(
        consumer: String, period: String, method: String, provisional: Bool, figures: FiguresAnswer,
        entry: ScoreEntryAnswer?, benchmarkAsOf: (time: String, size: UInt64)? = nil,
        explanation: ExplanationAnswer? = nil
    ) {
        self.consumer = consumer
        self.period = period
        self.method = method
        self.provisional = provisional
        self.figures = figures
        self.kwh = Double(figures.energy_wh) / 1_000
        self.loc_kg = Double(figures.loc_ug) / 1e9
        self.mkt_kg = Double(figures.mkt_ug) / 1e9
        self.entry = entry
        self.benchmark_as_of = benchmarkAsOf?.time
        self.benchmark_size = benchmarkAsOf?.size
        self.explanation = explanation
    }

    private enum Key: String, CodingKey {
        case consumer, period, method, provisional, kwh, loc_kg, mkt_kg, entry, benchmark_as_of, benchmark_size
        case restatement, explanation
    }

    /// The figures sit at the top level beside `consumer` and `period` (interface.md
    /// section 7), absent ones as `null`.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: Key.self)
        try c.encode(consumer, forKey: .consumer)
        try c.encode(period, forKey: .period)
        try c.encode(method, forKey: .method)
        try c.encode(provisional, forKey: .provisional)
        try c.encode(kwh, forKey: .kwh)
        try c.encode(loc_kg, forKey: .loc_kg)
        try c.encode(mkt_kg, forKey: .mkt_kg)
        try c.encodeIfPresent(entry, forKey: .entry)
        try c.encodeIfPresent(benchmark_as_of, forKey: .benchmark_as_of)
        try c.encodeIfPresent(benchmark_size, forKey: .benchmark_size)
        try c.encodeIfPresent(restatement, forKey: .restatement)
        try c.encodeIfPresent(explanation, forKey: .explanation)
        try figures.encodeWithNulls(to: encoder)
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: Key.self)
        consumer = try c.decode(String.self, forKey: .consumer)
        period = try c.decode(String.self, forKey: .period)
        method = try c.decode(String.self, forKey: .method)
        provisional = try c.decode(Bool.self, forKey: .provisional)
        kwh = try c.decode(Double.self, forKey: .kwh)
        loc_kg = try c.decode(Double.self, forKey: .loc_kg)
        mkt_kg = try c.decode(Double.self, forKey: .mkt_kg)
        entry = try c.decodeIfPresent(ScoreEntryAnswer.self, forKey: .entry)
        benchmark_as_of = try c.decodeIfPresent(String.self, forKey: .benchmark_as_of)
        benchmark_size = try c.decodeIfPresent(UInt64.self, forKey: .benchmark_size)
        restatement = try c.decodeIfPresent(OpenRestatementAnswer.self, forKey: .restatement)
        explanation = try c.decodeIfPresent(ExplanationAnswer.self, forKey: .explanation)
        figures = try FiguresAnswer(from: decoder)
    }
}

extension FiguresAnswer {
    private enum Key: String, CodingKey {
        case energy_wh, export_wh, loc_ug, mkt_ug, matched_wh, estimated_wh, k_milli, grade, label, p, q_milli, r
        case zone_flat_mg, s_milli, t, g, score, bench_ug, avoided_ug, points, flags
    }

    /// Encodes every figure, absent ones as explicit `null`.
    func encodeWithNulls(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: Key.self)
        try c.encode(energy_wh, forKey: .energy_wh)
        try c.encode(export_wh, forKey: .export_wh)
        try c.encode(loc_ug, forKey: .loc_ug)
        try c.encode(mkt_ug, forKey: .mkt_ug)
        try c.encode(matched_wh, forKey: .matched_wh)
        try c.encode(estimated_wh, forKey: .estimated_wh)
        try c.encode(k_milli, forKey: .k_milli)
        try c.encode(grade, forKey: .grade)
        try c.encode(label, forKey: .label)
        try c.encode(p, forKey: .p)
        try c.encode(q_milli, forKey: .q_milli)
        try c.encode(r, forKey: .r)
        try c.encode(zone_flat_mg, forKey: .zone_flat_mg)
        try c.encode(s_milli, forKey: .s_milli)
        try c.encode(t, forKey: .t)
        try c.encode(g, forKey: .g)
        try c.encode(score, forKey: .score)
        try c.encode(bench_ug, forKey: .bench_ug)
        try c.encode(avoided_ug, forKey: .avoided_ug)
        try c.encode(points, forKey: .points)
        try c.encode(flags, forKey: .flags)
    }
}

/// One line of the incentive directory.
public struct DirectoryLine: Codable, Sendable, Equatable {
    public var consumer: String
    public var zone: String
    public var `class`: String
    public var score: Int64
    public var grade: Int?
    public var points: Int64
    public var eligible: Bool

    public init(consumer: String, zone: String, class: String, score: Int64, grade: Int?, points: Int64, eligible: Bool) {
        self.consumer = consumer
        self.zone = zone
        self.class = `class`
        self.score = score
        self.grade = grade
        self.points = points
        self.eligible = eligible
    }

    private enum Key: String, CodingKey { case consumer, zone, `class`, score, grade, points, eligible }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: Key.self)
        try c.encode(consumer, forKey: .consumer)
        try c.encode(zone, forKey: .zone)
        try c.encode(`class`, forKey: .class)
        try c.encode(score, forKey: .score)
        try c.encode(grade, forKey: .grade)
        try c.encode(points, forKey: .points)
        try c.encode(eligible, forKey: .eligible)
    }
}

/// `GET /v1/incentives`.
public struct DirectoryAnswer: Codable, Sendable, Equatable {
    public var period: String
    public var provisional: Bool
    public var consumers: [DirectoryLine]
    /// Pass as `cursor` for the next page; null on the last page.
    public var cursor: String?

    public init(period: String, provisional: Bool, consumers: [DirectoryLine], cursor: String?) {
        self.period = period
        self.provisional = provisional
        self.consumers = consumers
        self.cursor = cursor
    }

    private enum Key: String, CodingKey { case period, provisional, consumers, cursor }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: Key.self)
        try c.encode(period, forKey: .period)
        try c.encode(provisional, forKey: .provisional)
        try c.encode(consumers, forKey: .consumers)
        try c.encode(cursor, forKey: .cursor)
    }
}

/// One period of a zone inventory.
public struct InventoryPeriodAnswer: Codable, Sendable, Equatable {
    public var period: String
    public var provisional: Bool
    /// The figures are null and `suppressed` is true when they would reveal fewer
    /// than `program.min_peers` consumers' (docs/methodology.md section 8).
    public var energy_wh: Int64?
    public var loc_g: Int64?
    public var mkt_g: Int64?
    /// The exact sums behind `loc_g` and `mkt_g`, in ug, as decimal strings (they may
    /// pass 2^63): what inventories of several shards add up from (docs/scaling.md).
    public var loc_ug: String?
    public var mkt_ug: String?
    public var consumers: Int
    public var intensity_mg_per_kwh: Int64?
    /// Consumers per grade `"1"` ... `"5"`, and `"none"`.
    public var grades: [String: Int]?
    public var suppressed: Bool

    public init(
        period: String, provisional: Bool, energy_wh: Int64?, loc_g: Int64?, mkt_g: Int64?,
        loc_ug: String? = nil, mkt_ug: String? = nil, consumers: Int,
        intensity_mg_per_kwh: Int64?, grades: [String: Int]?, suppressed: Bool = false
    ) {
        self.period = period
        self.provisional = provisional
        self.energy_wh = energy_wh
        self.loc_g = loc_g
        self.mkt_g = mkt_g
        self.loc_ug = loc_ug
        self.mkt_ug = mkt_ug
        self.consumers = consumers
        self.intensity_mg_per_kwh = intensity_mg_per_kwh
        self.grades = grades
        self.suppressed = suppressed
    }

    private enum Key: String, CodingKey {
        case period, provisional, energy_wh, loc_g, mkt_g, loc_ug, mkt_ug, consumers, intensity_mg_per_kwh, grades, suppressed
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: Key.self)
        try c.encode(period, forKey: .period)
        try c.encode(provisional, forKey: .provisional)
        try c.encode(energy_wh, forKey: .energy_wh)
        try c.encode(loc_g, forKey: .loc_g)
        try c.encode(mkt_g, forKey: .mkt_g)
        try c.encode(loc_ug, forKey: .loc_ug)
        try c.encode(mkt_ug, forKey: .mkt_ug)
        try c.encode(consumers, forKey: .consumers)
        try c.encode(intensity_mg_per_kwh, forKey: .intensity_mg_per_kwh)
        try c.encode(grades, forKey: .grades)
        try c.encode(suppressed, forKey: .suppressed)
    }
}

/// `GET /v1/zones/{zone}/inventory`.
public struct InventoryAnswer: Codable, Sendable, Equatable {
    public var zone: String
    public var periods: [InventoryPeriodAnswer]

    public init(zone: String, periods: [InventoryPeriodAnswer]) {
        self.zone = zone
        self.periods = periods
    }
}

/// One step of an emissions series: the readings starting in `[start, end)`.
public struct EmissionsStep: Codable, Sendable, Equatable {
    public var start: String
    public var end: String
    public var readings: Int
    public var energy_wh: Int64
    public var loc_ug: Int64
    public var mkt_ug: Int64
    public var matched_wh: Int64

    public init(start: String, end: String, readings: Int, energy_wh: Int64, loc_ug: Int64, mkt_ug: Int64, matched_wh: Int64) {
        self.start = start
        self.end = end
        self.readings = readings
        self.energy_wh = energy_wh
        self.loc_ug = loc_ug
        self.mkt_ug = mkt_ug
        self.matched_wh = matched_wh
    }
}

/// `GET /v1/consumers/{id}/emissions`.
public struct EmissionsAnswer: Codable, Sendable, Equatable {
    public var consumer: String
    public var from: String
    public var to: String
    public var step: String
    /// Steps with at least one reading, in time order.
    public var steps: [EmissionsStep]

    public init(consumer: String, from: String, to: String, step: String, steps: [EmissionsStep]) {
        self.consumer = consumer
        self.from = from
        self.to = to
        self.step = step
        self.steps = steps
    }
}

/// A restatement in progress: its `restatement` entry and reason.
public struct OpenRestatementAnswer: Codable, Sendable, Equatable {
    public var entry: UInt64
    public var reason: String

    public init(entry: UInt64, reason: String) {
        self.entry = entry
        self.reason = reason
    }
}
