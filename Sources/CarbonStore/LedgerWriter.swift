import CarbonAccounting
import CarbonLedger
import CarbonModel
import Foundation
import GRDB
import Logging
import Metrics
import Synchronization

/// The single writer of the ledger: it takes batches from any number of
/// requests and group-commits them: every batch waiting when a commit starts goes
/// into one transaction of its engine (SQLite's or PostgreSQL's, `WriterEngine`) with
/// one checkpoint, so throughput grows with concurrency while each answer still waits
/// for its own durable commit.
///
/// Both engines' calls block (PostgreSQL's wait for the server), so it runs on a
/// thread of its own rather than on the (two-thread) cooperative pool.
public final class LedgerWriter: StoreWriter, @unchecked Sendable {
    /// A batch for the writer: its answer is a `BatchOutcome`.
    public enum Job: Sendable {
        case readings(ReadingBatch)
        /// Corrections of stored readings (`POST /v1/readings?correct=true`).
        case corrections(CorrectionBatch)
        /// Open a closed period again for corrections.
        case restate(Restatement)
        case consumers(ConsumerBatch)
        /// A factor dataset (already validated against the zone tree and the datasets in force).
        case factors(FactorDataset)
        case certificates(CertificateBatch)
        /// Change the signing key: a `key` entry signed by the old key, then the new one.
        case rotateKey(KeyRotation)
    }

    /// Work waiting for the next commit, with who waits for its answer.
    private enum Pending {
        case batch(Job, CheckedContinuation<BatchOutcome, any Error>)
        /// Close a period of the program: freeze and sign its scores.
        case close(Period, CheckedContinuation<CloseOutcome, any Error>)

        func fail(_ error: any Error) {
            switch self {
            case .batch(_, let continuation): continuation.resume(throwing: error)
            case .close(_, let continuation): continuation.resume(throwing: error)
            }
        }
    }

    private let engine: any WriterEngine
    private let program: Program
    private let clock: @Sendable () -> Int64
    private let logger: Logger
    private let metrics = StoreMetrics()

    // Guarded by `condition`.
    private let condition = NSCondition()
    private var pending: [Pending] = []
    private var stopping = false
    private var finished = false
    /// The in-memory registry could not be trusted after a failed commit.
    private var broken = false
    /// Why the last commit failed, until one succeeds.
    private var lastFailure: String?

    // Touched only by the writer thread (and by `init` before it starts).
    private var cache: RegistryCache
    private var appender: LedgerAppender
    /// Where each new checkpoint is recorded once its commit is durable (nil: nowhere).
    private let highestCheckpoint: HighestCheckpoint?
    /// Entries below this are covered by the stored meter-state snapshot.
    private var meterStateSavedAt: UInt64
    /// Readings decided in the commit under way, reported once it is durable.
    private var tally = ReadingTally()
    /// The latest durable checkpoint, for answers that need no database read.
    private let durable: DurableCheckpoint
    /// How many entries may pass between meter-state snapshots (bounds the replay at startup).
    static let meterStateInterval: UInt64 = 256

    init(engine: any WriterEngine, program: Program, cache: RegistryCache, appender: LedgerAppender,
         highestCheckpoint: HighestCheckpoint?, durable: DurableCheckpoint, clock: @escaping @Sendable () -> Int64,
         logger: Logger) {
        self.engine = engine
        self.program = program
        self.cache = cache
        self.appender = appender
        self.highestCheckpoint = highestCheckpoint
        self.meterStateSavedAt = appender.nextIndex
        self.durable = durable
        self.clock = clock
        self.logger = logger
        let thread = Thread { [self] in run() }
        thread.name = "ledger-writer"
        thread.start()
    }

    /// The latest checkpoint whose commit is durable (nil before the first), from memory.
    public var latestCheckpoint: StoredCheckpoint? { durable.latest }

    /// Queues `job` and returns once it is committed (or refused).
    public func submit(_ job: Job) async throws -> BatchOutcome {
        try await withCheckedThrowingContinuation { enqueue(.batch(job, $0)) }
    }

    /// Closes `period` (or finds it closed) and returns once that is committed (or refused).
    public func close(_ period: Period) async throws -> CloseOutcome {
        try await withCheckedThrowingContinuation { enqueue(.close(period, $0)) }
    }

    private func enqueue(_ work: Pending) {
        condition.lock()
        defer { condition.unlock() }
        guard !stopping else {
            work.fail(StoreError.stopped)
            return
        }
        pending.append(work)
        condition.signal()
    }

    /// Why writes are failing, nil while the last commit succeeded: for health checks.
    public var problem: String? {
        condition.lock()
        defer { condition.unlock() }
        if broken { return "the ledger writer refuses all writes after a failed commit; restart the daemon" }
        return lastFailure.map { "the last commit failed: \($0)" }
    }

    /// Whether the writer still takes work (false once it has stopped itself or been stopped).
    public var isAlive: Bool {
        condition.lock()
        defer { condition.unlock() }
        return !stopping && !broken
    }

