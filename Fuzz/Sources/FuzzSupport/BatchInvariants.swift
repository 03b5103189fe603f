import CarbonModel

/// The bookkeeping every parsed bulk body must keep: one index per good record, indexes
/// strictly increasing and inside the body, no record both good and bad, every record
/// counted once.
public func checkInvariants<Record>(_ batch: ParsedBatch<Record>) {
    check(batch.records.count == batch.recordIndex.count, "records and recordIndex differ in length")
    check(zip(batch.recordIndex, batch.recordIndex.dropFirst()).allSatisfy { $0 < $1 }, "recordIndex not increasing")
    let bad = Set(batch.errors.map(\.index))
    check(bad.allSatisfy { (0..<batch.count).contains($0) }, "an error index outside 0..<count")
    check(batch.recordIndex.allSatisfy { (0..<batch.count).contains($0) && !bad.contains($0) }, "a good record is also bad")
    check(batch.records.count + bad.count == batch.count, "good + bad != count")
}

/// The same for any list of rows with record indexes and errors (factor files).
public func checkIndexes(rows: Int, recordIndex: [Int], errors: [RecordError]) {
    check(rows == recordIndex.count, "rows and recordIndex differ in length")
    check(zip(recordIndex, recordIndex.dropFirst()).allSatisfy { $0 < $1 }, "recordIndex not increasing")
    let bad = Set(errors.map(\.index))
    check(recordIndex.allSatisfy { $0 >= 0 && !bad.contains($0) }, "a good row is also bad")
}
