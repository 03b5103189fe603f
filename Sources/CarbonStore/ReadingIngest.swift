import CarbonLedger
import Foundation
import CarbonModel
import TransparencyLog

/// Deciding and storing one batch of readings inside the writer's transaction.
///
/// Cost per reading on the common path (a meter's next interval): two hash
/// lookups (consumer, meter) and one row appended to the readings B-tree. Only
/// a reading that starts before its meter's last stored end is checked against
/// stored rows, with one bounded range query.
struct ReadingIngest<Tables: IngestTables> {
    let batch: ReadingBatch
    let tables: Tables
    let program: Program

    private enum Status: UInt8 { case accepted, duplicate, rejected }

    /// Where each reading's meter is: a position in the cache, or a meter new to this batch.
    private enum MeterRef {
        case known(Int)
        case new(Int)
    }

    /// What deciding a batch found, record by record.
    private struct Decisions {
        var status: [Status]
        /// Each reading's consumer row id (for the accepted ones).
        var consumerRow: [Int64]
        var meterOf: [MeterRef]
        /// Meters first seen in this batch, in order of first appearance.
        var newMeterNames: [String]
        var rejections: [Rejection]
        /// The one utility the batch's readings belong to.
        var utility: String
    }

    /// Decides every record; stores the accepted ones unless the batch is refused.
    func run(cache: inout RegistryCache, appender: inout LedgerAppender, time: Int64) throws -> (BatchResult?, [Rejection]) {
        let decided = try decide(cache: cache)
        let rejections = decided.rejections
        let duplicates = decided.status.lazy.filter { $0 == .duplicate }.count
        guard rejections.isEmpty || batch.partial else { return (nil, rejections) }

        let accepted = decided.status.indices.filter { decided.status[$0] == .accepted }
        let errors = rejections.summarized()?.errors ?? []
        guard !accepted.isEmpty else {
            return (BatchResult(accepted: 0, duplicates: duplicates, entry: nil, entries: [], errors: errors),
                    rejections)
        }
        let index = try store(accepted, decided, cache: &cache, appender: &appender, time: time)
        let result = BatchResult(
            accepted: accepted.count, duplicates: duplicates, entry: index, entries: [index], errors: errors)
        return (result, rejections)
    }

    /// Decides each reading against the registry, the stored readings and the rest of
    /// the batch; writes nothing.
    private func decide(cache: RegistryCache) throws -> Decisions {
        let readings = batch.hashed.readings
        let recordIndex = batch.hashed.recordIndex
        var rejections = batch.parseErrors.map { Rejection(.invalid, index: $0.index, field: $0.field, $0.message) }
        var status = [Status](repeating: .accepted, count: readings.count)
        var consumerRow = [Int64](repeating: 0, count: readings.count)
        var meterOf = [MeterRef](repeating: .known(0), count: readings.count)
        // Meters first seen in this batch, by name, and the latest end taken so far per meter.
        var newMeters: [String: Int] = [:]
        var newMeterNames: [String] = []
        var batchEnd = [Int64](repeating: .min, count: cache.meters.count)
        var newMeterEnd: [Int64] = []
        var outOfOrder = false
        let batchUtility = batch.submitter.utility ?? readings.first?.utility ?? ""
        let knownMeters = cache.meterPositions(of: batchUtility)

        func reject(_ i: Int, _ kind: RejectionKind, _ field: String, _ message: String) {
            status[i] = .rejected
            rejections.append(Rejection(kind, index: recordIndex[i], field: field, message))
        }

        for i in readings.indices {
            let reading = readings[i]
            if let allowed = batch.submitter.utility, reading.utility != allowed {
                reject(i, .forbidden, "utility", "this peer may only push readings of utility \"\(allowed)\"")
                continue
            }
            guard let consumer = cache.consumers[reading.consumer] else {
                reject(i, .invalid, "consumer", "unknown consumer \"\(reading.consumer)\": register it first")
                continue
            }
            guard consumer.record.utility == reading.utility else {
                reject(i, .forbidden, "consumer", "consumer \"\(reading.consumer)\" belongs to another utility")
                continue
            }
            guard reading.utility == batchUtility else {
                reject(i, .invalid, "utility", "a batch carries one utility's readings; this one is for \"\(batchUtility)\"")
                continue
            }
            consumerRow[i] = consumer.rowID
            if let position = knownMeters[reading.meter] {
                meterOf[i] = .known(position)
                let stored = cache.meters[position]
                if reading.start < stored.lastEnd {
                    switch try compare(reading, consumerRow: consumer.rowID, meter: stored) {
                    case .none: break
                    case .duplicate:
                        status[i] = .duplicate
                        continue
                    case .conflict(let field, let message):
                        reject(i, .conflict, field, message)
                        continue
                    }
                }
                if reading.start < cache.closedThrough {
                    reject(i, .conflict, "start", closedMessage(reading))
                    continue
                }
                if reading.start < batchEnd[position] {
                    outOfOrder = true
                } else {
                    batchEnd[position] = reading.end
                }
            } else {
                if reading.start < cache.closedThrough {
                    reject(i, .conflict, "start", closedMessage(reading))
                    continue
                }
                let slot = newMeters[reading.meter] ?? {
                    newMeterNames.append(reading.meter)
                    newMeterEnd.append(.min)
                    newMeters[reading.meter] = newMeterNames.count - 1
                    return newMeterNames.count - 1
                }()
                meterOf[i] = .new(slot)
                if reading.start < newMeterEnd[slot] {
                    outOfOrder = true
                } else {
                    newMeterEnd[slot] = reading.end
                }
            }
        }
        if outOfOrder {
            rejections += checkWithinBatch(readings, meterOf: meterOf, status: &status)
        }

        return Decisions(
            status: status, consumerRow: consumerRow, meterOf: meterOf, newMeterNames: newMeterNames,
            rejections: rejections, utility: batchUtility)
    }

