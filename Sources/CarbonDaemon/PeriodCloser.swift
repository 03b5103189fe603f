import CarbonAccounting
import CarbonConfig
import CarbonModel
import CarbonStore
import Foundation
import Logging
import Metrics
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
///
/// A close that fails (the store could not commit, an entry could not be written)
/// never stops the daemon: it is logged, counted, shown in `/v1/health`, and tried
/// again after a delay that doubles up to `maximumRetryDelay`. A close refused for
/// its data (missing factors) waits for new data before it is tried again.
struct PeriodCloser: Service {
    let store: CarbonStore
    let closeAfter: Int64
    let health: DaemonHealth
    let logger: Logger
    let clock: @Sendable () -> Int64 = { Int64(Date().timeIntervalSince1970) }
    let failures = Counter(label: DaemonMetrics.closeFailures)

    /// The longest wait between two tries of a failing close.
    static let maximumRetryDelay: Int64 = 600

    func run() async throws {
        try await cancelWhenGracefulShutdown { await closeWhenDue() }
    }

    private func closeWhenDue() async {
        // Often enough that a short close_after is honoured, rarely enough to cost nothing.
        let interval = min(max(closeAfter, 1), 60)
        var refused: (period: Period, size: UInt64)? = nil
        var retryDelay = interval
        while !Task.isCancelled {
            do {
                if let period = try await store.reader.periodDue(closeAfter: closeAfter, now: clock()) {
                    let size = try await store.reader.latestCheckpoint()?.size ?? 0
                    // After a refusal, wait for new data (a factor dataset) before trying again.
                    if refused?.period != period || refused?.size != size {
                        if try await close(period) {
                            refused = nil
                            retryDelay = interval
                            health.report(.periodClose, nil)
                            continue
                        }
                        refused = (period, try await store.reader.latestCheckpoint()?.size ?? 0)
                    }
                }
                retryDelay = interval
            } catch is CancellationError {
                return
            } catch {
                failures.increment()
                logger.error("closing the due period failed; trying again in \(retryDelay) s: \(error)")
                health.report(.periodClose, "the automatic close failed, next try in \(retryDelay) s: \(error)")
                try? await Task.sleep(for: .seconds(retryDelay))
                retryDelay = min(retryDelay * 2, Self.maximumRetryDelay)
                continue
            }
            try? await Task.sleep(for: .seconds(interval))
        }
    }

    /// Closes `period`; false when it cannot be closed yet (refused for its data, which
    /// `/v1/health` shows too).
    private func close(_ period: Period) async throws -> Bool {
        switch try await store.writer.close(period) {
        case .closed(let answer):
            logger.info(
                "period closed", metadata: ["period": "\(answer.period)", "consumers": "\(answer.consumers)",
                                            "entry": "\(answer.entry)"])
            return true
        case .rejected(_, let errors):
            let reasons = errors.map(\.message).joined(separator: "; ")
            logger.warning("period \(period) is due to close but cannot be: \(reasons)")
            health.report(.periodClose, "period \(period) is due to close but cannot be: \(reasons)")
            return false
        }
    }
}
