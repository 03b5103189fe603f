import CarbonAccounting
import CarbonModel
import TransparencyLog

/// Why bytes are not a ledger entry, naming the field.
public struct LedgerEntryError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The field (dotted within `params`), or nil for the entry as a whole.
    public var field: String?
    public var message: String

    public init(field: String?, message: String) {
        self.field = field
        self.message = message
    }

    public var description: String { field.map { "\($0): \(message)" } ?? message }
}

extension LedgerEntry {
    /// Decodes entry bytes, the inverse of `canonicalBytes(time:)`: the entry, which must
    /// be exactly what encoding it gives back (canonical JSON, every field of its kind,
    /// no other), and the time it was appended at.
    public static func decode(canonicalBytes bytes: [UInt8]) throws(LedgerEntryError) -> (entry: LedgerEntry, time: Int64) {
        let value: JSONValue
        do {
            value = try JSONValue.parse(ledgerEntry: bytes)
        } catch {
            throw LedgerEntryError(field: nil, message: "not JSON: \(error)")
        }
        return try decode(value, canonicalBytes: bytes)
    }

    /// Decodes entry bytes already parsed into `value` (see `decode(canonicalBytes:)`).
    public static func decode(
        _ value: JSONValue, canonicalBytes bytes: [UInt8]
    ) throws(LedgerEntryError) -> (entry: LedgerEntry, time: Int64) {
        guard case .object(let object) = value else { throw LedgerEntryError(field: nil, message: "not a JSON object") }
        let fields = EntryFields(object)
        guard try fields.int("v") == 1 else { throw fields.error("v", "must be 1") }
        let time = try fields.int("time")
        let entry = try decode(kind: try fields.string("kind"), fields)
        guard entry.canonicalBytes(time: time) == bytes else {
            throw LedgerEntryError(field: nil, message: "not in canonical form, or has fields its kind does not have")
        }
        return (entry, time)
    }

    /// Decodes entry bytes (see `decode(canonicalBytes:)`), dropping the time.
    public init(canonicalBytes bytes: [UInt8]) throws(LedgerEntryError) {
        self = try Self.decode(canonicalBytes: bytes).entry
    }

    private static func decode(kind: String, _ f: EntryFields) throws(LedgerEntryError) -> LedgerEntry {
        switch kind {
        case "readings", "corrections":
            let batch = f.has("batch") && f["batch"]?.isNull == false ? try f.string("batch") : nil
            let entry = ReadingsEntry(
                utility: try f.string("utility"), count: try f.count("count"), root: try f.hash("root"),
                firstStart: try f.int("first_start"), lastEnd: try f.int("last_end"), batch: batch)
            return kind == "readings" ? .readings(entry) : .corrections(entry)
        case "restatement":
            guard let period = Period(try f.string("period")) else { throw f.error("period", "not a period") }
            return .restatement(RestatementEntry(
                period: period, reason: try f.string("reason"), restates: try f.index("restates")))
        case "consumer":
            return .consumer(Consumer(
                id: try f.string("consumer"), utility: try f.string("utility"), zone: try f.string("zone"),
                consumerClass: try f.consumerClass("class"), normalizer: try f.int("normalizer")))
        case "zones":
            return .zones(ZonesEntry(count: try f.count("count"), root: try f.hash("root")))
        case "factors":
            return .factors(FactorsEntry(dataset: try f.string("dataset"), count: try f.count("count"), root: try f.hash("root")))
        case "certificate":
            return .certificate(Certificate(
                id: try f.string("id"), consumer: try f.string("consumer"), start: try f.int("start"), end: try f.int("end"),
                wh: try f.int("wh"), technology: try f.string("technology"), issuer: try f.string("issuer")))
        case "period":
            return .period(try PeriodEntry(f))
        case "score":
            return .score(try ScoreEntry(f))
        case "key":
            do {
                return .key(try NoteVerifier(try f.string("vkey")))
            } catch let error as LedgerEntryError {
                throw error
            } catch {
                throw f.error("vkey", "not a verifier key (\(error))")
            }
        default:
            throw f.error("kind", "unknown kind \"\(kind.prefix(40))\"")
        }
    }
}

extension PeriodEntry {
    init(_ f: EntryFields) throws(LedgerEntryError) {
        guard let period = Period(try f.string("period")) else { throw f.error("period", "not a period") }
        let params = try f.object("params")
        let weights = try params.object("weights")
        guard let baseline = BaselineMode(rawValue: try params.string("baseline")) else {
            throw params.error("baseline", "unknown baseline")
        }
        var benchmarks: [StaticBenchmark] = []
        for value in try params.array("static_benchmarks") {
            let b = try params.element("static_benchmarks", value)
            benchmarks.append(StaticBenchmark(
                zone: try b.string("zone"), consumerClass: try b.consumerClass("class"), ugPerDay: try b.int("ug_per_day")))
        }
        let parameters = ProgramParameters(
            minPeers: try params.count("min_peers"),
            weights: ScoreWeights(
                peer: try weights.int("peer"), reduction: try weights.int("reduction"), timing: try weights.int("timing"),
                green: try weights.int("green")),
            pointsPerKg: try params.int("points_per_kg"), baseline: baseline,
            eligibleMaxGrade: try params.count("eligible_max_grade"), staticBenchmarks: benchmarks)
        let groups = try RecordedList<PeerBenchmark>.decode("benchmarks", from: f) { value throws(LedgerEntryError) in
            let b = try f.element("benchmarks", value)
            return PeerBenchmark(
                zone: try b.string("zone"), consumerClass: try b.consumerClass("class"), n: try b.count("n"),
                sumLocUg: try b.integer("sum_loc_ug"), sumNorm: try b.integer("sum_norm"))
        }
        self.init(
            period: period, method: try f.string("method"), timezone: try params.string("timezone"), parameters: parameters,
            benchmarks: groups, consumers: try f.count("consumers"),
            restates: f.has("restates") ? try f.index("restates") : nil)
    }
}