    /// Stores the accepted readings (and the meters new to the ledger) and appends the
    /// batch's `readings` entry; returns its index.
    private func store(
        _ accepted: [Int], _ decided: Decisions, cache: inout RegistryCache, appender: inout LedgerAppender, time: Int64
    ) throws -> UInt64 {
        let readings = batch.hashed.readings
        let batchUtility = decided.utility
        // Meters new to the ledger get their ids now, in order of first appearance.
        let newMeterIDs = try tables.insertMeters(utility: batchUtility, names: decided.newMeterNames)
        let newMeterPositions = zip(newMeterIDs, decided.newMeterNames).map { id, name in
            cache.addMeter(id: id, utility: batchUtility, meter: name)
        }
        let entryIndex = appender.nextIndex
        var firstStart = Int64.max
        var lastStart = Int64.min
        var lastEnd = Int64.min
        var rows: [ReadingRow] = []
        rows.reserveCapacity(accepted.count)
        var hours = ConsumerHoursBatch()
        var chunkKeys = ChunkKeys()
        for (position, i) in accepted.enumerated() {
            let reading = readings[i]
            let meter: Int
            switch decided.meterOf[i] {
            case .known(let known): meter = known
            case .new(let slot): meter = newMeterPositions[slot]
            }
            let meterID = cache.meters[meter].id
            rows.append(ReadingRow(
                start: reading.start, meter: meterID, consumer: decided.consumerRow[i], durationS: reading.durationS,
                importWh: reading.importWh, exportWh: reading.exportWh, quality: QualityCode.code(reading.quality),
                ref: reading.id, batch: Int64(entryIndex), position: Int64(position)))
            cache.extendMeter(at: meter, start: reading.start, duration: reading.durationS)
            hours.add(reading, consumerRow: decided.consumerRow[i])
            chunkKeys.add(position: position, start: reading.start, meter: meterID)
            firstStart = min(firstStart, reading.start)
            lastStart = max(lastStart, reading.start)
            lastEnd = max(lastEnd, reading.end)
        }
        try tables.insertReadings(rows)
        try hours.write(to: tables)
        var (chunkRoots, root) = (batch.hashed.chunkRootsOfAll, batch.hashed.rootOfAll)
        if accepted.count < readings.count {
            chunkRoots = BatchChunks.roots(of: accepted.map { batch.hashed.leafHashes[$0] })
            root = BatchChunks.batchRoot(ofChunkRoots: chunkRoots)
        }
        let entry = ReadingsEntry(
            utility: batchUtility, count: accepted.count, root: root, firstStart: firstStart, lastEnd: lastEnd,
            batch: batch.batchID)
        let index = try StoreError.mapping { try appender.append(.readings(entry), time: time, to: tables) }
        guard index == entryIndex else { throw StoreError.corrupt("readings entry got index \(index), expected \(entryIndex)") }
        try tables.insertReadingBatch(
            entry: index, firstStart: firstStart, lastStart: lastStart, count: accepted.count,
            chunks: StoredChunk.encode(chunkKeys.chunks(roots: chunkRoots)))
        return index
    }

