import CarbonLedger
import CarbonModel
import Foundation
import GRDB

/// One leaf of a `corrections` entry as `correction_chunks` keeps it: why, the version
/// it replaced, and that version's figures (the version in force is in `readings`).
struct CorrectionRecord: Equatable {
    /// A version of a reading as stored, with row ids for its meter and consumer.
    struct StoredVersion: Equatable {
        var start: Int64
        var meter: Int64
        var consumerRow: Int64
        var durationS: Int64
        var importWh: Int64
        var exportWh: Int64
        /// `QualityCode`.
        var quality: Int64
        var ref: String?
    }

    var reason: String
    var replaces: ReadingVersion
    var replaced: StoredVersion
}

/// The records of one chunk (`BatchChunks.size` leaves) of a `corrections` entry,
/// encoded as one blob: for each, in batch order, unsigned LEB128 varints of the
/// replaced version's entry and position, start, meter id, consumer row id, duration,
/// import, export and quality, then its reference (length + 1, 0 for none, then the
/// UTF-8 bytes) and the reason: 1 + its place in `ReadingCorrection.usualReasons`, or
/// 0, its length and its bytes.
enum CorrectionChunks {
    static func encode(_ records: ArraySlice<CorrectionRecord>) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(records.count * 48)
        func varint(_ value: Int64) { Varint.append(value, to: &bytes) }
        for record in records {
            let old = record.replaced
            for value in [
                Int64(record.replaces.entry), Int64(record.replaces.position), old.start, old.meter, old.consumerRow,
                old.durationS, old.importWh, old.exportWh, old.quality,
            ] {
                varint(value)
            }
            if let ref = old.ref {
                varint(Int64(ref.utf8.count) + 1)
                bytes += ref.utf8
            } else {
                varint(0)
            }
            if let usual = ReadingCorrection.usualReasons.firstIndex(of: record.reason) {
                varint(Int64(usual) + 1)
            } else {
                varint(0)
                varint(Int64(record.reason.utf8.count))
                bytes += record.reason.utf8
            }
        }
        return bytes
    }

    static func decode(_ bytes: [UInt8], entry: Int64) throws -> [CorrectionRecord] {
        var offset = 0
        func corrupt() -> StoreError { StoreError.corrupt("the correction records of entry \(entry)") }
        func varint() throws -> Int64 {
            guard let value = Varint.read(bytes, at: &offset) else { throw corrupt() }
            return value
        }
        func text(count: Int64) throws -> String {
            guard count >= 0, count <= bytes.count - offset else { throw corrupt() }
            defer { offset += Int(count) }
            return String(decoding: bytes[offset..<offset + Int(count)], as: UTF8.self)
        }
        var records: [CorrectionRecord] = []
        while offset < bytes.count {
            let (entry, position) = (try varint(), try varint())
            guard entry >= 0, let position = Int(exactly: position) else { throw corrupt() }
            let old = CorrectionRecord.StoredVersion(
                start: try varint(), meter: try varint(), consumerRow: try varint(), durationS: try varint(),
                importWh: try varint(), exportWh: try varint(), quality: try varint(), ref: nil)
            var record = CorrectionRecord(
                reason: "", replaces: ReadingVersion(entry: UInt64(entry), position: position), replaced: old)
            let refCount = try varint()
            if refCount > 0 { record.replaced.ref = try text(count: refCount - 1) }
            let reason = try varint()
            switch reason {
            case 0: record.reason = try text(count: try varint())
            case 1...Int64(ReadingCorrection.usualReasons.count): record.reason = ReadingCorrection.usualReasons[Int(reason) - 1]
            default: throw corrupt()
            }
            records.append(record)
        }
        return records
    }

    /// Stores the records of a `corrections` entry, a chunk a row, and notes which
    /// batches' versions they replaced.
    static func write(_ records: [CorrectionRecord], entry: UInt64, db: some SQLConnection) throws {
        for (chunk, start) in stride(from: 0, to: records.count, by: BatchChunks.size).enumerated() {
            let slice = records[start..<min(start + BatchChunks.size, records.count)]
            try db.execute(
                "INSERT INTO correction_chunks(entry, chunk, versions) VALUES (?, ?, ?)", Int64(entry), chunk,
                Data(encode(slice)))
        }
        for replacedEntry in Set(records.map(\.replaces.entry)).sorted() {
            try db.execute(
                "INSERT INTO superseded_in(entry, corrections) VALUES (?, ?) ON CONFLICT DO NOTHING", Int64(replacedEntry),
                Int64(entry))
        }
    }

    /// The records at `positions` of the `corrections` entry `entry`, by position; empty
    /// for a `readings` entry.
    static func records(ofEntry entry: Int64, positions: Range<Int>, db: some SQLConnection) throws -> [Int: CorrectionRecord] {
        guard !positions.isEmpty else { return [:] }
        var found: [Int: CorrectionRecord] = [:]
        try db.forEachRow(
            "SELECT chunk, versions FROM correction_chunks WHERE entry = ? AND chunk >= ? AND chunk <= ?",
            [entry, Int64(positions.lowerBound / BatchChunks.size), Int64((positions.upperBound - 1) / BatchChunks.size)]
                .map(\.databaseValue)
        ) { row in
            let first = (row[0] as Int) * BatchChunks.size
            for (k, record) in try decode(Array(row[1] as Data), entry: entry).enumerated() where positions.contains(first + k) {
                found[first + k] = record
            }
        }
        return found
    }

    /// The replaced versions once at `positions` of batch `entry`, by position, from
    /// the records of the `corrections` entries that replaced them.
    static func replacedVersions(
        ofBatch entry: Int64, positions: Range<Int>, db: some SQLConnection
    ) throws -> [Int: CorrectionRecord.StoredVersion] {
        let corrections = try db.rows("SELECT corrections FROM superseded_in WHERE entry = ?", entry).map { $0[0] as Int64 }
        var found: [Int: CorrectionRecord.StoredVersion] = [:]
        for correction in corrections {
            let blobs = try db.rows("SELECT versions FROM correction_chunks WHERE entry = ? ORDER BY chunk", correction)
                .map { $0[0] as Data }
            for blob in blobs {
                for record in try decode(Array(blob), entry: correction)
                where record.replaces.entry == UInt64(entry) && positions.contains(record.replaces.position) {
                    found[record.replaces.position] = record.replaced
                }
            }
        }
        return found
    }
}
