/// Why accounting a period could not go on, in words that name the input to fix.
public enum AccountingError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A reading or certificate names a consumer the registry does not have.
    case unknownConsumer(String)
    /// A consumer of the registry cannot be scored as registered.
    case invalidConsumer(consumer: String, reason: String)
    /// A reading's own figures are out of range.
    case invalidReading(consumer: String, meter: String, start: Int64, reason: String)
    /// A reading whose start is not in the period being computed.
    case readingOutsidePeriod(consumer: String, meter: String, start: Int64, period: Period)
    /// Readings of one consumer must come in `(start, meter)` order, each key once.
    case readingsOutOfOrder(consumer: String, meter: String, start: Int64, previousMeter: String, previousStart: Int64)
    /// A certificate that cannot be matched as given.
    case invalidCertificate(id: String, reason: String)
    /// No `average` factor for these zones and times: load a dataset covering them.
    case missingFactors([MissingFactor])
    /// A consumer's figure does not fit Int64.
    case overflow(consumer: String, figure: String)
    /// A program parameter is out of range.
    case invalidParameters(String)

    public var description: String {
        switch self {
        case .unknownConsumer(let c): "consumer \"\(c)\" is not registered"
        case .invalidConsumer(let c, let reason): "consumer \"\(c)\": \(reason)"
        case .invalidReading(let c, let m, let s, let reason):
            "reading of consumer \"\(c)\", meter \"\(m)\" at \(s): \(reason)"
        case .readingOutsidePeriod(let c, let m, let s, let p):
            "reading of consumer \"\(c)\", meter \"\(m)\" at \(s) does not start in period \(p)"
        case .readingsOutOfOrder(let c, let m, let s, let pm, let ps):
            "readings of consumer \"\(c)\" must come in (start, meter) order without repeats: meter \"\(m)\" at \(s) came after meter \"\(pm)\" at \(ps)"
        case .invalidCertificate(let id, let reason): "certificate \"\(id)\": \(reason)"
        case .missingFactors(let gaps):
            "no average emission factor for " + gaps.map(\.description).joined(separator: ", ")
                + "; load a factor dataset covering them"
        case .overflow(let c, let figure): "consumer \"\(c)\": \(figure) does not fit a 64-bit integer"
        case .invalidParameters(let message): "program parameters: \(message)"
        }
    }
}
