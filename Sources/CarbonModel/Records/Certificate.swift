/// A granular energy attribute certificate (EnergyTag style): `wh` of energy from
/// `technology` over `[start, end)`, for one consumer, usable once.
public struct Certificate: Sendable, Hashable {
    /// Globally unique id.
    public var id: String
    /// The consumer it was registered for.
    public var consumer: String
    /// First instant of its window (Unix seconds).
    public var start: Int64
    /// End of its window (exclusive).
    public var end: Int64
    /// Energy it covers, Wh.
    public var wh: Int64
    /// Generation technology (`solar`, `wind`, ...).
    public var technology: String
    /// Who issued it.
    public var issuer: String

    /// A certificate with the given fields.
    public init(
        id: String, consumer: String, start: Int64, end: Int64, wh: Int64, technology: String = "", issuer: String = ""
    ) {
        self.id = id
        self.consumer = consumer
        self.start = start
        self.end = end
        self.wh = wh
        self.technology = technology
        self.issuer = issuer
    }
}
