import Testing

@testable import CarbonModel

/// The rule of each reading field, one value at a time, in a JSON array of one record.
@Suite("Reading field rules")
struct ReadingFieldRuleTests {
    /// The errors for one record, or the reading when it passed.
    func check(_ object: String) throws -> (Reading?, [RecordError]) {
        let batch = try readings("[\(object)]", .json)
        #expect(batch.count == 1)
        return (batch.records.first, batch.errors)
    }

    /// Expects the record to fail on `field` with a message containing each of `words`.
    func expectError(_ object: String, field: String, _ words: String..., sourceLocation: SourceLocation = #_sourceLocation)
        throws
    {
        let (reading, errors) = try check(object)
        #expect(reading == nil, "\(object)", sourceLocation: sourceLocation)
        #expect(errors.map(\.field) == [field], "\(object): \(errors)", sourceLocation: sourceLocation)
        for word in words {
            #expect(errors.first?.message.contains(word) == true, "\(errors.first?.message ?? "") lacks \(word)",
                sourceLocation: sourceLocation)
        }
    }

    func expectGood(_ object: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> Reading? {
        let (reading, errors) = try check(object)
        #expect(errors.isEmpty, "\(object): \(errors)", sourceLocation: sourceLocation)
        return reading
    }

    @Test("a full record, and the defaults of optional fields")
    func defaults() throws {
        #expect(try expectGood(readingJSON()) == goodReading)
        let full = try expectGood(readingJSON(extra: #","export_wh":5,"quality":"estimated","id":"r/1 x""#))
        #expect(full?.exportWh == 5)
        #expect(full?.quality == .estimated)
        #expect(full?.id == "r/1 x")
        let nulls = try expectGood(readingJSON(extra: #","export_wh":null,"quality":null,"id":null"#))
        #expect(nulls == goodReading)
    }

    @Test("required fields: each missing one is named")
    func missing() throws {
        try expectError(#"{"meter":"m","consumer":"c","start":1790784000,"duration_s":1,"import_wh":1}"#, field: "utility", "utility is required")
        let (_, errors) = try check("{}")
        #expect(errors.map(\.field) == ["utility", "meter", "consumer", "start", "duration_s", "import_wh"])
        #expect(errors.allSatisfy { $0.message == "\($0.field) is required" })
        try expectError(#"{"utility":"u","meter":null,"consumer":"c","start":1790784000,"duration_s":1,"import_wh":1}"#, field: "meter", "must be a string, got null")
    }

    @Test("names: 1 to 128 bytes, no control characters, no '/', no edge spaces, strings only")
    func names() throws {
        let max = String(repeating: "é", count: 64)  // 128 bytes
        #expect(try expectGood(readingJSON(meter: max))?.meter == max)
        try expectError(readingJSON(meter: max + "a"), field: "meter", "at most 128 bytes", "it has 129")
        try expectError(readingJSON(meter: ""), field: "meter", "must not be empty")
        try expectError(readingJSON(meter: "a\\u0001b"), field: "meter", "control characters", #""a\u0001b""#)
        try expectError(readingJSON(meter: "a\\u007fb"), field: "meter", "control characters")
        try expectError(readingJSON(meter: "a\u{85}b"), field: "meter", "control characters")
        try expectError(readingJSON(consumer: "a\\tb"), field: "consumer", "control characters")
        try expectError(readingJSON(utility: "zj/grid"), field: "utility", "'/'")
        try expectError(readingJSON(utility: "zj\\/grid"), field: "utility", "'/'")
        try expectError(readingJSON(meter: " m"), field: "meter", "space")
        try expectError(readingJSON(meter: "m "), field: "meter", "space")
        #expect(try expectGood(readingJSON(meter: "m 1"))?.meter == "m 1")
        #expect(try expectGood(readingJSON(meter: "m\\\"1\\\\"))?.meter == "m\"1\\")
        #expect(try expectGood(readingJSON(meter: "\\u4e2d\\ud83d\\ude00"))?.meter == "中😀")
        try expectError(#"{"utility":12,"meter":"m","consumer":"c","start":1790784000,"duration_s":1,"import_wh":1}"#, field: "utility", "must be a string, got 12")
        try expectError(#"{"utility":["a"],"meter":"m","consumer":"c","start":1790784000,"duration_s":1,"import_wh":1}"#, field: "utility", "got an array")
        try expectError(#"{"utility":{"a":1.5},"meter":"m","consumer":"c","start":1790784000,"duration_s":1,"import_wh":1}"#, field: "utility", "got an object")
        try expectError(#"{"utility":true,"meter":"m","consumer":"c","start":1790784000,"duration_s":1,"import_wh":1}"#, field: "utility", "got true")
    }

    @Test("start: bounds at and one past 2000-01-01 and 2100-01-01")
    func startBounds() throws {
        #expect(try expectGood(readingJSON(start: "946684800"))?.start == 946_684_800)
        #expect(try expectGood(readingJSON(start: "4102444799"))?.start == 4_102_444_799)
        try expectError(readingJSON(start: "946684799"), field: "start", "from 2000-01-01T00:00:00Z", "1999-12-31T23:59:59Z")
        try expectError(readingJSON(start: "4102444800"), field: "start", "2100-01-01T00:00:00Z")
        try expectError(readingJSON(start: "\"2100-01-01T08:00:00+08:00\""), field: "start", "not including")
        try expectError(readingJSON(start: "-1"), field: "start")
    }

    @Test("start: RFC 3339 with offset and digit strings accepted; other spellings refused with the reason")
    func startFormats() throws {
        #expect(try expectGood(readingJSON(start: "\"2026-10-01T00:00:00+08:00\""))?.start == 1_790_784_000)
        #expect(try expectGood(readingJSON(start: "\"2026-09-30T16:00:00Z\""))?.start == 1_790_784_000)
        #expect(try expectGood(readingJSON(start: "\"2026-09-30T16:00:00.000Z\""))?.start == 1_790_784_000)
        #expect(try expectGood(readingJSON(start: "\"1790784000\""))?.start == 1_790_784_000)
        try expectError(readingJSON(start: "\"2026-10-01T00:00:00\""), field: "start", "offset is missing")
        try expectError(readingJSON(start: "\"2026-10-01T00:00:00.5Z\""), field: "start", "whole seconds")
        try expectError(readingJSON(start: "\"2026-02-30T00:00:00Z\""), field: "start", "2026-02 has no day 30")
        try expectError(readingJSON(start: "\"2026-13-01T00:00:00Z\""), field: "start", "no month 13")
        try expectError(readingJSON(start: "\"2026-10-01T24:00:00Z\""), field: "start", "hour 24")
        try expectError(readingJSON(start: "\"2026-10-01\""), field: "start", "RFC 3339")
        try expectError(readingJSON(start: "\"01790784000\""), field: "start", "leading zeros")
        try expectError(readingJSON(start: "1790784000.5"), field: "start", "no fraction")
        try expectError(readingJSON(start: "179e7"), field: "start", "exponent")
        try expectError(readingJSON(start: "true"), field: "start", "got true")
    }

    @Test("duration_s: 1 to 2678400")
    func duration() throws {
        #expect(try expectGood(readingJSON(duration: "1"))?.durationS == 1)
        #expect(try expectGood(readingJSON(duration: "2678400"))?.durationS == 2_678_400)
        try expectError(readingJSON(duration: "0"), field: "duration_s", "from 1 to 2678400 (31 days), got 0")
        try expectError(readingJSON(duration: "2678401"), field: "duration_s", "got 2678401")
        try expectError(readingJSON(duration: "-5"), field: "duration_s")
    }

    @Test("import_wh and export_wh: 0 to 10^12, integers only, clear messages")
    func energy() throws {
        #expect(try expectGood(readingJSON(importWh: "0"))?.importWh == 0)
        #expect(try expectGood(readingJSON(importWh: "1000000000000"))?.importWh == 1_000_000_000_000)
        try expectError(readingJSON(importWh: "1000000000001"), field: "import_wh", "from 0 to 1000000000000, got 1000000000001")
        try expectError(readingJSON(importWh: "-1"), field: "import_wh", "got -1")
        try expectError(readingJSON(importWh: "12.5"), field: "import_wh", "must be an integer from 0 to 1000000000000, got 12.5 (no fraction)")
        try expectError(readingJSON(importWh: "12.0"), field: "import_wh", "no fraction")
        try expectError(readingJSON(importWh: "1e3"), field: "import_wh", "exponent")
        try expectError(readingJSON(importWh: "012"), field: "import_wh", "got 012 (no leading zeros)")
        try expectError(readingJSON(importWh: "+12"), field: "import_wh", "'+'")
        try expectError(readingJSON(importWh: "99999999999999999999"), field: "import_wh", "got 99999999999999999999")
        try expectError(readingJSON(importWh: "9223372036854775808"), field: "import_wh")
        try expectError(readingJSON(importWh: "\"12\""), field: "import_wh", "not a string", #"got "12""#)
        try expectError(readingJSON(importWh: "null"), field: "import_wh", "got null")
        try expectError(readingJSON(importWh: "12abc"), field: "import_wh", "got 12abc")
        #expect(try expectGood(readingJSON(extra: #","export_wh":1000000000000"#))?.exportWh == 1_000_000_000_000)
        #expect(try expectGood(readingJSON(extra: #","export_wh":0"#))?.exportWh == 0)
        try expectError(readingJSON(extra: #","export_wh":1000000000001"#), field: "export_wh")
        try expectError(readingJSON(extra: #","export_wh":-1"#), field: "export_wh")
    }

    @Test("quality: actual or estimated, lower case")
    func quality() throws {
        #expect(try expectGood(readingJSON(extra: #","quality":"actual""#))?.quality == .actual)
        try expectError(readingJSON(extra: #","quality":"Actual""#), field: "quality", #"must be "actual" or "estimated", got "Actual""#)
        try expectError(readingJSON(extra: #","quality":1"#), field: "quality")
    }

    @Test("id: 1 to 128 bytes without control characters, or null")
    func id() throws {
        let max = String(repeating: "x", count: 128)
        #expect(try expectGood(readingJSON(extra: #","id":"\#(max)""#))?.id == max)
        try expectError(readingJSON(extra: #","id":"\#(max)x""#), field: "id", "at most 128 bytes")
        try expectError(readingJSON(extra: #","id":"""#), field: "id", "must not be empty")
        try expectError(readingJSON(extra: #","id":"a\nb""#), field: "id", "control characters")
        try expectError(readingJSON(extra: #","id":7"#), field: "id", "a string or null, got 7")
    }

    @Test("unknown fields are named, with a suggestion for near misses; duplicates are refused")
    func unknownAndDuplicate() throws {
        try expectError(readingJSON(extra: #","importWh":5"#), field: "importWh", #"unknown field "importWh": did you mean import_wh?"#)
        try expectError(readingJSON(extra: #","Quality":"actual""#), field: "Quality", "did you mean quality?")
        try expectError(readingJSON(extra: #","duration":5"#), field: "duration", "did you mean duration_s?")
        try expectError(readingJSON(extra: #","colour":"red""#), field: "colour", "the fields are utility, meter")
        try expectError(readingJSON(extra: #","import_wh":5"#), field: "import_wh", "appears more than once")
        try expectError(readingJSON(extra: #","\u0069d":"x","id":"y""#), field: "id", "appears more than once")
        // One error per bad field, all of them.
        let (_, errors) = try check(#"{"utility":"","meter":"/","consumer":"c","start":0,"duration_s":0,"import_wh":-1,"x":1}"#)
        #expect(errors.map(\.field) == ["utility", "meter", "start", "duration_s", "import_wh", "x"])
        #expect(Set(errors.map(\.index)) == [0])
    }

    @Test("errors encode as {index, field, message}")
    func errorCoding() throws {
        let (_, errors) = try check(readingJSON(importWh: "12.5"))
        let error = try #require(errors.first)
        #expect(error.description.hasPrefix("record 0: import_wh must be"))
        #expect(error == RecordError(index: 0, field: "import_wh", message: error.message))
    }
}

@Suite("Reading error sizes")
struct ReadingErrorSizeTests {
    @Test("a huge unknown key or value gives a short error")
    func hugeValues() throws {
        let key = String(repeating: "k", count: 100_000)
        let batch = try readings("[" + readingJSON(meter: String(repeating: "m", count: 100_000), extra: ",\"\(key)\":1") + "]", .json)
        #expect(batch.errors.map(\.field) == ["meter", String(repeating: "k", count: 128)])
        #expect(batch.errors.allSatisfy { $0.message.utf8.count < 400 })
        #expect(batch.errors[0].message.contains("(it has 100000)"))
        #expect(batch.errors[0].message.contains("mmmm…\""))
    }
}

@Suite struct NormalizationTests {
    @Test func namesMustBeNFCSoThatOneNameHasOneSpelling() throws {
        let nfc = "Zo\u{00EB}-1"
        let nfd = "Zoe\u{0308}-1"
        #expect(nfc == nfd)  // Swift compares canonically, which is why keys must be NFC
        let good = try readings(#"{"utility":"u","meter":"m","consumer":"\#(nfc)","start":946684800,"duration_s":60,"import_wh":1}"#, .ndjson)
        #expect(good.errors.isEmpty)
        let bad = try readings(#"{"utility":"u","meter":"m","consumer":"\#(nfd)","start":946684800,"duration_s":60,"import_wh":1}"#, .ndjson)
        #expect(bad.errors.map(\.field) == ["consumer"])
        #expect(bad.errors.first?.message.contains("NFC") == true)
        // A CJK compatibility ideograph normalizes to another character: refused too.
        let compatibility = try readings(#"{"utility":"u","meter":"\#u{F900}","consumer":"c","start":946684800,"duration_s":60,"import_wh":1}"#, .ndjson)
        #expect(compatibility.errors.map(\.field) == ["meter"])
    }
}
