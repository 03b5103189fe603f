/// A utility's replacement for a stored reading (`POST /v1/readings?correct=true`): the
/// new figures of the reading with the same `(utility, meter, start)` and duration,
/// and why it changed.
public struct ReadingCorrection: Sendable, Equatable, Hashable {
    /// The reading as it should stand.
    public var reading: Reading
    /// Why: `estimated_to_actual`, `meter_fault`, `data_error`, or free text.
    public var reason: String

    /// A correction with the given parts.
    public init(reading: Reading, reason: String) {
        self.reading = reading
        self.reason = reason
    }

    /// The reasons meter-data systems usually give; any other text of up to
    /// `CorrectionParser.maximumReasonCharacters` characters is taken as well.
    public static let usualReasons = ["estimated_to_actual", "meter_fault", "data_error"]
}
