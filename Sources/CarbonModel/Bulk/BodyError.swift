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
