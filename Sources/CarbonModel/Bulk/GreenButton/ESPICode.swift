/// The codes of ESPI ReadingType fields that are accepted, and names for messages.
enum ESPICode {
    static let wattHours: Int64 = 72
    static let intervalData: Int64 = 4
    static let forward: Int64 = 1
    static let reverse: Int64 = 19
    /// Allowed `powerOfTenMultiplier`: ESPI's multipliers run from p (-12) to T (12).
    static let multiplierRange: ClosedRange<Int64> = -12...12

    /// `38 (W)`.
    static func unit(_ code: Int64) -> String {
        let names: [Int64: String] = [
            5: "A", 29: "V", 38: "W", 42: "m³", 61: "VA", 63: "VAr", 71: "VAh", 72: "Wh", 73: "VArh", 119: "ft³",
            169: "therm",
        ]
        return names[code].map { "\(code) (\($0))" } ?? "\(code)"
    }

    /// `1 (bulkQuantity)`.
    static func accumulation(_ code: Int64) -> String {
        let names: [Int64: String] = [
            1: "bulkQuantity", 3: "cumulative", 4: "deltaData", 6: "indicating", 9: "summation", 12: "instantaneous",
        ]
        return names[code].map { "\(code) (\($0))" } ?? "\(code)"
    }

    /// `10 (questionable)`.
    static func quality(_ code: Int64) -> String {
        let names: [Int64: String] = [
            0: "valid", 7: "manually edited", 8: "estimated using reference day",
            9: "estimated using linear interpolation", 10: "questionable", 11: "derived", 12: "projected", 13: "mixed",
            14: "raw", 15: "normalized for weather", 16: "other", 17: "validated", 18: "verified",
            19: "revenue-quality",
        ]
        return names[code].map { "\(code) (\($0))" } ?? "\(code)"
    }
}
