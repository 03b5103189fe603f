/// The JSON bodies of the socket API (interface.md section 7), shared by the
/// daemon, which encodes them, and its clients, which decode them, so the two
/// cannot drift apart. Property names are the wire names.

public import CarbonModel

/// `GET /v1/health`.
public struct HealthAnswer: Codable, Sendable, Equatable {
    /// `ok`, or `degraded` while `problems` lists why.
    public var status: String
    public var version: String
    public var size: UInt64
    public var last_checkpoint: String?
    /// What is wrong (the writer refusing writes, a failing close); absent when ok.
    public var problems: [String]?

    public init(status: String, version: String, size: UInt64, last_checkpoint: String?, problems: [String]? = nil) {
        self.status = status
        self.version = version
        self.size = size
        self.last_checkpoint = last_checkpoint
        self.problems = problems
    }
}

/// `GET /v1/whoami`.
public struct WhoamiAnswer: Codable, Sendable, Equatable {
    public var uid: UInt32?
    public var gid: UInt32?
    public var pid: Int32?
    public var role: String
    public var utility: String?
    public var consumers: [String]?
    /// The 0-based index of the matching `[[access.grant]]`.
    public var grant: Int

    public init(uid: UInt32?, gid: UInt32?, pid: Int32?, role: String, utility: String?, consumers: [String]?, grant: Int) {
        self.uid = uid
        self.gid = gid
        self.pid = pid
        self.role = role
        self.utility = utility
        self.consumers = consumers
        self.grant = grant
    }
}

/// `GET /v1/consumers/{id}`.
public struct ConsumerAnswer: Codable, Sendable, Equatable {
    public var consumer: String
    public var utility: String
    public var zone: String
    public var `class`: String
    public var normalizer: Int64
    /// The index of the consumer's latest `consumer` entry.
    public var entry: UInt64

    public init(consumer: String, utility: String, zone: String, class: String, normalizer: Int64, entry: UInt64) {
        self.consumer = consumer
        self.utility = utility
        self.zone = zone
        self.class = `class`
        self.normalizer = normalizer
        self.entry = entry
    }
}

/// `POST /v1/readings` and `POST /v1/consumers`: what became of a batch.
public struct IngestAnswer: Codable, Sendable, Equatable {
    /// Records stored by this batch.
    public var accepted: Int
    /// Records already stored with the same content.
    public var duplicates: Int
    /// The first ledger entry the batch wrote; null when it wrote none.
    public var entry: UInt64?
    /// Every entry the batch wrote (one for readings, one per new or changed consumer).
    public var entries: [UInt64]
    /// The signed checkpoint containing the batch's entries (the latest when it wrote none).
    public var checkpoint: String?
    /// Refused records, with `?partial=true` (omitted when empty).
    public var errors: [RecordError]
    /// This is the answer given earlier to the same batch id (omitted when false).
    public var replayed: Bool

    public init(accepted: Int, duplicates: Int, entry: UInt64?, entries: [UInt64], checkpoint: String?,
                errors: [RecordError], replayed: Bool = false) {
        self.accepted = accepted
        self.duplicates = duplicates
        self.entry = entry
        self.entries = entries
        self.checkpoint = checkpoint
        self.errors = errors
        self.replayed = replayed
    }

    enum CodingKeys: CodingKey { case accepted, duplicates, entry, entries, checkpoint, errors, replayed }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        accepted = try container.decode(Int.self, forKey: .accepted)
        duplicates = try container.decode(Int.self, forKey: .duplicates)
        entry = try container.decodeIfPresent(UInt64.self, forKey: .entry)
        entries = try container.decodeIfPresent([UInt64].self, forKey: .entries) ?? []
        checkpoint = try container.decodeIfPresent(String.self, forKey: .checkpoint)
        errors = try container.decodeIfPresent([RecordError].self, forKey: .errors) ?? []
        replayed = try container.decodeIfPresent(Bool.self, forKey: .replayed) ?? false
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(accepted, forKey: .accepted)
        try container.encode(duplicates, forKey: .duplicates)
        try container.encode(entry, forKey: .entry)  // an explicit null when nothing was written
        try container.encode(entries, forKey: .entries)
        try container.encode(checkpoint, forKey: .checkpoint)
        if !errors.isEmpty { try container.encode(errors, forKey: .errors) }
        if replayed { try container.encode(true, forKey: .replayed) }
    }
}

/// `GET /v1/ledger/key`.
public struct KeyAnswer: Codable, Sendable, Equatable {
    public var origin: String
    public var keys: [String]

    public init(origin: String, keys: [String]) {
        self.origin = origin
        self.keys = keys
    }
}

/// `POST /v1/ledger/key/rotate`: the body names the new private key file.
public struct KeyRotationRequest: Codable, Sendable, Equatable {
    /// Path of the new key file, as the daemon sees it (mode 0600, readable by the daemon).
    public var key: String

    public init(key: String) { self.key = key }
}

/// The answer of `POST /v1/ledger/key/rotate`.
public struct KeyRotationAnswer: Codable, Sendable, Equatable {
    /// Index of the `key` entry, signed by the old key.
    public var entry: UInt64
    /// The new verifier key, to publish.
    public var vkey: String
    /// The key it replaces.
    public var previous: String
    /// For how many seconds after the rotation the old key co-signs checkpoints (`ledger.key_overlap`).
    public var overlap_s: Int64
    /// The first checkpoint that covers the `key` entry.
    public var checkpoint: String?

