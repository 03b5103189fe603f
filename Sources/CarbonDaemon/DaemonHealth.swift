import CarbonStore
import Synchronization

/// What is wrong with the daemon right now, by the part that reports it: `/v1/health`
/// says `degraded` with these reasons, and /metrics counts them.
final class DaemonHealth: Sendable {
    /// A part of the daemon that can report a problem.
    enum Part: String, Sendable, CaseIterable {
        /// The automatic period close.
        case periodClose = "period_close"
    }

    private let problems = Mutex<[Part: String]>([:])
    /// The witnesses' progress, whose unmet policy is a problem too (nil: no policy).
    let witnessing: Witnessing?

    init(witnessing: Witnessing? = nil) {
        self.witnessing = witnessing
    }

    /// Records (or, with nil, clears) the problem of `part`.
    func report(_ part: Part, _ problem: String?) {
        problems.withLock { $0[part] = problem }
    }

    /// The problems reported and not cleared, by part.
    var current: [Part: String] { problems.withLock { $0 } }
}

extension DaemonHealth {
    /// Every problem of the daemon and its store, one sentence each: empty when healthy.
    func problems(of store: CarbonStore) -> [String] {
        var problems = current.sorted { $0.key.rawValue < $1.key.rawValue }.map(\.value)
        if let witnesses = witnessing?.problem { problems.append(witnesses) }
        if let writer = store.writer.problem { problems.insert(writer, at: 0) }
        if let reads = store.reader.problem { problems.append(reads) }
        return problems
    }
}