extension ScoreEntry {
    init(_ f: EntryFields) throws(LedgerEntryError) {
        guard let period = Period(try f.string("period")) else { throw f.error("period", "not a period") }
        guard let figures = ScoreEntry.figures(from: f.object) else {
            throw LedgerEntryError(field: nil, message: "a figure of cl-score/1 is missing or malformed")
        }
        let inputs = try f.object("inputs")
        self.init(
            consumer: try f.string("consumer"), period: period, method: try f.string("method"), figures: figures,
            readingsRoot: try inputs.hash("readings_root"),
            certificates: try RecordedList<String>.decode("certificates", from: inputs) { value throws(LedgerEntryError) in
                guard let id = value.stringValue else { throw inputs.error("certificates", "an id is not a string") }
                return id
            },
            factorRoots: try RecordedList<Hash256>.decode("factors", from: inputs) { value throws(LedgerEntryError) in
                guard let root = value.stringValue.flatMap(Hash256.init(base64:)) else {
                    throw inputs.error("factors", "a root is not a base64 SHA-256 hash")
                }
                return root
            },
            restates: f.has("restates") ? try f.index("restates") : nil)
    }
}

/// The fields of an entry (or of an object inside one), read with their type checked.
struct EntryFields {
    let object: [String: JSONValue]
    /// Where this object sits in the entry (`params.`), for messages.
    let prefix: String

    init(_ object: [String: JSONValue], prefix: String = "") {
        self.object = object
        self.prefix = prefix
    }

    subscript(_ key: String) -> JSONValue? { object[key] }

    func has(_ key: String) -> Bool { object[key] != nil }

    func error(_ key: String, _ message: String) -> LedgerEntryError {
        LedgerEntryError(field: prefix + key, message: message)
    }

    func value(_ key: String) throws(LedgerEntryError) -> JSONValue {
        guard let value = object[key] else { throw error(key, "missing") }
        return value
    }

    func string(_ key: String) throws(LedgerEntryError) -> String {
        guard let text = try value(key).stringValue else { throw error(key, "not a string") }
        return text
    }

    func int(_ key: String) throws(LedgerEntryError) -> Int64 {
        guard let number = try value(key).intValue else { throw error(key, "not an integer within Int64") }
        return number
    }

    /// An integer of any size the ledger writes (`JSONValue.integer`).
    func integer(_ key: String) throws(LedgerEntryError) -> Int128 {
        switch try value(key) {
        case .int(let number): return Int128(number)
        case .bigInt(let number): return number
        default: throw error(key, "not an integer")
        }
    }

    /// A count: a non-negative integer.
    func count(_ key: String) throws(LedgerEntryError) -> Int {
        let number = try int(key)
        guard number >= 0, let exact = Int(exactly: number) else { throw error(key, "must not be negative") }
        return exact
    }

    /// An entry index: a non-negative integer.
    func index(_ key: String) throws(LedgerEntryError) -> UInt64 {
        let number = try int(key)
        guard number >= 0 else { throw error(key, "must not be negative") }
        return UInt64(number)
    }

    func hash(_ key: String) throws(LedgerEntryError) -> Hash256 {
        guard let hash = Hash256(base64: try string(key)) else { throw error(key, "not a base64 SHA-256 hash") }
        return hash
    }

    func consumerClass(_ key: String) throws(LedgerEntryError) -> ConsumerClass {
        guard let value = ConsumerClass(rawValue: try string(key)) else { throw error(key, "unknown class") }
        return value
    }

    func array(_ key: String) throws(LedgerEntryError) -> [JSONValue] {
        guard let items = try value(key).arrayValue else { throw error(key, "not an array") }
        return items
    }

    func object(_ key: String) throws(LedgerEntryError) -> EntryFields {
        guard let members = try value(key).objectValue else { throw error(key, "not an object") }
        return EntryFields(members, prefix: prefix + key + ".")
    }

    /// An element of the array `key` that must be an object.
    func element(_ key: String, _ value: JSONValue) throws(LedgerEntryError) -> EntryFields {
        guard let members = value.objectValue else { throw error(key, "an element is not an object") }
        return EntryFields(members, prefix: prefix + key + "[].")
    }
}
