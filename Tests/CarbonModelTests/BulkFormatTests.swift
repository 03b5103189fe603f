import Testing

@testable import CarbonModel

/// Six records, of which 1, 3 and 4 are bad, in each format.
private let mixedRecords: [String] = [
    readingJSON(meter: "m-0"),
    readingJSON(meter: "m-1", importWh: "-1"),
    readingJSON(meter: "m-2"),
    readingJSON(meter: "m/3"),
    readingJSON(meter: "m-4", extra: #","importWh":1"#),
    readingJSON(meter: "m-5"),
]

private let csvHeader = "utility,meter,consumer,start,duration_s,import_wh,export_wh,quality,id"

@Suite("Bulk formats")
struct BulkFormatTests {
    @Test("every bad record is listed with its 0-based index, in all three formats")
    func allBadRecordsListed() throws {
        let json = try readings("[" + mixedRecords.joined(separator: ",") + "]", .json)
        let ndjson = try readings(mixedRecords.joined(separator: "\n"), .ndjson)
        for batch in [json, ndjson] {
            #expect(batch.count == 6)
            #expect(batch.recordIndex == [0, 2, 5])
            #expect(batch.records.map(\.meter) == ["m-0", "m-2", "m-5"])
            #expect(batch.errors.map(\.index) == [1, 3, 4])
            #expect(batch.errors.map(\.field) == ["import_wh", "meter", "importWh"])
            #expect(checkInvariants(batch))
        }
    }

    @Test("CSV: every bad row is listed with its index (0 = first row after the header)")
    func csvBadRows() throws {
        let batch = try readings(
            """
            \(csvHeader)
            zj-grid,m-0,c-1,1790784000,3600,1250,,,
            zj-grid,m-1,c-1,1790784000,3600,12.5,,,
            zj-grid,m-2,c-1,1790784000,3600,1250,,,

            zj-grid,m/3,c-1,1790784000,3600,1250,,,
            zj-grid,m-4,c-1,1790784000,3600,1250,,
            zj-grid,m-5,c-1,2026-10-01T00:00:00+08:00,3600,1250,0,estimated,\"r,\"\"5\"\"\"
            """, .csv)
        #expect(batch.count == 6)
        #expect(batch.recordIndex == [0, 2, 5])
        #expect(batch.errors.map(\.index) == [1, 3, 4])
        #expect(batch.errors[0] == RecordError(index: 1, field: "import_wh", message: #"import_wh must be an integer from 0 to 1000000000000, got "12.5" (no fraction)"#))
        #expect(batch.errors[1].field == "meter")
        #expect(batch.errors[2] == RecordError(index: 4, field: "", message: "the row has 8 cells, but the header has 9 columns"))
        #expect(batch.records[2].id == "r,\"5\"")
        #expect(batch.records[2].quality == .estimated)
        #expect(batch.records[2].start == 1_790_784_000)
        #expect(checkInvariants(batch))
    }

    @Test("CSV: columns in any order, quoting, CRLF, no final newline, empty cell = absent")
    func csvShapes() throws {
        let crlf = "import_wh,\"id\",meter,utility,consumer,duration_s,start,quality\r\n"
            + "1250,\"a\r\nb\",\"m-1\",zj-grid,c-1,3600,1790784000,\r\n"
            + "1250,,m-2,zj-grid,c-1,3600,1790784000,estimated"
        let batch = try readings(crlf, .csv)
        #expect(batch.errors.count == 1)  // the line break inside the id is a control character
        #expect(batch.errors.first?.field == "id")
        #expect(batch.records.map(\.meter) == ["m-2"])
        #expect(batch.records.first?.id == nil)
        #expect(batch.records.first?.quality == .estimated)

        let lf = "\u{FEFF}\(csvHeader)\nzj-grid,m-1,c-1,1790784000,3600,1250,\"\",\"\",\"x\"\"y\"\n\n"
        let good = try readings(lf, .csv)
        #expect(good.errors.isEmpty)
        #expect(good.records.first?.exportWh == 0)
        #expect(good.records.first?.id == "x\"y")

        let empty = try readings(csvHeader + "\r\n", .csv)
        #expect(empty.count == 0)
        #expect(empty.records.isEmpty)
        #expect(try readings(csvHeader, .csv).count == 0)
    }

    @Test("CSV: an empty required cell, a stray quote")
    func csvCells() throws {
        let batch = try readings("\(csvHeader)\nzj-grid,,c-1,1790784000,3600,1250,,,\nzj-grid,m\"1,c-1,1790784000,3600,1250,,,", .csv)
        #expect(batch.errors == [
            RecordError(index: 0, field: "meter", message: "meter is required (its cell is empty)"),
            RecordError(index: 1, field: "meter", message: #"meter has a '"' in a cell without quotes: quote the whole cell and write the quote twice ("")"#),
        ])
    }

    @Test("CSV: a repeated or unnamed column refuses the body; unknown and missing ones fail each record")
    func csvHeaderProblems() throws {
        let unknown = try readings("utility,meter,consumer,start,duration_s,import_wh,importWh\nu,m,c,946684800,3600,1,5\nu,m,c,946688400,3600,1,\n", .csv)
        #expect(unknown.errors == [RecordError(index: 0, field: "importWh", message: #"unknown column "importWh": did you mean import_wh?"#)])
        #expect(unknown.recordIndex == [1])
        let missing = try readings("utility,meter,consumer,start,duration_s\nu,m,c,946684800,3600\nu,m,c,946688400,3600\n", .csv)
        #expect(missing.errors.map(\.index) == [0, 1])
        #expect(missing.errors.map(\.field) == ["import_wh", "import_wh"])
        #expect(bodyError { try readings("colour,size\n", .csv) }
            == .badHeader(message: "the first row names none of the fields (utility, meter, consumer, start, duration_s, import_wh, export_wh, quality, id); is it a header?"))
        #expect(bodyError { try readings("utility,meter,meter,consumer,start,duration_s,import_wh\n", .csv) }
            == .badHeader(message: "column meter appears twice"))
        #expect(bodyError { try readings("utility,,meter,consumer,start,duration_s,import_wh\n", .csv) }
            == .badHeader(message: "column 2 has no name"))
        #expect(bodyError { try readings("\"utility,meter\n", .csv) }
            == .badHeader(message: "the quoted cell that starts here is never closed (line 1, column 1)"))
    }

    @Test("CSV: a quote that is never closed, or text after a closing quote, refuses the body")
    func csvMalformed() {
        let unclosed = bodyError { try readings("\(csvHeader)\nzj-grid,m-1,c-1,1790784000,3600,1250,,,\nzj-grid,\"m-2,c-1\n", .csv) }
        guard case .malformed(let index, let offset, let message)? = unclosed else {
            Issue.record("\(String(describing: unclosed))")
            return
        }
        #expect(index == 1)
        #expect(offset == (csvHeader + "\nzj-grid,m-1,c-1,1790784000,3600,1250,,,\nzj-grid,").utf8.count)
        #expect(message.contains("line 3, column 9"))
        let after = bodyError { try readings("\(csvHeader)\nzj-grid,\"m\"x,c-1\n", .csv) }
        guard case .malformed(0, _, let text)? = after else {
            Issue.record("\(String(describing: after))")
            return
        }
        #expect(text.contains("must be followed by ','"))
    }

    @Test("NDJSON: blank lines are skipped and not counted; a final newline or none; CRLF")
    func ndjsonLines() throws {
        let body = "\n" + readingJSON(meter: "a") + "\r\n\n   \n\t\r\n" + readingJSON(meter: "b/") + "\n" + readingJSON(meter: "c")
        for text in [body, body + "\n", body + "\r\n", body + "\n\n  "] {
            let batch = try readings(text, .ndjson)
            #expect(batch.count == 3)
            #expect(batch.recordIndex == [0, 2])
            #expect(batch.errors.map(\.index) == [1])
            #expect(batch.records.map(\.meter) == ["a", "c"])
        }
    }

    @Test("NDJSON: a malformed line is one bad record and the rest are read")
    func ndjsonMalformedLines() throws {
        let lines = [
            readingJSON(meter: "a"),
            #"{"utility":"zj-grid","meter":"#,  // truncated
            "[1,2]",  // not an object
            readingJSON(meter: "b") + " x",  // trailing text
            readingJSON(meter: "é\"") ,  // unescaped quote: the string ends early
            "{\"utility\":\"zj\ngrid\"}",  // a line break inside a string: two bad lines
            readingJSON(meter: "c"),
        ]
        let batch = try readings(lines.joined(separator: "\n"), .ndjson)
        #expect(batch.count == 8)
        #expect(batch.records.map(\.meter) == ["a", "c"])
        #expect(batch.recordIndex == [0, 7])
        #expect(batch.errors.map(\.index) == [1, 2, 3, 4, 5, 6])
        #expect(batch.errors.allSatisfy { $0.field == "" })
        #expect(batch.errors[0].message
            == "line 2 is not valid JSON at column \(lines[1].count + 1): expected a value, found the end of the line")
        #expect(batch.errors[1].message == "each record must be a JSON object ({...}), got an array")
        #expect(batch.errors[2].message.contains("one record a line"))
        #expect(batch.errors[4].message.contains("the line ends inside a string"))
        #expect(checkInvariants(batch))
    }

    @Test("JSON array: whitespace anywhere, a single object, an empty array")
    func jsonShapes() throws {
        let spaced = " \r\n[ \n" + readingJSON().replacingAll(",", with: " ,\n\t") + " ,\n" + readingJSON() + "\n]\n "
        let batch = try readings(spaced, .json)
        #expect(batch.records == [goodReading, goodReading])
        #expect(try readings(readingJSON(), .json).records == [goodReading])
        let empty = try readings("[ ]", .json)
        #expect(empty.count == 0 && empty.isClean)
        let notObjects = try readings("[1, \"x\", null, [], " + readingJSON() + "]", .json)
        #expect(notObjects.errors.map(\.index) == [0, 1, 2, 3])
        #expect(notObjects.errors[1].message == "each record must be a JSON object ({...}), got a string")
        #expect(notObjects.recordIndex == [4])
    }

    @Test("JSON array: broken syntax refuses the body, naming record, line and column")
    func jsonMalformed() {
        let truncated = "[" + readingJSON() + ",\n" + String(readingJSON().prefix(29))
        guard case .malformed(let index, let offset, let message)? = bodyError({ try readings(truncated, .json) }) else {
            Issue.record("not malformed")
            return
        }
        #expect(index == 1)
        #expect(offset == truncated.utf8.count)
        #expect(message.contains("line 2, column 30 (record 1): expected a value, found the end of the body"))
        for text in ["[", "[" + readingJSON() + ",]", "[" + readingJSON() + "] x", "{\"a\":1", "x", "[}", "[" + readingJSON() + readingJSON() + "]"] {
            let error = bodyError { try readings(text, .json) }
            guard case .malformed? = error else {
                Issue.record("\(text): \(String(describing: error))")
                continue
            }
        }
    }

    @Test("empty bodies, bad UTF-8")
    func wholeBody() {
        for format in BodyFormat.allCases {
            #expect(bodyError { try readings("", format) } == .empty)
            let blank = bodyError { try readings(" \n\r\n\t", format) }
            if format == .csv {
                #expect(blank == .badHeader(message: "the first row names none of the fields (utility, meter, consumer, start, duration_s, import_wh, export_wh, quality, id); is it a header?"))
            } else {
                #expect(blank == .empty)
            }
            #expect(bodyError { try readings("\u{FEFF}", format) } == .empty)
            let bytes: [UInt8] = Array("[{\"utility\":\"".utf8) + [0xC3, 0x28] + Array("\"}]".utf8)
            #expect(bodyError { try ReadingParser.parse(bytes, format: format, maxRecords: 10) } == .notUTF8(offset: 13))
        }
        #expect(bodyError { try readings("\n\r\n", .csv) } == .empty)
    }

    @Test("the record limit: exactly at it is fine, one more throws at once")
    func limits() throws {
        let n = 5
        let json = "[" + Array(repeating: readingJSON(), count: n).joined(separator: ",") + "]"
        let ndjson = Array(repeating: readingJSON(), count: n).joined(separator: "\n") + "\n\n"
        let csv = csvHeader + "\n" + Array(repeating: "zj-grid,m-1,c-1,1790784000,3600,1250,,,", count: n).joined(separator: "\n")
        for (text, format) in [(json, BodyFormat.json), (ndjson, .ndjson), (csv, .csv)] {
            #expect(try readings(text, format, max: n).records.count == n)
            #expect(bodyError { try readings(text, format, max: n - 1) } == .tooManyRecords(limit: n - 1))
            #expect(bodyError { try readings(text, format, max: 0) } == .tooManyRecords(limit: 0))
        }
        // Thrown when record limit + 1 starts, before the rest of the body is read.
        let overThenGarbage = "[" + readingJSON() + "," + readingJSON() + ", this is not JSON"
        #expect(bodyError { try readings(overThenGarbage, .json, max: 1) } == .tooManyRecords(limit: 1))
        #expect(bodyError { try readings(readingJSON(), .json, max: 0) } == .tooManyRecords(limit: 0))
    }

    @Test("random valid readings survive every format")
    func roundTrip() throws {
        var rng = SeededGenerator(seed: 99)
        let sample = (0..<300).map { _ in validReading(&rng) }
        let json = "[" + sample.map(\.json.canonicalString).joined(separator: ",") + "]"
        let ndjson = sample.map(\.json.canonicalString).joined(separator: "\n")
        let csv = csvHeader + "\r\n" + sample.map { r in
            [r.utility, r.meter, r.consumer, Timestamp.format(r.start), String(r.durationS), String(r.importWh),
             String(r.exportWh), r.quality.rawValue, r.id ?? ""].map(csvCell).joined(separator: ",")
        }.joined(separator: "\r\n")
        // Every character escaped as \uXXXX (surrogate pairs for astral ones).
        let escaped = "[" + sample.map { escapeEverything($0.json) }.joined(separator: ",") + "]"
        for (text, format) in [(json, BodyFormat.json), (ndjson, .ndjson), (csv, .csv), (escaped, .json)] {
            let batch = try readings(text, format)
            #expect(batch.errors.isEmpty, "\(format): \(batch.errors.prefix(2))")
            #expect(batch.records == sample, "\(format)")
        }
    }

    @Test("Content-Type to format")
    func contentTypes() {
        #expect(BodyFormat(contentType: "application/json") == .json)
        #expect(BodyFormat(contentType: "Application/JSON; charset=utf-8") == .json)
        #expect(BodyFormat(contentType: "application/x-ndjson") == .ndjson)
        #expect(BodyFormat(contentType: "application/ndjson;charset=UTF-8") == .ndjson)
        #expect(BodyFormat(contentType: " text/csv ; header=present") == .csv)
        #expect(BodyFormat(contentType: "TEXT/CSV") == .csv)
        for unsupported in ["", "text/plain", "application/xml", "application/json-seq", "csv", "application/atom+xml"] {
            #expect(BodyFormat(contentType: unsupported) == nil)
        }
        for format in BodyFormat.allCases { #expect(BodyFormat(contentType: format.contentType) == format) }
    }
}

/// A JSON object with every string character written as a \u escape.
private func escapeEverything(_ value: JSONValue) -> String {
    guard case .object(let members) = value else { return value.canonicalString }
    func escaped(_ s: String) -> String {
        "\"" + s.utf16.map { unit in
            let hex = String(unit, radix: 16)
            return "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
        }.joined() + "\""
    }
    return "{" + members.map { key, value in
        escaped(key) + ":" + (value.stringValue.map(escaped) ?? value.canonicalString)
    }.joined(separator: ",") + "}"
}
