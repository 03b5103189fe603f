import CarbonAPI
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

/// The writer's answer to a batch.
public enum IngestOutcome: Sendable, Equatable {
    /// Committed durably (possibly nothing new).
    case committed(IngestAnswer)
    /// Refused as a whole; nothing was stored. `kind` is the worst rejection.
    case rejected(kind: RejectionKind, errors: [RecordError])
    /// A period was closed (or had been).
    case closed(CloseAnswer)
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
