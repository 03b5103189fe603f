import CarbonConfig
import Testing

@Suite("Durations")
struct DurationTests {
    @Test(arguments: [
        ("30s", Int64(30)), ("5m", 300), ("72h", 259_200), ("7d", 604_800), ("0s", 0), ("007s", 7),
        ("1d", 86_400), ("86400s", 86_400),
    ])
    func valid(text: String, seconds: Int64) {
        let duration = ConfigDuration(parsing: text)
        #expect(duration?.seconds == seconds)
        #expect(duration?.duration == .seconds(seconds))
    }

    @Test(arguments: ["", "s", "30", "30S", "30ms", "1.5h", "-5s", "+5s", " 5s", "5s ", "5 s", "1h30m", "3w", "h5", "٣s"])
    func invalid(text: String) {
        #expect(ConfigDuration(parsing: text) == nil)
    }

    @Test func tooLarge() {
        #expect(ConfigDuration.parse("99999999999999999999s") == .failure(.tooLarge))
        #expect(ConfigDuration.parse("9223372036854775807d") == .failure(.tooLarge))
        #expect(ConfigDuration.parse("9223372036854775807s") == .success(.init(seconds: .max)))
    }

    @Test func failuresSayWhy() {
        #expect(ConfigDuration.parse("3w") == .failure(.unknownUnit("w")))
        #expect(ConfigDuration.parse("30") == .failure(.notAnIntegerAndUnit))
        #expect(ConfigDuration.parse("1.5h") == .failure(.notAnIntegerAndUnit))
    }

    @Test(arguments: [(Int64(30), "30s"), (90, "90s"), (300, "5m"), (259_200, "3d"), (7_200, "2h"), (0, "0s")])
    func description(seconds: Int64, text: String) {
        let duration = ConfigDuration(seconds: seconds)
        #expect(duration.description == text)
        #expect(ConfigDuration(parsing: text) == duration)
    }

    @Test func inConfig() throws {
        let config = try parse("[limits]\nidle_timeout = \"2m\"\n[program]\nclose_after = \"0s\"")
        #expect(config.limits.idleTimeout.seconds == 120)
        #expect(config.limits.idleTimeout.duration == .seconds(120))
        #expect(config.program.closeAfter.seconds == 0)
    }
}
