import CarbonAccounting
import CarbonModel
import TransparencyLog

/// What one ledger entry records, before it is given its time (ledger.md section 1).
public enum LedgerEntry: Sendable, Equatable {
    /// A batch of readings was accepted.
    case readings(ReadingsEntry)
    /// A batch of corrections was accepted: each of its leaves replaces a reading
    /// already in the ledger (`CorrectionLeaf`).
    case corrections(ReadingsEntry)
    /// A closed period was opened again for corrections.
    case restatement(RestatementEntry)
    /// A consumer was registered or changed.
    case consumer(Consumer)
    /// The zone tree was loaded or changed.
    case zones(ZonesEntry)
    /// A factor dataset was loaded.
    case factors(FactorsEntry)
    /// A certificate was registered.
    case certificate(Certificate)
    /// A period was closed.
    case period(PeriodEntry)
    /// A consumer's score for a closed period.
    case score(ScoreEntry)
    /// The signing key changes to the one announced (signed by the key it replaces).
    case key(NoteVerifier)

    /// The entry's `kind` field.
    public var kind: String {
        switch self {
        case .readings: "readings"
        case .corrections: "corrections"
        case .restatement: "restatement"
        case .consumer: "consumer"
        case .zones: "zones"
        case .factors: "factors"
        case .certificate: "certificate"
        case .period: "period"
        case .score: "score"
        case .key: "key"
        }
    }

    /// The canonical JSON bytes of the entry appended at `time` (Unix seconds).
    public func canonicalBytes(time: Int64) -> [UInt8] {
        var fields: [String: JSONValue] = ["v": .int(1), "kind": .string(kind), "time": .int(time)]
        switch self {
        case .readings(let entry), .corrections(let entry):
            fields["utility"] = .string(entry.utility)
            fields["count"] = .int(Int64(entry.count))
            fields["root"] = .string(entry.root.base64)
            fields["first_start"] = .int(entry.firstStart)
            fields["last_end"] = .int(entry.lastEnd)
            fields["batch"] = entry.batch.map(JSONValue.string) ?? .null
        case .restatement(let entry):
            fields["period"] = .string(entry.period.description)
            fields["reason"] = .string(entry.reason)
            fields["restates"] = .int(Int64(entry.restates))
        case .consumer(let consumer):
            fields["utility"] = .string(consumer.utility)
            fields["consumer"] = .string(consumer.id)
            fields["zone"] = .string(consumer.zone)
            fields["class"] = .string(consumer.consumerClass.rawValue)
            fields["normalizer"] = .int(consumer.normalizer)
        case .zones(let entry):
            fields["count"] = .int(Int64(entry.count))
            fields["root"] = .string(entry.root.base64)
        case .certificate(let entry):
            fields["id"] = .string(entry.id)
            fields["consumer"] = .string(entry.consumer)
            fields["start"] = .int(entry.start)
            fields["end"] = .int(entry.end)
            fields["wh"] = .int(entry.wh)
            fields["technology"] = .string(entry.technology)
            fields["issuer"] = .string(entry.issuer)
        case .factors(let entry):
            fields["dataset"] = .string(entry.dataset)
            fields["count"] = .int(Int64(entry.count))
            fields["root"] = .string(entry.root.base64)
        case .period(let entry):
            fields["period"] = .string(entry.period.description)
            fields["method"] = .string(entry.method)
            fields["params"] = entry.paramsValue
            fields.merge(entry.benchmarkFields) { $1 }
            fields["consumers"] = .int(Int64(entry.consumers))
            if let restates = entry.restates { fields["restates"] = .int(Int64(restates)) }
        case .score(let entry):
            fields.merge(entry.fields) { _, new in new }
        case .key(let next):
            fields["vkey"] = .string(next.vkey)
        }
        return JSONValue.object(fields).canonicalBytes()
    }
}

/// A `readings` entry: one accepted batch, committed to by the RFC 6962 root of its
/// reading leaves. A `corrections` entry has the same fields, its root over
/// `CorrectionLeaf`s.
public struct ReadingsEntry: Sendable, Equatable {
    public var utility: String
    public var count: Int
    /// Root over the batch's reading leaves, in batch order.
    public var root: Hash256
    public var firstStart: Int64
    public var lastEnd: Int64
    /// The client's batch id, if it gave one.
    public var batch: String?

    public init(utility: String, count: Int, root: Hash256, firstStart: Int64, lastEnd: Int64, batch: String?) {
        self.utility = utility
        self.count = count
        self.root = root
        self.firstStart = firstStart
        self.lastEnd = lastEnd
        self.batch = batch
    }
}

/// A `zones` entry: the zone tree, committed to by the root over its zone leaves ordered by zone.
public struct ZonesEntry: Sendable, Equatable {
    public var count: Int
    public var root: Hash256

    public init(tree: ZoneTree) {
        count = tree.zones.count
        root = RFC6962.rootHash(ofLeafHashes: tree.zones.map { RFC6962.leafHash($0.leafBytes) })
    }

    public init(count: Int, root: Hash256) {
        self.count = count
        self.root = root
    }
}

/// A `factors` entry: one dataset, committed to by the root over its row leaves
/// ordered by zone, kind, start.
public struct FactorsEntry: Sendable, Equatable {
    public var dataset: String
    public var count: Int
    public var root: Hash256

    /// `rowLeaves` in ledger order (zone, kind, start).
    public init(dataset: String, rowLeaves: [[UInt8]]) {
        self.dataset = dataset
        count = rowLeaves.count
        root = RFC6962.rootHash(ofLeafHashes: rowLeaves.map { RFC6962.leafHash($0) })
    }

    public init(dataset: String, count: Int, root: Hash256) {
        self.dataset = dataset
        self.count = count
        self.root = root
    }
}

/// A `restatement` entry: an administrator opened the closed `period` again for
/// corrections. Closing it again appends a `period` entry that restates `restates`.
public struct RestatementEntry: Sendable, Equatable {
    public var period: Period
    /// Why, in the administrator's words.
    public var reason: String
    /// The index of the `period` entry whose figures are being restated.
    public var restates: UInt64

    public init(period: Period, reason: String, restates: UInt64) {
        self.period = period
        self.reason = reason
        self.restates = restates
    }
}
