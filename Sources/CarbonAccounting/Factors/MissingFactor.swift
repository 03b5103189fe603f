/// A zone and a span of time for which no `average` factor exists: the readings there
/// cannot be accounted until a dataset covering them is loaded (methodology section 3).
public struct MissingFactor: Sendable, Hashable, CustomStringConvertible {
    /// The zone (the consumer's zone; its ancestors were tried too).
    public var zone: String
    /// First instant without a factor.
    public var start: Int64
    /// First instant after the gap (exclusive).
    public var end: Int64

    /// A gap with the given fields.
    public init(zone: String, start: Int64, end: Int64) {
        self.zone = zone
        self.start = start
        self.end = end
    }

    public var description: String { "\(zone) [\(start), \(end))" }
}
