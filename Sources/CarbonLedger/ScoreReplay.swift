import CarbonAccounting
import CarbonModel
import TransparencyLog

/// Recomputes every `score` entry of a ledger from the ledger alone (ledger.md
/// section 7, step 5): entries are fed in order, with the leaves exported behind
/// `zones`, `factors` and `readings` entries; at each `period` entry the period is
/// computed with `cl-score/1` from the registry, certificates, factor datasets and
/// readings recorded before it, and each following `score` entry must say the same.
///
/// Memory: the registry, the factor rows, and the readings of periods not yet closed
/// (periods close in order, so that is about one period's readings).
public struct ScoreReplay {
    /// The program time zone named by a `period` entry, as a calendar.
    private let calendar: (String) throws -> any ProgramCalendar

    private var zoneTree: ZoneTree?
    private var factorRows: [FactorRow] = []
    private var datasetRoots: [String: Hash256] = [:]
    private var consumers: [Consumer] = []
    private var consumerPosition: [String: Int] = [:]
    private var certificates: [Certificate] = []
    /// Readings not yet in a closed period, with their leaf bytes as exported.
    private var pending: [(reading: Reading, leaf: [UInt8])] = []
    /// Certificate use through the latest closed period.
    private var certificateUse: [String: Int64] = [:]
    /// Each closed period's figures, as later baselines.
    private var closed: [Period: [String: BaselineFigures]] = [:]
    /// The scores the entries after a `period` entry must carry, by consumer.
    private var expected: [String: ScoreEntry] = [:]
    private var expectedPeriod: Period?
    public private(set) var scoresChecked = 0

    public init(calendar: @escaping (String) throws -> any ProgramCalendar) {
        self.calendar = calendar
    }

    /// Takes the next entry, decoded (and its data lines, for kinds that have them);
    /// returns what does not check, each message naming the entry, kind and field.
    public mutating func add(index: UInt64, entry: LedgerEntry, data: [[UInt8]]?) -> [String] {
        var failures: [String] = []
        if case .score = entry {} else { failures += missingScores() }
        do {
            switch entry {
            case .zones:
                zoneTree = try ZoneTree(try (data ?? []).map { line in
                    let zone = try Self.object(line)
                    return Zone(
                        zone: try Self.string(zone, "zone"), parent: zone["parent"]?.stringValue,
                        name: try Self.string(zone, "name"))
                })
            case .factors(let factors):
                let dataset = factors.dataset
                datasetRoots[dataset] = factors.root
                for line in data ?? [] {
                    let row = try Self.object(line)
                    guard let kind = FactorKind(rawValue: try Self.string(row, "kind")) else {
                        throw ReplayError("a factor row of \(dataset) has an unknown kind")
                    }
                    factorRows.append(FactorRow(
                        zone: try Self.string(row, "zone"), kind: kind, start: try Self.int(row, "start"),
                        end: try Self.int(row, "end"), mgPerKWh: try Self.int(row, "mg_per_kwh"),
                        source: try Self.string(row, "source"), dataset: dataset))
                }
            case .consumer(let consumer):
                if let position = consumerPosition[consumer.id] {
                    consumers[position] = consumer
                } else {
                    consumerPosition[consumer.id] = consumers.count
                    consumers.append(consumer)
                }
            case .certificate(let certificate):
                certificates.append(certificate)
            case .readings:
                for line in data ?? [] {
                    let r = try Self.object(line)
                    guard let quality = Quality(rawValue: try Self.string(r, "quality")) else {
                        throw ReplayError("a reading has an unknown quality")
                    }
                    pending.append((
                        Reading(
                            utility: try Self.string(r, "utility"), meter: try Self.string(r, "meter"),
                            consumer: try Self.string(r, "consumer"), start: try Self.int(r, "start"),
                            durationS: try Self.int(r, "duration_s"), importWh: try Self.int(r, "import_wh"),
                            exportWh: try Self.int(r, "export_wh"), quality: quality, id: r["id"]?.stringValue),
                        line
                    ))
                }
            case .period(let period):
                failures += try closePeriod(index: index, entry: period)
            case .score(let score):
                failures += checkScore(index: index, entry: score)
            case .key:
                break
            }
        } catch {
            failures.append("entry \(index) (\(entry.kind)): cannot replay it: \(error)")
        }
        return failures
    }

    /// What is left to check at the end of the ledger.
    public mutating func finish() -> [String] { missingScores() }

    // MARK: Periods and scores