    /// Commits what is queued, refuses anything later, and returns when the writer thread has ended.
    public func stop() {
        condition.lock()
        stopping = true
        condition.broadcast()
        while !finished { condition.wait() }
        condition.unlock()
    }

    private func run() {
        while true {
            condition.lock()
            while pending.isEmpty && !stopping { condition.wait() }
            let group = pending
            pending.removeAll(keepingCapacity: true)
            if group.isEmpty {
                if !broken { saveMeterState() }
                finished = true
                condition.broadcast()
                condition.unlock()
                return
            }
            let refuse = broken
            condition.unlock()
            if refuse {
                let error = StoreError.corrupt("the ledger writer stopped after a failed commit; restart the daemon")
                for pending in group { pending.fail(error) }
            } else if let sqlite = engine as? SQLiteWriterEngine {
                // Spelled out so SQLite's path is specialized for its tables.
                commit(group, on: sqlite)
            } else {
                commit(group, on: engine)
            }
        }
    }

    /// One transaction, one checkpoint, for every job of `group`.
    private func commit<Engine: WriterEngine>(_ group: [Pending], on engine: Engine) {
        let time = clock()
        let started = ContinuousClock.now
        defer { metrics.commit.record(duration: ContinuousClock.now - started) }
        tally = ReadingTally()
        var batches = [Result<BatchOutcome, any Error>](repeating: .failure(StoreError.stopped), count: group.count)
        var closes = [Result<CloseOutcome, any Error>](repeating: .failure(StoreError.stopped), count: group.count)
        let appenderBefore = appender
        let meterStateSavedBefore = meterStateSavedAt
        do {
            try engine.transaction { tables in
                // A batch id sent twice in one group is answered once.
                var replayOf: [Int: Int] = [:]
                var firstWithKey: [BatchKey: Int] = [:]
                for (k, pending) in group.enumerated() {
                    switch pending {
                    case .batch(let job, _):
                        let key = BatchKey(job)
                        if let key, let first = firstWithKey[key] {
                            replayOf[k] = first
                            continue
                        }
                        batches[k] = perform(engine, tables) { try run(job, time: time, engine: engine, tables: tables) }
                        if let key, case .success(.committed) = batches[k] { firstWithKey[key] = k }
                    case .close(let period, _):
                        closes[k] = perform(engine, tables) {
                            try PeriodClose(period: period, db: tables, program: program).run(
                                cache: &cache, appender: &appender, time: time)
                        }
                    }
                }
                if cache.unsavedMeterCount > 0, appender.nextIndex >= meterStateSavedAt + Self.meterStateInterval {
                    try cache.saveMeterState(to: tables, asOf: appender.nextIndex)
                    meterStateSavedAt = appender.nextIndex
                }
                if appender.hasUnpublishedEntries {
                    let signing = ContinuousClock.now
                    _ = try StoreError.mapping { try appender.publishCheckpoint(time: time, to: tables) }
                    metrics.checkpoint.record(duration: ContinuousClock.now - signing)
                }
                for (k, pending) in group.enumerated() where replayOf[k] == nil {
                    if case .success(.closed(var result)) = closes[k] {
                        result.checkpoint = appender.lastNote
                        closes[k] = .success(.closed(result))
                    }
                    guard case .batch(let job, _) = pending, case .success(.committed(var result)) = batches[k],
                        !result.replayed
                    else { continue }
                    result.checkpoint = appender.lastNote
                    batches[k] = .success(.committed(result))
                    if let key = BatchKey(job) { try tables.storeAnswer(result, to: key) }
                }
                for (k, first) in replayOf { batches[k] = batches[first].map(\.replayed) }
            }
        } catch {
            logger.error("commit failed, \(group.count) batches refused: \(error)")
            setLastFailure("\(error)")
            appender = appenderBefore
            meterStateSavedAt = meterStateSavedBefore
            reloadCache(engine)
            for pending in group { pending.fail(error) }
            return
        }
        var unrecorded: String? = nil
        if let note = appender.lastNote, note != appenderBefore.lastNote {
            let checkpoint = appender.lastCheckpoint
            durable.set(StoredCheckpoint(size: checkpoint.size, root: checkpoint.rootHash, note: note, time: time))
            do {
                try highestCheckpoint?.save(note)
            } catch {
                // The commit is durable; only the guard against a restored older copy lags.
                logger.error("\(error)")
                unrecorded = "the highest signed checkpoint could not be recorded: \(error)"
            }
        }
        // A job that threw (rather than refused its input) failed for a reason of the store's.
        let thrown = group.indices.lazy.compactMap { k -> String? in
            switch group[k] {
            case .batch: if case .failure(let error) = batches[k] { return "\(error)" }
            case .close: if case .failure(let error) = closes[k] { return "\(error)" }
            }
            return nil
        }
        setLastFailure(thrown.first ?? unrecorded)
        metrics.record(tally)
        for (k, pending) in group.enumerated() {
            switch pending {
            case .batch(_, let continuation): continuation.resume(with: batches[k])
            case .close(_, let continuation): continuation.resume(with: closes[k])
            }
        }
    }