    private func closedMessage(_ reading: Reading) -> String {
        "meter \"\(reading.meter)\" at start \(reading.start) falls in period \(program.period(containing: reading.start)), "
            + "which is closed"
    }

    private enum StoredMatch {
        case none
        case duplicate
        case conflict(field: String, message: String)
    }

    /// Compares a reading that starts before its meter's latest end with what is
    /// stored: in memory when the meter's recent intervals answer, else by query.
    private func compare(_ reading: Reading, consumerRow: Int64, meter: MeterState) throws -> StoredMatch {
        guard reading.start >= meter.recent.floor else {
            return try compareWithStored(reading, consumerRow: consumerRow, meter: meter)
        }
        switch meter.recent.meeting(start: reading.start, end: reading.end) {
        case .nothing:
            return .none
        case .sameStart:
            return try compareWithStored(reading, consumerRow: consumerRow, meter: meter)
        case .overlap(let start, let end):
            return .conflict(field: "start", message: Self.overlapMessage(reading, storedStart: start, storedEnd: end))
        }
    }

    private static func overlapMessage(_ reading: Reading, storedStart: Int64, storedEnd: Int64) -> String {
        "meter \"\(reading.meter)\" interval [\(reading.start), \(reading.end)) overlaps the stored reading [\(storedStart), \(storedEnd))"
    }

    /// Compares a reading with the stored readings of its meter that could overlap it.
    private func compareWithStored(_ reading: Reading, consumerRow: Int64, meter: MeterState) throws -> StoredMatch {
        let rows = try tables.storedReadings(
            meter: meter.id, startAfter: reading.start - meter.maxDuration, startBefore: reading.end)
        for row in rows where row.start + row.durationS > reading.start {
            guard row.start == reading.start else {
                return .conflict(
                    field: "start",
                    message: Self.overlapMessage(reading, storedStart: row.start, storedEnd: row.start + row.durationS))
            }
            let stored = (row.durationS, row.consumer, row.importWh, row.exportWh, row.quality, row.ref)
            let sent = (reading.durationS, consumerRow, reading.importWh, reading.exportWh,
                        QualityCode.code(reading.quality), reading.id)
            if stored == sent { return .duplicate }
            return .conflict(
                field: "start",
                message: "meter \"\(reading.meter)\" at start \(reading.start) is already stored with other content")
        }
        return .none
    }

    /// The slow path for a batch that is not in time order per meter: sort, then
    /// find repeated keys (duplicates or conflicts) and overlapping intervals.
    private func checkWithinBatch(_ readings: [Reading], meterOf: [MeterRef], status: inout [Status]) -> [Rejection] {
        func meterKey(_ i: Int) -> Int {
            switch meterOf[i] {
            case .known(let position): position
            case .new(let slot): -1 - slot
            }
        }
        let recordIndex = batch.hashed.recordIndex
        let order = readings.indices.filter { status[$0] == .accepted }.sorted {
            (meterKey($0), readings[$0].start, $0) < (meterKey($1), readings[$1].start, $1)
        }
        var rejections: [Rejection] = []
        var previous: Int? = nil
        for i in order {
            guard let p = previous, meterKey(p) == meterKey(i) else {
                previous = i
                continue
            }
            let (earlier, later) = (readings[p], readings[i])
            if earlier.start == later.start && earlier == later {
                status[i] = .duplicate
            } else if earlier.start == later.start {
                status[i] = .rejected
                rejections.append(Rejection(
                    .conflict, index: recordIndex[i], field: "start",
                    "meter \"\(later.meter)\" at start \(later.start) appears twice in the batch with other content "
                        + "(record \(recordIndex[p]))"))
            } else if later.start < earlier.end {
                status[i] = .rejected
                rejections.append(Rejection(
                    .conflict, index: recordIndex[i], field: "start",
                    "meter \"\(later.meter)\" interval [\(later.start), \(later.end)) overlaps record "
                        + "\(recordIndex[p]) [\(earlier.start), \(earlier.end))"))
            } else {
                previous = i
            }
        }
        return rejections
    }
}

/// How `quality` is stored (0 actual, 1 estimated).
enum QualityCode {
    static func code(_ quality: Quality) -> Int64 { quality == .estimated ? 1 : 0 }
    static func quality(_ code: Int64) -> Quality? {
        switch code {
        case 0: .actual
        case 1: .estimated
        default: nil
        }
    }
}
