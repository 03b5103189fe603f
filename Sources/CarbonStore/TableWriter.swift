import CarbonLedger
import CarbonModel
import TransparencyLog

/// The writer's work on any engine's tables, one job a call, inside the transaction
/// the caller opened and commits (or rolls back, then `reload`s): what the writer
/// keeps in memory (the registry, meter states, the append path) and the jobs that go
/// through the engine-neutral interfaces (`RegistryTables`, `IngestTables`).
///
/// SQLite's `LedgerWriter` runs the same job code over its own tables with group
/// commit around it; the PostgreSQL store's writer is built on this. Jobs whose code
/// still speaks SQLite only (corrections, restatements, closing periods) are refused with `StoreError.notOnThisEngine` until they move behind the
/// interfaces too.
public struct TableWriter: Sendable {
    var cache: RegistryCache
    public private(set) var appender: LedgerAppender
    let program: Program
    /// Entries below this are covered by the stored meter-state snapshot.
    private var meterStateSavedAt: UInt64
    /// Why the key a rotation replaced cannot co-sign checkpoints while its overlap lasts
    /// (its recorded file is gone or holds another key), for the caller to log.
    public private(set) var previousKeyProblem: String?

    /// Loads the writer's state from `tables`; on an empty ledger, records the zone tree
    /// as the first entry and signs the first checkpoint, as the SQLite store does.
    /// `keyPath` is the file `signer` was read from (recorded at a rotation, so the key
    /// co-signs after a later rotation and a restart).
    public static func open(
        tables: some StoreTables, signer: NoteSigner, keyPath: String = "", zones: ZoneTree?, program: Program, time: Int64
    ) throws -> TableWriter {
        try KeyRecord.claim(for: signer, origin: signer.name, tables: tables)
        let (previous, problem) = try KeyRecord.previous(tables: tables, current: signer.verifier, time: time)
        var appender = try StoreError.mapping {
            try LedgerAppender.load(from: tables, signer: signer, signerPath: keyPath, previous: previous, origin: signer.name)
        }
        if appender.lastNote == nil {
            if let zones {
                try tables.insertZones(zones.zones)
                _ = try StoreError.mapping { try appender.append(.zones(ZonesEntry(tree: zones)), time: time, to: tables) }
            }
            _ = try StoreError.mapping { try appender.publishCheckpoint(time: time, to: tables) }
        }
        return TableWriter(
            cache: try RegistryCache.load(from: tables), appender: appender, program: program,
            meterStateSavedAt: appender.nextIndex, previousKeyProblem: problem)
    }

    /// Carries out `job` into `tables` and signs a checkpoint for what it appended; the
    /// caller commits. A batch id answered before gets that answer again (`replayed`),
    /// and a committed batch's answer is kept for its id, as the SQLite writer does.
    public mutating func submit(_ job: LedgerWriter.Job, time: Int64, tables: some StoreTables) throws -> BatchOutcome {
        let key = BatchKey(job)
        if let key, let earlier = try tables.earlierAnswer(to: key) { return .committed(earlier) }
        var outcome = try run(job, time: time, tables: tables)
        let note = try publishCheckpoint(time: time, tables: tables)
        if case .committed(var result) = outcome {
            result.checkpoint = note
            if let key { try tables.storeAnswer(result, to: key) }
            outcome = .committed(result)
        }
        return outcome
    }

    private mutating func run(_ job: LedgerWriter.Job, time: Int64, tables: some StoreTables) throws -> BatchOutcome {
        guard let outcome = try WriterJobs.run(
            job, tables: tables, cache: &cache, appender: &appender, program: program, time: time)
        else {
            switch job {
            case .corrections: throw StoreError.notOnThisEngine("a correction")
            default: throw StoreError.notOnThisEngine("a restatement")
            }
        }
        return outcome.outcome
    }

    /// Signs a checkpoint for the entries appended since the last one, and saves meter
    /// state when enough entries have passed since the last snapshot. Returns the latest
    /// checkpoint, new or not: every answer carries one, as the SQLite writer's do.
    private mutating func publishCheckpoint(time: Int64, tables: some StoreTables) throws -> String? {
        guard appender.hasUnpublishedEntries else { return appender.lastNote }
        if cache.unsavedMeterCount > 0, appender.nextIndex >= meterStateSavedAt + LedgerWriter.meterStateInterval {
            try cache.saveMeterState(to: tables, asOf: appender.nextIndex)
            meterStateSavedAt = appender.nextIndex
        }
        return try StoreError.mapping { try appender.publishCheckpoint(time: time, to: tables) }
    }

    /// Reloads the writer's state from `tables`: after a rolled-back transaction, what
    /// was kept in memory may hold the rolled-back work.
    public mutating func reload(from tables: some StoreTables) throws {
        appender = try StoreError.mapping {
            try LedgerAppender.load(
                from: tables, signer: appender.signer, signerPath: appender.signerPath, previous: appender.previous,
                origin: appender.lastCheckpoint.origin)
        }
        cache = try RegistryCache.load(from: tables)
        meterStateSavedAt = appender.nextIndex
    }
}

/// The writer's jobs that go through the engine-neutral table interfaces, for both
/// writers: SQLite's `LedgerWriter` and `TableWriter`.
enum WriterJobs {
    /// Carries out `job`, or returns nil for a job still written for SQLite only
    /// (corrections, restatements). `rejections` are the records refused (for ingest
    /// counters), whether or not the batch committed.
    static func run(
        _ job: LedgerWriter.Job, tables: some StoreTables, cache: inout RegistryCache, appender: inout LedgerAppender,
        program: Program, time: Int64
    ) throws -> (outcome: BatchOutcome, rejections: [Rejection])? {
        let answer: (BatchResult?, [Rejection])
        switch job {
        case .readings(let batch):
            answer = try ReadingIngest(batch: batch, tables: tables, program: program)
                .run(cache: &cache, appender: &appender, time: time)
        case .consumers(let batch):
            answer = try ConsumerRegistration(batch: batch, tables: tables).run(cache: &cache, appender: &appender, time: time)
        case .certificates(let batch):
            answer = try CertificateRegistration(batch: batch, tables: tables, program: program)
                .run(cache: cache, appender: &appender, time: time)
        case .rotateKey(let rotation):
            return (try rotation.run(appender: &appender, time: time, tables: tables), [])
        case .factors(let dataset):
            return (try FactorDatasets.load(dataset, appender: &appender, time: time, tables: tables), [])
        case .corrections, .restate:
            return nil
        }
        return (BatchOutcome(answer), answer.1)
    }
}

extension BatchOutcome {
    /// A job's answer: committed with its result, or refused with its worst rejection.
    init(_ answer: (BatchResult?, [Rejection])) {
        if let result = answer.0 {
            self = .committed(result)
        } else {
            let summary = answer.1.summarized() ?? (.invalid, [])
            self = .rejected(kind: summary.kind, errors: summary.errors)
        }
    }
}