    /// Runs one job in a savepoint so that its failure undoes only its own work.
    private func perform<Engine: WriterEngine, Outcome>(
        _ engine: Engine, _ tables: Engine.Tables, _ work: () throws -> Outcome
    ) -> Result<Outcome, any Error> {
        let appenderBefore = appender
        let tallyBefore = tally
        do {
            return .success(try engine.savepoint(tables, work))
        } catch {
            logger.error("batch failed and was rolled back: \(error)")
            appender = appenderBefore
            tally = tallyBefore
            reloadCache(engine, from: tables)
            return .failure(error)
        }
    }

    private func run<Engine: WriterEngine>(
        _ job: Job, time: Int64, engine: Engine, tables: Engine.Tables
    ) throws -> BatchOutcome {
        if let key = BatchKey(job), let earlier = try tables.earlierAnswer(to: key) { return .committed(earlier) }
        switch job {
        case .readings(let batch):
            let answer = try ReadingIngest(batch: batch, tables: tables, program: program)
                .run(cache: &cache, appender: &appender, time: time)
            tally.add(answer: answer.0, rejections: answer.1)
            return BatchOutcome(answer)
        case .corrections(let batch):
            return BatchOutcome(
                try CorrectionIngest(batch: batch, tables: tables, program: program).run(
                    cache: cache, appender: &appender, time: time))
        case .restate(let restatement):
            return try restatement.run(cache: &cache, appender: &appender, time: time, tables: tables)
        case .consumers(let batch):
            return BatchOutcome(
                try ConsumerRegistration(batch: batch, tables: tables).run(cache: &cache, appender: &appender, time: time))
        case .certificates(let batch):
            return BatchOutcome(
                try CertificateRegistration(batch: batch, tables: tables, program: program)
                    .run(cache: cache, appender: &appender, time: time))
        case .rotateKey(let rotation):
            return try rotation.run(appender: &appender, time: time, tables: tables)
        case .factors(let dataset):
            return try FactorDatasets.load(dataset, appender: &appender, time: time, tables: tables)
        }
    }

    private func setLastFailure(_ failure: String?) {
        condition.lock()
        lastFailure = failure
        condition.unlock()
    }

    /// A last snapshot on the way out, so the next start replays nothing.
    private func saveMeterState() {
        guard cache.unsavedMeterCount > 0 else { return }
        do {
            try saveMeterState(on: engine)
        } catch {
            logger.warning("could not save meter state on shutdown (the next start replays it): \(error)")
        }
    }

    private func saveMeterState<Engine: WriterEngine>(on engine: Engine) throws {
        let asOf = appender.nextIndex
        try engine.transaction { tables in try self.cache.saveMeterState(to: tables, asOf: asOf) }
    }

    /// Loads the registry again, from `tables` inside the writer's transaction, or in a
    /// transaction of its own.
    private func reloadCache<Engine: WriterEngine>(_ engine: Engine, from tables: Engine.Tables? = nil) {
        do {
            if let tables {
                cache = try RegistryCache.load(from: tables)
            } else {
                var loaded: RegistryCache?
                try engine.transaction { loaded = try RegistryCache.load(from: $0) }
                cache = loaded!
            }
        } catch {
            // Deciding readings against a registry that may hold rolled-back rows could
            // accept an overlap: refuse every later write instead.
            logger.critical("cannot reload the registry after a failed commit; refusing all writes: \(error)")
            condition.lock()
            stopping = true
            broken = true
            condition.unlock()
        }
    }
}

/// A client's batch id in its namespace.
struct BatchKey: Hashable {
    var scope: String
    var batch: String

    init?(_ job: LedgerWriter.Job) {
        switch job {
        case .readings(let batch):
            guard let id = batch.batchID else { return nil }
            (scope, self.batch) = (batch.submitter.scope, id)
        case .corrections(let batch):
            // Corrections have ids of their own: a readings batch id sent again as a
            // correction is a new batch.
            guard let id = batch.batchID else { return nil }
            (scope, self.batch) = ("corrections/" + batch.submitter.scope, id)
        default:
            return nil
        }
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

    /// The same outcome, marked as an answer given again.
    var replayed: BatchOutcome {
        guard case .committed(var result) = self else { return self }
        result.replayed = true
        return .committed(result)
    }
}

/// The latest checkpoint whose commit is durable, kept in memory by the writer for
/// the readers that need only it (health, the freshness of provisional snapshots).
final class DurableCheckpoint: Sendable {
    private let value: Mutex<StoredCheckpoint?>

    init(_ latest: StoredCheckpoint?) { value = Mutex(latest) }

    var latest: StoredCheckpoint? { value.withLock { $0 } }

    func set(_ checkpoint: StoredCheckpoint) { value.withLock { $0 = checkpoint } }
}
