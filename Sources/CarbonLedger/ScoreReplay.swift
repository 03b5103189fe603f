import CarbonAccounting
import CarbonModel
import TransparencyLog

/// Recomputes every `score` entry of a ledger from the ledger alone (ledger.md
/// section 7, step 5): entries are fed in order, with the leaves exported behind
/// `zones`, `factors`, `readings` and `corrections` entries; at each `period` entry
/// the period is computed with `cl-score/1` from the registry, certificates, factor
/// datasets and the readings in force before it, and each following `score` entry
/// must say the same.
///
/// Corrections are followed as they come: each must replace the version in force of
/// a reading of an open period (or of a period a `restatement` entry opened again)
/// with the same utility, meter, start, duration and consumer. A period closed again
/// after a restatement is recomputed from its readings as they then stand, which are
/// read again from the source (`entryData`) and checked against their entry's root.
///
/// Memory: the registry, the factor rows, the readings of periods not yet closed
/// (periods close in order, so that is about one period's readings), and a few words
/// per `readings` or `corrections` entry and per score.
public struct ScoreReplay {
    /// The program time zone named by a `period` entry, as a calendar.
    private let calendar: (String) throws -> any ProgramCalendar
    /// The leaves behind an earlier entry, read again for a restated period; nil
    /// when the source cannot give them.
    private let entryData: (UInt64) -> [[UInt8]]?

    private var zoneTree: ZoneTree?
    private var factorRows: [FactorRow] = []
    private var datasetRoots: [String: Hash256] = [:]
    private var consumers: [Consumer] = []
    private var consumerPosition: [String: Int] = [:]
    private var certificates: [Certificate] = []
    /// Readings in force not yet in a closed period, by the version that put them in force.
    private var pending: [ReadingVersion: PendingReading] = [:]
    /// Every `readings` and `corrections` entry: its kind, root and time span, to find
    /// a restated period's readings again.
    private var batches: [Batch] = []
    /// Certificate use at the end of each closed period, by certificate, ascending by end.
    private var certificateUse: [String: [(through: Int64, usedWh: Int64)]] = [:]
    /// Each closed period: its span, its latest `period` entry, its consumers' score
    /// entries and figures (as later baselines).
    private var closed: [Period: ClosedPeriod] = [:]
    /// The end of the latest closed period.
    private var closedThrough = Int64.min
    /// Periods opened again by a `restatement` entry and not yet closed again.
    private var reopened: Set<Period> = []
    /// The scores the entries after a `period` entry must carry, by consumer.
    private var expected: [String: ScoreEntry] = [:]
    private var expectedPeriod: Period?
    public private(set) var scoresChecked = 0

    private struct PendingReading {
        var reading: Reading
        /// The reading leaf of the version in force (a score's `readings_root` is over these).
        var leaf: [UInt8]
    }

    private struct Batch {
        var index: UInt64
        var isCorrection: Bool
        var root: Hash256
        var firstStart: Int64
        var lastEnd: Int64
    }

    private struct ClosedPeriod {
        var start: Int64
        var end: Int64
        var entry: UInt64
        var scoreEntries: [String: UInt64] = [:]
        var figures: [String: BaselineFigures] = [:]
    }

