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
