import Testing

@testable import CarbonModel

@Suite("Consumer parsing")
struct ConsumerParserTests {
    func one(_ object: String) throws -> (Consumer?, [RecordError]) {
        let batch = try consumers("[\(object)]", .json)
        return (batch.records.first, batch.errors)
    }

    @Test("a full record and the normalizer default, in every format")
    func formats() throws {
        let expected = [
            Consumer(id: "c-1", utility: "zj-grid", zone: "CN-ZJ", consumerClass: .residential, normalizer: 3),
            Consumer(id: "c-2", utility: "zj-grid", zone: "CN-ZJ", consumerClass: .public),
        ]
        let json = #"[{"consumer":"c-1","utility":"zj-grid","zone":"CN-ZJ","class":"residential","normalizer":3},"#
            + #"{"class":"public","zone":"CN-ZJ","utility":"zj-grid","consumer":"c-2","normalizer":null}]"#
        let ndjson = #"{"consumer":"c-1","utility":"zj-grid","zone":"CN-ZJ","class":"residential","normalizer":3}"#
            + "\n\n" + #"{"class":"public","zone":"CN-ZJ","utility":"zj-grid","consumer":"c-2"}"# + "\n"
        let csv = "class,consumer,utility,zone,normalizer\r\nresidential,c-1,zj-grid,CN-ZJ,3\r\npublic,c-2,zj-grid,\"CN-ZJ\",\r\n"
        for (text, format) in [(json, BodyFormat.json), (ndjson, .ndjson), (csv, .csv)] {
            let batch = try consumers(text, format)
            #expect(batch.errors.isEmpty, "\(format): \(batch.errors)")
            #expect(batch.records == expected)
            #expect(batch.recordIndex == [0, 1])
        }
    }

    @Test("class is one of the four, in lower case")
    func classes() throws {
        for consumerClass in ConsumerClass.allCases {
            let (consumer, _) = try one(#"{"consumer":"c","utility":"u","zone":"z","class":"\#(consumerClass.rawValue)"}"#)
            #expect(consumer?.consumerClass == consumerClass)
        }
        let (_, errors) = try one(#"{"consumer":"c","utility":"u","zone":"z","class":"Home"}"#)
        #expect(errors == [RecordError(index: 0, field: "class",
            message: #"class must be one of "residential", "commercial", "industrial", "public", got "Home""#)])
    }

    @Test("normalizer: 1 to 10^9")
    func normalizer() throws {
        let base = #"{"consumer":"c","utility":"u","zone":"z","class":"industrial","normalizer":"#
        #expect(try one(base + "1}").0?.normalizer == 1)
        #expect(try one(base + "1000000000}").0?.normalizer == 1_000_000_000)
        #expect(try one(base + "0}").1.first?.message == "normalizer must be an integer from 1 to 1000000000, got 0")
        #expect(try one(base + "1000000001}").1.first?.field == "normalizer")
        #expect(try one(base + "2.5}").1.first?.message.contains("no fraction") == true)
    }

    @Test("required fields, name rules, unknown and repeated fields")
    func refusals() throws {
        let (_, missing) = try one("{}")
        #expect(missing.map(\.field) == ["consumer", "utility", "zone", "class"])
        let (_, badZone) = try one(#"{"consumer":"c","utility":"u","zone":"CN/ZJ","class":"public"}"#)
        #expect(badZone.map(\.field) == ["zone"])
        let (_, unknown) = try one(#"{"consumer":"c","utility":"u","zone":"z","class":"public","id":"c"}"#)
        #expect(unknown.first?.message.contains(#"unknown field "id"; the fields are consumer, utility, zone, class, normalizer"#) == true)
        let (_, typo) = try one(#"{"consumer":"c","utility":"u","zone":"z","Class":"public"}"#)
        #expect(typo.map(\.field) == ["Class", "class"])
        #expect(typo.first?.message.contains("did you mean class?") == true)
        let (_, twice) = try one(#"{"consumer":"c","utility":"u","zone":"z","class":"public","zone":"y"}"#)
        #expect(twice.map(\.message) == ["zone appears more than once in the record"])
        #expect(try consumers("consumer,utility,zone\nc,u,z\n", .csv).errors.map(\.field) == ["class"])
        #expect(try consumers("consumer,utility,zone,class,colour\nc,u,z,public,red\n", .csv).errors
            == [RecordError(index: 0, field: "colour", message: #"unknown column "colour"; the columns are consumer, utility, zone, class, normalizer"#)])
    }

    @Test("limits and bad bodies")
    func limits() {
        let body = Array(repeating: #"{"consumer":"c","utility":"u","zone":"z","class":"public"}"#, count: 3).joined(separator: "\n")
        #expect(bodyError { try consumers(body, .ndjson, max: 2) } == .tooManyRecords(limit: 2))
        #expect(bodyError { try consumers(body, .ndjson, max: 3) } == nil)
        #expect(bodyError { try consumers("[" + body + "]", .json) } != nil)
        #expect(bodyError { try consumers("", .json) } == .empty)
    }
}

@Suite("Consumer batches")
struct ConsumerBatchTests {
    @Test("every bad consumer is listed with its index, in all three formats")
    func badRecordsListed() throws {
        let objects = [
            #"{"consumer":"c-0","utility":"u","zone":"z","class":"public"}"#,
            #"{"consumer":"c-1","utility":"u","zone":"z","class":"home"}"#,
            #"{"consumer":"c-2","utility":"u","zone":"z","class":"public","normalizer":0}"#,
            #"{"consumer":"c-3","utility":"u","zone":"z","class":"public"}"#,
            #"{"consumer":"","utility":"u","zone":"z","class":"public"}"#,
        ]
        let csv = "consumer,utility,zone,class,normalizer\nc-0,u,z,public,\nc-1,u,z,home,\nc-2,u,z,public,0\n\nc-3,u,z,public,\n,u,z,public,\n"
        for (text, format) in [("[" + objects.joined(separator: ",") + "]", BodyFormat.json),
                               (objects.joined(separator: "\r\n"), .ndjson), (csv, .csv)] {
            let batch = try consumers(text, format)
            #expect(batch.count == 5, "\(format)")
            #expect(batch.recordIndex == [0, 3], "\(format)")
            #expect(batch.records.map(\.id) == ["c-0", "c-3"], "\(format)")
            #expect(batch.errors.map(\.index) == [1, 2, 4], "\(format)")
            #expect(batch.errors.map(\.field) == ["class", "normalizer", "consumer"], "\(format)")
            #expect(checkInvariants(batch))
        }
    }
}
