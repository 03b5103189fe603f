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