    public init(
        calendar: @escaping (String) throws -> any ProgramCalendar, entryData: @escaping (UInt64) -> [[UInt8]]? = { _ in nil }
    ) {
        self.calendar = calendar
        self.entryData = entryData
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
            case .readings(let batch):
                batches.append(Batch(
                    index: index, isCorrection: false, root: batch.root, firstStart: batch.firstStart, lastEnd: batch.lastEnd))
                for (position, line) in (data ?? []).enumerated() {
                    guard let reading = Reading(leafFields: try Self.object(line)) else {
                        throw ReplayError("reading \(position) is not a reading leaf")
                    }
                    pending[ReadingVersion(entry: index, position: position)] = PendingReading(reading: reading, leaf: line)
                }
            case .corrections(let batch):
                batches.append(Batch(
                    index: index, isCorrection: true, root: batch.root, firstStart: batch.firstStart, lastEnd: batch.lastEnd))
                failures += try applyCorrections(index: index, data: data ?? [])
            case .restatement(let restatement):
                failures += reopen(index: index, entry: restatement)
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
    public mutating func finish() -> [String] {
        var failures = missingScores()
        // Corrections of a period opened again and not closed yet are checked here.
        for period in reopened.sorted(by: { closed[$0]!.start < closed[$1]!.start }) {
            do {
                _ = try readingsInForce(of: period, before: .max)
            } catch {
                failures.append("period \(period) (opened again): \(error)")
            }
        }
        return failures
    }

    // MARK: Corrections and restatements

    /// Applies a `corrections` entry's leaves to the readings in force.
    private mutating func applyCorrections(index: UInt64, data: [[UInt8]]) throws -> [String] {
        var failures: [String] = []
        for (position, line) in data.enumerated() {
            let what = "entry \(index) (corrections) leaf \(position)"
            guard let leaf = CorrectionLeaf(fields: try Self.object(line)) else {
                failures.append("\(what): not a correction leaf")
                continue
            }
            if pending[leaf.replaces] != nil {
                if let failure = Self.replace(with: leaf, at: ReadingVersion(entry: index, position: position), in: &pending) {
                    failures.append("\(what): \(failure)")
                }
            } else if let period = closedPeriod(containing: leaf.reading.start) {
                // A restated period's chains are checked when it closes again (or at the end).
                if !reopened.contains(period) {
                    failures.append("\(what): corrects a reading of \(period), which is closed and not opened again by a restatement")
                }
            } else {
                failures.append("\(what): replaces \(leaf.replaces), which is not a reading in force")
            }
        }
        return failures
    }

    /// Puts the version a correction leaf brings, at `version`, in force in place of
    /// the one it names; what does not check, or nil. The replaced version must be in
    /// force and be a reading of the same utility, meter, start, duration and consumer.
    private static func replace(
        with leaf: CorrectionLeaf, at version: ReadingVersion, in readings: inout [ReadingVersion: PendingReading]
    ) -> String? {
        guard let target = readings[leaf.replaces]?.reading else {
            return "replaces \(leaf.replaces), which is not a reading in force"
        }
        let reading = leaf.reading
        if let field = Self.mismatch(reading, replacing: target) {
            return "replaces \(leaf.replaces), a reading of another \(field)"
        }
        readings[leaf.replaces] = nil
        readings[version] = PendingReading(reading: reading, leaf: reading.leafBytes)
        return nil
    }

    /// The first of the fields a correction keeps that differs between `reading` and
    /// `target`, or nil.
    private static func mismatch(_ reading: Reading, replacing target: Reading) -> String? {
        if reading.utility != target.utility { return "utility" }
        if reading.meter != target.meter { return "meter" }
        if reading.start != target.start { return "start" }
        if reading.durationS != target.durationS { return "duration_s" }
        if reading.consumer != target.consumer { return "consumer" }
        return nil
    }

    private mutating func reopen(index: UInt64, entry: RestatementEntry) -> [String] {
        let what = "entry \(index) (restatement of \(entry.period))"
        guard let period = closed[entry.period] else { return ["\(what): period: \(entry.period) is not closed"] }
        guard entry.restates == period.entry else {
            return ["\(what): restates: expected \(period.entry), the period's latest period entry, found \(entry.restates)"]
        }
        guard reopened.insert(entry.period).inserted else { return ["\(what): \(entry.period) is already open again"] }
        return []
    }

    /// The closed period whose span holds `instant`, if any.
    private func closedPeriod(containing instant: Int64) -> Period? {
        guard instant < closedThrough else { return nil }
        return closed.first { $0.value.start <= instant && instant < $0.value.end }?.key
    }

    /// The readings in force of a restated period, rebuilt from the leaves of every
    /// `readings` and `corrections` entry before `limit` that reaches into it, each
    /// read again and checked against its entry's root; every correction's chain checked.
    private func readingsInForce(of period: Period, before limit: UInt64) throws -> [PendingReading] {
        guard let span = closed[period] else { throw ReplayError("\(period) is not closed") }
        var inForce: [ReadingVersion: PendingReading] = [:]
        for batch in batches where batch.index < limit && batch.firstStart < span.end && batch.lastEnd > span.start {
            guard let lines = entryData(batch.index) else {
                throw ReplayError("the leaves of entry \(batch.index) cannot be read again")
            }
            guard RFC6962.rootHash(ofLeafHashes: lines.map { RFC6962.leafHash($0) }) == batch.root else {
                throw ReplayError("the leaves of entry \(batch.index), read again, do not hash to its root")
            }
            for (position, line) in lines.enumerated() {
                let fields = try Self.object(line)
                let version = ReadingVersion(entry: batch.index, position: position)
                guard batch.isCorrection else {
                    guard let reading = Reading(leafFields: fields) else {
                        throw ReplayError("entry \(batch.index) reading \(position) is not a reading leaf")
                    }
                    if reading.start >= span.start && reading.start < span.end {
                        inForce[version] = PendingReading(reading: reading, leaf: line)
                    }
                    continue
                }
                guard let leaf = CorrectionLeaf(fields: fields) else {
                    throw ReplayError("entry \(batch.index) leaf \(position) is not a correction leaf")
                }
                guard leaf.reading.start >= span.start && leaf.reading.start < span.end else { continue }
                if let failure = Self.replace(with: leaf, at: version, in: &inForce) {
                    throw ReplayError("entry \(batch.index) leaf \(position) \(failure)")
                }
            }
        }
        return Array(inForce.values)
    }

    /// Certificate use by readings before `instant`: each certificate's use at the end
    /// of the latest closed period ending by then.
    private func certificateUse(before instant: Int64) -> [String: Int64] {
        var use: [String: Int64] = [:]
        for (id, history) in certificateUse {
            if let last = history.last(where: { $0.through <= instant }) { use[id] = last.usedWh }
        }
        return use
    }

    // MARK: Periods and scores

    private mutating func closePeriod(index: UInt64, entry: PeriodEntry) throws -> [String] {
        let period = entry.period
        guard let zoneTree else { throw ReplayError("no zones entry comes before it") }
        let calendar = try self.calendar(entry.timezone)
        let parameters = entry.parameters
        let start = period.start(in: calendar)
        let end = period.end(in: calendar)
        var failures: [String] = []
        let what = "entry \(index) (period \(period))"

        // The period's readings in force, in (start, meter) order; later ones stay pending.
        var inPeriod: [PendingReading]
        let restated = closed[period]
        if let restated {
            guard reopened.remove(period) != nil else {
                return ["\(what): \(period) is closed already and was not opened again by a restatement"]
            }
            if entry.restates != restated.entry {
                failures.append("\(what): restates: expected \(restated.entry), found \(entry.restates.map(String.init) ?? "none")")
            }
            inPeriod = try readingsInForce(of: period, before: index)
        } else {
            if let restates = entry.restates { failures.append("\(what): restates: \(restates), but \(period) was never closed") }
            inPeriod = []
            for (version, item) in pending where item.reading.start >= start && item.reading.start < end {
                inPeriod.append(item)
                pending[version] = nil
            }
        }
        inPeriod.sort { a, b in
            a.reading.start != b.reading.start
                ? a.reading.start < b.reading.start : a.reading.meter.utf8.lexicographicallyPrecedes(b.reading.meter.utf8)
        }
        let factors = try FactorSet(rows: factorRows, zoneTree: zoneTree, calendar: calendar)
        let baselinePeriod = parameters.baseline.baselinePeriod(of: period)
        let result = try PeriodComputation.compute(
            period: period, consumers: consumers, readings: inPeriod.lazy.map(\.reading),
            certificates: certificates.filter { $0.start < end && $0.end > start },
            certificateUsedBeforeWh: certificateUse(before: start), factors: factors, parameters: parameters,
            baseline: closed[baselinePeriod]?.figures ?? [:], provisional: false)
        var frontiers: [String: MerkleFrontier] = [:]
        for item in inPeriod { frontiers[item.reading.consumer, default: MerkleFrontier()].append(RFC6962.leafHash(item.leaf)) }

        if entry.consumers != result.scores.count {
            failures.append("\(what): consumers: expected \(result.scores.count), found \(entry.consumers)")
        }
        let benchmarks = PeriodEntry(
            period: period, method: result.method, timezone: calendar.identifier, parameters: parameters,
            benchmarks: result.benchmarks, consumers: result.scores.count
        ).benchmarkFields
        let found = entry.benchmarkFields
        for (key, value) in benchmarks.sorted(by: { $0.key < $1.key }) where found[key] != value {
            failures.append("\(what): \(key): expected \(value), found \(found[key] ?? .null)")
        }
        for id in certificateUse.keys { certificateUse[id]!.removeAll { $0.through == end } }
        for use in result.certificates where use.usedNowWh > 0 {
            certificateUse[use.id, default: []].append((end, use.usedWh))
            certificateUse[use.id]!.sort { $0.through < $1.through }
        }
        var closing = ClosedPeriod(start: start, end: end, entry: index)
        expected = [:]
        for score in result.scores {
            let id = score.consumer.id
            closing.figures[id] = BaselineFigures(energyWh: score.figures.energyWh, locUg: score.figures.locUg)
            expected[id] = ScoreEntry(
                consumer: id, period: period, method: result.method, figures: score.figures,
                readingsRoot: frontiers[id]?.rootHash() ?? RFC6962.emptyRoot, certificates: score.certificates,
                factorRoots: score.factorDatasets.compactMap { datasetRoots[$0] }.sorted {
                    $0.base64.utf8.lexicographicallyPrecedes($1.base64.utf8)
                },
                restates: restated?.scoreEntries[id])
        }
        closed[period] = closing
        closedThrough = max(closedThrough, end)
        expectedPeriod = period
        return failures
    }

    private mutating func checkScore(index: UInt64, entry: ScoreEntry) -> [String] {
        let fields = entry.fields
        let what = "entry \(index) (score of \(entry.consumer), \(entry.period))"
        guard let want = expected.removeValue(forKey: entry.consumer), entry.period == expectedPeriod
        else { return ["\(what): no such score follows from the ledger"] }
        scoresChecked += 1
        closed[entry.period]?.scoreEntries[entry.consumer] = index
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
