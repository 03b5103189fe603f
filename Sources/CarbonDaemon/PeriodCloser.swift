import CarbonAccounting
import CarbonConfig
import CarbonModel
import CarbonStore
import Foundation
import Logging
import ServiceLifecycle

extension Program {
    /// The program of `[program]`, read in `calendar` (the system's rules for its time zone).
    init(config: Config.Program, calendar: TZifCalendar) throws {
        let benchmarks = try config.staticBenchmarks.map { b in
            guard let consumerClass = ConsumerClass(rawValue: b.class) else {
                throw DaemonError("program.static_benchmark: unknown class \"\(b.class)\"")
            }
            return StaticBenchmark(zone: b.zone, consumerClass: consumerClass, ugPerDay: b.ugPerDay)
        }
        let w = config.weights
        let parameters = ProgramParameters(
            minPeers: config.minPeers,
            weights: ScoreWeights(
                peer: Int64(w.peer), reduction: Int64(w.reduction), timing: Int64(w.timing), green: Int64(w.green)),
            pointsPerKg: Int64(config.pointsPerKg),
            baseline: config.baseline == .yearAgo ? .yearAgo : .previous,
            eligibleMaxGrade: config.eligibleMaxGrade, staticBenchmarks: benchmarks)
        do {
            try parameters.validate()
        } catch {
            throw DaemonError("[program]: \(error)")
        }
        self.init(calendar: calendar, granularity: config.period == .day ? .day : .month, parameters: parameters)
    }
}

/// Closes each period by itself once `close_after` has passed since its end
/// (methodology: periods close in order, the oldest open one with readings first).
struct PeriodCloser: Service {
    let store: CarbonStore
    let closeAfter: Int64
    let logger: Logger
    let clock: @Sendable () -> Int64 = { Int64(Date().timeIntervalSince1970) }

    func run() async throws {
        try await cancelWhenGracefulShutdown { try await closeWhenDue() }
    }

    private func closeWhenDue() async throws {
        // Often enough that a short close_after is honoured, rarely enough to cost nothing.
        let interval = min(max(closeAfter, 1), 60)
        var failed: (period: Period, size: UInt64)? = nil
        do {
            while !Task.isCancelled {
                if let period = try await store.reader.periodDue(closeAfter: closeAfter, now: clock()) {
                    let size = try await store.reader.latestCheckpoint()?.size ?? 0
                    // After a failure, wait for new data (a factor dataset) before trying again.
                    if failed?.period != period || failed?.size != size {
                        if try await close(period) {
                            failed = nil
                            continue
                        }
                        failed = (period, try await store.reader.latestCheckpoint()?.size ?? 0)
                    }
                }
                try await Task.sleep(for: .seconds(interval))
            }
        } catch is CancellationError {
            return
        }
    }

    /// Closes `period`; false when it cannot be closed yet.
    private func close(_ period: Period) async throws -> Bool {
        switch try await store.writer.submit(.closePeriod(period)) {
        case .closed(let answer):
            logger.info(
                "period closed", metadata: ["period": "\(answer.period)", "consumers": "\(answer.consumers)",
                                            "entry": "\(answer.entry)"])
            return true
        case .rejected(_, let errors):
            logger.warning(
                "period \(period) is due to close but cannot be: \(errors.map(\.message).joined(separator: "; "))")
            return false
        case let other:
            logger.error("unexpected answer to closing \(period): \(other)")
            return false
        }
    }
}
