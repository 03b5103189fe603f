/// One bad record of a bulk body: which, which field, and what to fix.
///
/// The daemon returns these as the `errors` array of its problem+json answer.
public struct RecordError: Error, Sendable, Equatable, Hashable, Codable, CustomStringConvertible {
    /// The record's 0-based position in the body (CSV: 0 is the first row after the
    /// header; NDJSON: blank lines are not counted).
    public var index: Int
    /// The JSON or CSV field name; empty when the record as a whole is bad.
    public var field: String
    /// What is wrong, in words a utility engineer can act on.
    public var message: String

    /// An error about `field` of record `index`.
    public init(index: Int, field: String, message: String) {
        self.index = index
        self.field = field
        self.message = message
    }

    /// `record 3: import_wh must be ...`.
    public var description: String { "record \(index): \(message)" }
}

/// A problem that makes the rest of a bulk body unreadable, so no record of it can be
/// trusted: the whole body is refused.
public enum BodyError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The body has no records at all: it is empty or only whitespace (a CSV body: no header).
    case empty
    /// The body is not UTF-8; `offset` is the first bad byte.
    case notUTF8(offset: Int)
    /// The body holds more than `limit` records (HTTP 413). Thrown as soon as record
    /// `limit + 1` starts.
    case tooManyRecords(limit: Int)
    /// The body's structure is broken at byte `offset` while reading record `index`: a
    /// JSON array syntax error, or a CSV quote that is never closed or is followed by
    /// text. `message` says what and where (line and column).
    case malformed(index: Int, offset: Int, message: String)
    /// The CSV header row cannot be used: an unknown, repeated or unnamed column, or a
    /// required column missing.
    case badHeader(message: String)

    /// What is wrong, in words (the problem+json `detail`).
    public var description: String {
        switch self {
        case .empty: "the body holds no records"
        case .notUTF8(let offset): "the body is not valid UTF-8 (first bad byte at offset \(offset))"
        case .tooManyRecords(let limit): "the body holds more than \(limit) records; split it into smaller batches"
        case .malformed(_, _, let message): message
        case .badHeader(let message): "the CSV header cannot be used: \(message)"
        }
    }
}

/// The records of a bulk body that passed every rule, and an error for each that did not.
public struct ParsedBatch<Record: Sendable>: Sendable {
    /// The good records, in body order.
    public var records: [Record]
    /// For each good record, its 0-based index in the body.
    public var recordIndex: [Int]
    /// At least one error for every bad record, in body order (one per bad field).
    public var errors: [RecordError]
    /// How many records the body holds, good and bad.
    public var count: Int

    /// A batch with the given parts.
    public init(records: [Record] = [], recordIndex: [Int] = [], errors: [RecordError] = [], count: Int = 0) {
        self.records = records
        self.recordIndex = recordIndex
        self.errors = errors
        self.count = count
    }

    /// Whether every record was good.
    public var isClean: Bool { errors.isEmpty }
}

extension ParsedBatch: Equatable where Record: Equatable {}