    public init(entry: UInt64, vkey: String, previous: String, overlap_s: Int64, checkpoint: String?) {
        self.entry = entry
        self.vkey = vkey
        self.previous = previous
        self.overlap_s = overlap_s
        self.checkpoint = checkpoint
    }
}

/// One element of `GET /v1/ledger/entries`.
public struct EntryAnswer: Codable, Sendable, Equatable {
    public var index: UInt64
    /// The canonical bytes of the entry.
    public var entry: String
    /// Base64 Ed25519 signature over the entry context and bytes.
    public var signature: String
    public var leaf_hash: String

    public init(index: UInt64, entry: String, signature: String, leaf_hash: String) {
        self.index = index
        self.entry = entry
        self.signature = signature
        self.leaf_hash = leaf_hash
    }
}

/// `GET /v1/ledger/entries`.
public struct EntriesAnswer: Codable, Sendable, Equatable {
    public var entries: [EntryAnswer]
    /// The latest checkpoint's tree size.
    public var size: UInt64

    public init(entries: [EntryAnswer], size: UInt64) {
        self.entries = entries
        self.size = size
    }
}

/// `GET /v1/ledger/proof/inclusion`.
public struct InclusionAnswer: Codable, Sendable, Equatable {
    public var index: UInt64
    public var size: UInt64
    public var root: String
    public var hashes: [String]

    public init(index: UInt64, size: UInt64, root: String, hashes: [String]) {
        self.index = index
        self.size = size
        self.root = root
        self.hashes = hashes
    }
}

/// `GET /v1/ledger/proof/consistency`.
public struct ConsistencyAnswer: Codable, Sendable, Equatable {
    public var from: UInt64
    public var to: UInt64
    public var hashes: [String]

    public init(from: UInt64, to: UInt64, hashes: [String]) {
        self.from = from
        self.to = to
        self.hashes = hashes
    }
}

/// `GET /v1/readings/{utility}/{meter}/{start}/proof` (ledger.md section 5).
public struct ReadingProofAnswer: Codable, Sendable, Equatable {
    /// The leaf of the version in force (canonical JSON): a reading leaf, or the
    /// correction leaf of the correction that put it in force.
    public var reading: String
    /// For a corrected reading: the version it replaced (`entry`, `position`), and why.
    public var replaces: VersionAnswer?
    public var reason: String?
    public var position: Int
    public var batch_size: Int
    public var batch_path: [String]
    public var entry_index: UInt64
    /// The `readings` entry (canonical JSON).
    public var entry: String
    public var entry_path: [String]
    /// The signed checkpoint `entry_path` leads to.
    public var checkpoint: String

    public init(reading: String, replaces: VersionAnswer? = nil, reason: String? = nil, position: Int, batch_size: Int,
                batch_path: [String], entry_index: UInt64, entry: String, entry_path: [String], checkpoint: String) {
        self.reading = reading
        self.replaces = replaces
        self.reason = reason
        self.position = position
        self.batch_size = batch_size
        self.batch_path = batch_path
        self.entry_index = entry_index
        self.entry = entry
        self.entry_path = entry_path
        self.checkpoint = checkpoint
    }
}

/// A version of a reading: the `readings` or `corrections` entry and the position in its batch.
public struct VersionAnswer: Codable, Sendable, Equatable {
    public var entry: UInt64
    public var position: Int

    public init(entry: UInt64, position: Int) {
        self.entry = entry
        self.position = position
    }
}

/// An RFC 9457 problem body.
public struct ProblemAnswer: Codable, Sendable, Equatable {
    public var type: String
    public var title: String
    public var status: Int
    public var detail: String
    public var errors: [RecordError]?

    public init(type: String, title: String, status: Int, detail: String, errors: [RecordError]?) {
        self.type = type
        self.title = title
        self.status = status
        self.detail = detail
        self.errors = errors
    }
}

/// One factor row as the API shows it.
public struct FactorRowAnswer: Codable, Sendable, Equatable {
    public var zone: String
    public var kind: String
    public var start: String
    public var end: String
    public var mg_per_kwh: Int64
    public var source: String

    public init(zone: String, kind: String, start: String, end: String, mg_per_kwh: Int64, source: String) {
        self.zone = zone
        self.kind = kind
        self.start = start
        self.end = end
        self.mg_per_kwh = mg_per_kwh
        self.source = source
    }
}

/// One step of a factor lookup: a zone's sub-annual rows (`year` null) or its annual row of `year`.
public struct FactorStepAnswer: Codable, Sendable, Equatable {
    public var zone: String
    public var kind: String
    public var year: Int64?

    public init(zone: String, kind: String, year: Int64?) {
        self.zone = zone
        self.kind = kind
        self.year = year
    }
}

/// `GET /v1/factors?zone=&at=&kind=`: the factor that applies, and where it came from.
public struct FactorAnswer: Codable, Sendable, Equatable {
    public var zone: String
    public var at: String
    public var kind: String
    public var mg_per_kwh: Int64
    public var dataset: String
    public var row: FactorRowAnswer
    /// The zones and years tried, in order.
    public var path: [FactorStepAnswer]
    /// The residual mix was missing and the average was used.
    public var residual_fallback: Bool

    public init(zone: String, at: String, kind: String, mg_per_kwh: Int64, dataset: String, row: FactorRowAnswer,
                path: [FactorStepAnswer], residual_fallback: Bool) {
        self.zone = zone
        self.at = at
        self.kind = kind
        self.mg_per_kwh = mg_per_kwh
        self.dataset = dataset
        self.row = row
        self.path = path
        self.residual_fallback = residual_fallback
    }
}
