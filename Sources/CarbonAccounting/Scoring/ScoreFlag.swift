/// A flag on a score (methodology section 6.7); scores list them in ascending order
/// of their names.
public enum ScoreFlag: String, Sendable, Hashable, CaseIterable, Comparable {
    /// Some imported energy was estimated (`estimated_wh > 0`).
    case estimatedData = "estimated_data"
    /// No energy in the baseline period: `R = 500`.
    case noBaseline = "no_baseline"
    /// Neither a peer group nor a static benchmark: no grade, `P = 500`.
    case noBenchmark = "no_benchmark"
    /// The period is not closed: figures may still change.
    case provisional = "provisional"
    /// A residual factor was missing and the average one was used.
    case residualFallback = "residual_fallback"

    public static func < (a: ScoreFlag, b: ScoreFlag) -> Bool {
        a.rawValue.utf8.lexicographicallyPrecedes(b.rawValue.utf8)
    }
}
