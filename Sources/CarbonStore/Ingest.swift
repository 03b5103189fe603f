import CarbonAccounting
import CarbonLedger
import CarbonModel

/// Why a record of a batch was refused; decides the batch's HTTP status.
public enum RejectionKind: Int, Sendable, Comparable {
    /// Conflicts with stored data or with another record (409).
    case conflict
    /// Missing, malformed, out of range, or unknown referent (422).
    case invalid
    /// Names another utility's data (403).
    case forbidden

    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// One refused record.
public struct Rejection: Sendable, Equatable {
    public var kind: RejectionKind
    public var error: RecordError

    public init(_ kind: RejectionKind, index: Int, field: String, _ message: String) {
        self.kind = kind
        self.error = RecordError(index: index, field: field, message: message)
    }
}

/// Who sends a batch and what they may touch.
public struct Submitter: Sendable, Equatable {
    /// The only utility whose data this peer may write; nil for an admin.
    public var utility: String?
    /// The namespace of batch ids (one per utility, one for admins).
    public var scope: String

    public init(utility: String?) {
        self.utility = utility
        self.scope = utility.map { "utility:" + $0 } ?? "admin"
    }
}

/// A batch of readings on its way to the ledger writer.
public struct ReadingBatch: Sendable {
    public var submitter: Submitter
    public var batchID: String?
    /// Store the good records and report the rest, instead of all-or-nothing.
    public var partial: Bool
    public var hashed: HashedReadings
    /// Records that failed field validation while parsing.
    public var parseErrors: [RecordError]

    public init(submitter: Submitter, batchID: String?, partial: Bool, hashed: HashedReadings, parseErrors: [RecordError]) {
        self.submitter = submitter
        self.batchID = batchID
        self.partial = partial
        self.hashed = hashed
        self.parseErrors = parseErrors
    }
}

/// A batch of corrections (`POST /v1/readings?correct=true`) on its way to the ledger writer.
public struct CorrectionBatch: Sendable {
    public var submitter: Submitter
    public var batchID: String?
    /// Store the good records and report the rest, instead of all-or-nothing.
    public var partial: Bool
    /// The corrections that passed field validation, in body order.
    public var corrections: [ReadingCorrection]
    /// The 0-based position in the body of each correction (for error reports).
    public var recordIndex: [Int]
    /// Records that failed field validation while parsing.
    public var parseErrors: [RecordError]

    public init(
        submitter: Submitter, batchID: String?, partial: Bool, corrections: [ReadingCorrection], recordIndex: [Int],
        parseErrors: [RecordError]
    ) {
        self.submitter = submitter
        self.batchID = batchID
        self.partial = partial
        self.corrections = corrections
        self.recordIndex = recordIndex
        self.parseErrors = parseErrors
    }
}

/// A batch of consumer registrations on its way to the ledger writer.
public struct ConsumerBatch: Sendable {
    public var submitter: Submitter
    public var partial: Bool
    public var consumers: [Consumer]
    public var recordIndex: [Int]
    public var parseErrors: [RecordError]

    public init(submitter: Submitter, partial: Bool, consumers: [Consumer], recordIndex: [Int], parseErrors: [RecordError]) {
        self.submitter = submitter
        self.partial = partial
        self.consumers = consumers
        self.recordIndex = recordIndex
        self.parseErrors = parseErrors
    }
}

/// What a committed batch wrote. Kept under the batch's id, so that the same id sent
/// again gets the same result (as JSON, in the field names of the API's answer, which
/// rows written before this type existed also have).
public struct BatchResult: Codable, Sendable, Equatable {
    /// Records stored by this batch.
    public var accepted: Int
    /// Records already stored with the same content.
    public var duplicates: Int
    /// The first ledger entry the batch wrote; nil when it wrote none.
    public var entry: UInt64?
    /// Every entry the batch wrote.
    public var entries: [UInt64]
    /// The signed checkpoint containing the batch's entries (the latest when it wrote none).
    public var checkpoint: String?
    /// Refused records of a partial batch.
    public var errors: [RecordError]
    /// This is the result given earlier to the same batch id.
    public var replayed: Bool

    public init(
        accepted: Int, duplicates: Int, entry: UInt64?, entries: [UInt64], errors: [RecordError] = [],
        checkpoint: String? = nil, replayed: Bool = false
    ) {
        self.accepted = accepted
        self.duplicates = duplicates
        self.entry = entry
        self.entries = entries
        self.checkpoint = checkpoint
        self.errors = errors
        self.replayed = replayed
    }

    private enum CodingKeys: CodingKey { case accepted, duplicates, entry, entries, checkpoint, errors, replayed }

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
}

/// The writer's answer to a batch (readings, consumers, certificates, a factor
/// dataset, a key rotation).
public enum BatchOutcome: Sendable, Equatable {
    /// Committed durably (possibly nothing new).
    case committed(BatchResult)
    /// Refused as a whole; nothing was stored. `kind` is the worst rejection.
    case rejected(kind: RejectionKind, errors: [RecordError])
}

/// What closing a period wrote.
public struct PeriodCloseResult: Sendable, Equatable {
    public var period: Period
    /// Index of the `period` entry.
    public var entry: UInt64
    /// Consumers scored (one `score` entry each, right after the `period` entry).
    public var consumers: Int
    /// The period was closed before this request.
    public var alreadyClosed: Bool
    /// For a restated period closed again: the `period` entry whose figures this close replaced.
    public var restates: UInt64?
    /// The signed checkpoint containing the entries.
    public var checkpoint: String?

    init(period: Period, entry: UInt64, consumers: Int, alreadyClosed: Bool, restates: UInt64? = nil) {
        self.period = period
        self.entry = entry
        self.consumers = consumers
        self.alreadyClosed = alreadyClosed
        self.restates = restates
    }
}

/// The writer's answer to a period close.
public enum CloseOutcome: Sendable, Equatable {
    case closed(PeriodCloseResult)
    /// The period cannot close yet (or at all); nothing was stored.
    case rejected(kind: RejectionKind, errors: [RecordError])
}

extension [Rejection] {
    /// The worst kind among the rejections, and one error per bad record ordered by
    /// record (interface.md: one element per bad record). A record with several
    /// problems is named by its first field, and its message lists them all.
    func summarized() -> (kind: RejectionKind, errors: [RecordError])? {
        guard let worst = map(\.kind).max() else { return nil }
        var byRecord: [Int: RecordError] = [:]
        for rejection in self {
            let error = rejection.error
            if var first = byRecord[error.index] {
                first.message += "; " + error.message
                byRecord[error.index] = first
            } else {
                byRecord[error.index] = error
            }
        }
        return (worst, byRecord.values.sorted { $0.index < $1.index })
    }
}