    private mutating func closePeriod(index: UInt64, entry: PeriodEntry) throws -> [String] {
        let period = entry.period
        guard let zoneTree else { throw ReplayError("no zones entry comes before it") }
        let calendar = try self.calendar(entry.timezone)
        let parameters = entry.parameters
        let start = period.start(in: calendar)
        let end = period.end(in: calendar)

        // The period's readings, in (start, meter) order; later ones stay pending.
        var inPeriod: [(reading: Reading, leaf: [UInt8])] = []
        var later: [(reading: Reading, leaf: [UInt8])] = []
        for item in pending {
            if item.reading.start >= start && item.reading.start < end { inPeriod.append(item) } else { later.append(item) }
        }
        pending = later
        inPeriod.sort { a, b in
            a.reading.start != b.reading.start
                ? a.reading.start < b.reading.start : a.reading.meter.utf8.lexicographicallyPrecedes(b.reading.meter.utf8)
        }
        let factors = try FactorSet(rows: factorRows, zoneTree: zoneTree, calendar: calendar)
        let baselinePeriod = parameters.baseline.baselinePeriod(of: period)
        let result = try PeriodComputation.compute(
            period: period, consumers: consumers, readings: inPeriod.lazy.map(\.reading),
            certificates: certificates.filter { $0.start < end && $0.end > start },
            certificateUsedBeforeWh: certificateUse, factors: factors, parameters: parameters,
            baseline: closed[baselinePeriod] ?? [:], provisional: false)
        var frontiers: [String: MerkleFrontier] = [:]
        for item in inPeriod { frontiers[item.reading.consumer, default: MerkleFrontier()].append(RFC6962.leafHash(item.leaf)) }

        var failures: [String] = []
        if entry.consumers != result.scores.count {
            failures.append("entry \(index) (period \(period)): consumers: expected \(result.scores.count), found \(entry.consumers)")
        }
        let benchmarks = PeriodEntry(
            period: period, method: result.method, timezone: calendar.identifier, parameters: parameters,
            benchmarks: result.benchmarks, consumers: result.scores.count
        ).benchmarkFields
        let found = entry.benchmarkFields
        for (key, value) in benchmarks.sorted(by: { $0.key < $1.key }) where found[key] != value {
            failures.append("entry \(index) (period \(period)): \(key): expected \(value), found \(found[key] ?? .null)")
        }
        for use in result.certificates where use.usedNowWh > 0 { certificateUse[use.id] = use.usedWh }
        var figures: [String: BaselineFigures] = [:]
        expected = [:]
        for score in result.scores {
            let id = score.consumer.id
            figures[id] = BaselineFigures(energyWh: score.figures.energyWh, locUg: score.figures.locUg)
            expected[id] = ScoreEntry(
                consumer: id, period: period, method: result.method, figures: score.figures,
                readingsRoot: frontiers[id]?.rootHash() ?? RFC6962.emptyRoot, certificates: score.certificates,
                factorRoots: score.factorDatasets.compactMap { datasetRoots[$0] }.sorted {
                    $0.base64.utf8.lexicographicallyPrecedes($1.base64.utf8)
                })
        }
        closed[period] = figures
        expectedPeriod = period
        return failures
    }

    private mutating func checkScore(index: UInt64, entry: ScoreEntry) -> [String] {
        let fields = entry.fields
        let what = "entry \(index) (score of \(entry.consumer), \(entry.period))"
        guard let want = expected.removeValue(forKey: entry.consumer), entry.period == expectedPeriod
        else { return ["\(what): no such score follows from the ledger"] }
        scoresChecked += 1
        var failures: [String] = []
        for (key, value) in want.fields.sorted(by: { $0.key < $1.key }) where fields[key] != value {
            failures.append("\(what): \(key): expected \(value), found \(fields[key] ?? .null)")
        }
        return failures
    }

    private mutating func missingScores() -> [String] {
        defer { expected = [:] }
        return expected.keys.sorted().map { "period \(expectedPeriod?.description ?? "?"): the score entry of \($0) is missing" }
    }

    // MARK: Reading the data lines

    private static func object(_ line: [UInt8]) throws -> [String: JSONValue] {
        try object(try JSONValue.parse(line))
    }

    private static func object(_ value: JSONValue?) throws -> [String: JSONValue] {
        guard case .object(let fields)? = value else { throw ReplayError("an object is expected") }
        return fields
    }

    private static func string(_ fields: [String: JSONValue], _ key: String) throws -> String {
        guard let value = fields[key]?.stringValue else { throw ReplayError("\(key) is missing or not a string") }
        return value
    }

    private static func int(_ fields: [String: JSONValue], _ key: String) throws -> Int64 {
        guard let value = fields[key]?.intValue else { throw ReplayError("\(key) is missing or not an integer") }
        return value
    }
}

struct ReplayError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
