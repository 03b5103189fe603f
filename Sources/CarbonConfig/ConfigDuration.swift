/// A duration written in the config as an integer and one unit: `30s`, `5m`, `72h`, `7d`.
///
/// Kept as whole seconds: every duration the daemon configures (timeouts, the
/// automatic period close) is coarse, and whole seconds print back exactly.
public struct ConfigDuration: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// The length in whole seconds.
    public let seconds: Int64

    /// A duration of `seconds` whole seconds (must not be negative).
    public init(seconds: Int64) {
        precondition(seconds >= 0, "a config duration is never negative")
        self.seconds = seconds
    }

    /// The same length as a Swift `Duration`.
    public var duration: Duration { .seconds(seconds) }

    /// The largest unit that writes this duration exactly: `90s`, `72h`, `7d`.
    public var description: String {
        for (unit, size) in [("d", Int64(86_400)), ("h", 3_600), ("m", 60)]
        where seconds != 0 && seconds % size == 0 {
            return "\(seconds / size)\(unit)"
        }
        return "\(seconds)s"
    }

    /// Shorter first.
    public static func < (lhs: ConfigDuration, rhs: ConfigDuration) -> Bool {
        lhs.seconds < rhs.seconds
    }

    /// Why a text is not a duration; `nil` when it is one.
    public enum ParseFailure: Error, Sendable, Equatable {
        /// Not `<digits><unit>`.
        case notAnIntegerAndUnit
        /// A unit other than `s`, `m`, `h`, `d`.
        case unknownUnit(Character)
        /// More seconds than an `Int64` holds.
        case tooLarge
    }

    /// Parses `<digits><unit>` with unit `s`, `m`, `h` or `d`; nothing else (no sign,
    /// no spaces, no fractions, no combined units like `1h30m`).
    public static func parse(_ text: String) -> Result<ConfigDuration, ParseFailure> {
        guard let unit = text.last, text.count >= 2 else { return .failure(.notAnIntegerAndUnit) }
        let digits = text.dropLast()
        guard digits.allSatisfy({ $0.isASCII && $0.isNumber }) else {
            return .failure(.notAnIntegerAndUnit)
        }
        let size: Int64
        switch unit {
        case "s": size = 1
        case "m": size = 60
        case "h": size = 3_600
        case "d": size = 86_400
        default:
            return unit.isASCII && unit.isNumber
                ? .failure(.notAnIntegerAndUnit) : .failure(.unknownUnit(unit))
        }
        guard let count = Int64(digits) else { return .failure(.tooLarge) }
        let (seconds, overflow) = count.multipliedReportingOverflow(by: size)
        guard !overflow else { return .failure(.tooLarge) }
        return .success(ConfigDuration(seconds: seconds))
    }

    /// Parses a duration, or `nil` when `text` is not one.
    public init?(parsing text: String) {
        guard case .success(let value) = Self.parse(text) else { return nil }
        self = value
    }
}

extension ConfigDuration.ParseFailure: CustomStringConvertible {
    /// The reason, as a config error shows it.
    public var description: String {
        switch self {
        case .notAnIntegerAndUnit:
            return "expected an integer and a unit s, m, h or d (like \"30s\", \"72h\", \"7d\")"
        case .unknownUnit(let unit):
            return "unknown unit \"\(unit)\" (expected s, m, h or d)"
        case .tooLarge:
            return "too large"
        }
    }
}
