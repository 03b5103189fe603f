/// Reads the records of a bulk body in any `BodyFormat` into a `ParsedBatch`, using a
/// `RecordDraft` for the fields. One reader serves readings and consumers alike.
///
/// Shared decisions, whatever the format:
/// - The body must be UTF-8 (`BodyError.notUTF8`); a leading byte order mark is skipped.
/// - A body with no record at all (empty, whitespace, no CSV header) is `BodyError.empty`;
///   `[]` or a CSV header without rows is a valid batch of zero records.
/// - Record `maxRecords + 1` throws `BodyError.tooManyRecords` as soon as it starts.
/// - An unknown field, a repeated field, and a missing required field are record errors;
///   `null` for an optional field means absent.
struct BulkReader<Draft: RecordDraft> {
    let body: UnsafeRawBufferPointer
    let maxRecords: Int
    /// `Draft.fields`, fetched once (a static is checked for initialization on each use).
    let fields = Draft.fields
    var batch = ParsedBatch<Draft.Record>()
    var reader: FieldReader

    static func parse(
        _ body: UnsafeRawBufferPointer, format: BodyFormat, maxRecords: Int
    ) throws(BodyError) -> ParsedBatch<Draft.Record> {
        if let offset = UTF8Validation.firstInvalidOffset(body) { throw .notUTF8(offset: offset) }
        let hasByteOrderMark = body.count >= 3 && body[0] == 0xEF && body[1] == 0xBB && body[2] == 0xBF
        let start = hasByteOrderMark ? 3 : 0
        var bulk = BulkReader(body: body, maxRecords: maxRecords, reader: FieldReader(body: body))
        // Room for the usual case without re-growing; records are ~100-200 bytes.
        bulk.batch.records.reserveCapacity(min(max(maxRecords, 0), body.count / 96 + 1))
        bulk.batch.recordIndex.reserveCapacity(min(max(maxRecords, 0), body.count / 96 + 1))
        switch format {
        case .json: try bulk.readJSON(from: start)
        case .ndjson: try bulk.readNDJSON(from: start)
        case .csv: try bulk.readCSV(from: start)
        }
        bulk.batch.errors = bulk.reader.errors
        return bulk.batch
    }

    // MARK: Records

    /// Counts a new record, refusing the one past the limit; returns its index.
    private mutating func beginRecord() throws(BodyError) -> Int {
        let index = batch.count
        guard index < maxRecords else { throw .tooManyRecords(limit: maxRecords) }
        batch.count += 1
        reader.begin(index)
        return index
    }

    /// Reports missing required fields, then keeps the record if nothing was wrong.
    private mutating func finishRecord(_ draft: consuming Draft, seen: UInt64, emptyCells: Bool = false) {
        var missing = fields.requiredMask & ~seen
        while missing != 0 {
            let name = fields.fields[missing.trailingZeroBitCount].rawValue
            reader.reject(name, emptyCells ? "\(name) is required (its cell is empty)" : "\(name) is required")
            missing &= missing - 1
        }
        guard !reader.recordFailed else { return }
        batch.records.append((consume draft).record())
        batch.recordIndex.append(reader.index)
    }

    /// Takes one field of a record: finds it by name, refuses unknown and repeated
    /// fields, and hands the value to the draft.
    @inline(__always)
    private mutating func accept(
        fieldAt position: Int?, name: () -> String, value: RawValue, into draft: inout Draft, seen: inout UInt64
    ) {
        guard let position else {
            let name = name()
            reader.reject(MessageText.fieldName(name), fields.unknownFieldMessage(name))
            return
        }
        let field = fields.fields[position]
        let bit: UInt64 = 1 << UInt64(position)
        guard seen & bit == 0 else {
            reader.reject(field.rawValue, "\(field.rawValue) appears more than once in the record")
            return
        }
        seen |= bit
        if case .null = value, !field.isRequired { return }
        draft.set(field, value, &reader)
    }

    // MARK: JSON and NDJSON

    /// Reads one record at the lexer's position (an object, or anything else, refused as
    /// a whole) and keeps it if it is good. With `endsLine` (NDJSON) the line must end
    /// after it, before the record is kept.
    private mutating func readRecord(_ lexer: inout JSONLexer, endsLine: Bool) throws(JSONParseError) {
        guard lexer.peek == UInt8(ascii: "{") else {
            let what = JSONLexer.describeValue(startingWith: lexer.peek)
            _ = try lexer.parseValue(depth: 0, building: false)
            if endsLine { try Self.expectLineEnd(&lexer) }
            reader.reject("", "each record must be a JSON object ({...}), got \(what)")
            return
        }
        lexer.position += 1
        lexer.skipWhitespace()
        var draft = Draft()
        var seen: UInt64 = 0
        if !lexer.consume(UInt8(ascii: "}")) {
            try readFields(&lexer, into: &draft, seen: &seen)
        }
        if endsLine { try Self.expectLineEnd(&lexer) }
        finishRecord(consume draft, seen: seen)
    }

    /// Reads the fields of an object up to and including its `}`.
    @inline(__always)
    private mutating func readFields(
        _ lexer: inout JSONLexer, into draft: inout Draft, seen: inout UInt64
    ) throws(JSONParseError) {
        while true {
            guard lexer.peek == JSONText.quote else { throw lexer.unexpected("a field name in double quotes") }
            let key = try lexer.scanString()
            lexer.skipWhitespace()
            guard lexer.consume(UInt8(ascii: ":")) else { throw lexer.unexpected("':' after the field name") }
            lexer.skipWhitespace()
            let value = try lexer.scanRawValue()
            let position =
                key.hasEscapes
                ? lexer.decode(key).withUnsafeBytes { fields.names.index(of: $0) }
                : fields.names.index(of: UnsafeRawBufferPointer(rebasing: body[key.content]))
            accept(fieldAt: position, name: { lexer.string(key) }, value: value, into: &draft, seen: &seen)
            lexer.skipWhitespace()
            if lexer.consume(UInt8(ascii: ",")) {
                lexer.skipWhitespace()
                continue
            }
            if lexer.consume(UInt8(ascii: "}")) { return }
            throw lexer.unexpected("',' or '}' after the field")
        }
    }

    /// `application/json`: an array of records, or one bare object (a batch of one).
    /// Any syntax error makes the body unreadable.
    private mutating func readJSON(from start: Int) throws(BodyError) {
        var lexer = JSONLexer(body, from: start)
        lexer.skipWhitespace()
        guard !lexer.isAtEnd else { throw .empty }
        if lexer.peek == UInt8(ascii: "{") {
            let index = try beginRecord()
            try Self.syntax(record: index, in: body) { () throws(JSONParseError) in
                try readRecord(&lexer, endsLine: false)
                try Self.expectEnd(&lexer)
            }
            return
        }
        var more = try Self.syntax(record: 0, in: body) { () throws(JSONParseError) -> Bool in
            guard lexer.consume(UInt8(ascii: "[")) else { throw lexer.unexpected("'[' to open an array of records") }
            lexer.skipWhitespace()
            if lexer.consume(UInt8(ascii: "]")) {
                try Self.expectEnd(&lexer)
                return false
            }
            return true
        }
        while more {
            let index = try beginRecord()
            more = try Self.syntax(record: index, in: body) { () throws(JSONParseError) -> Bool in
                try readRecord(&lexer, endsLine: false)
                lexer.skipWhitespace()
                if lexer.consume(UInt8(ascii: ",")) {
                    lexer.skipWhitespace()
                    return true
                }
                if lexer.consume(UInt8(ascii: "]")) {
                    try Self.expectEnd(&lexer)
                    return false
                }
                throw lexer.unexpected("',' or ']' after record \(index)")
            }
        }
    }

    /// Runs `work`, turning a JSON syntax error into `BodyError.malformed` at `record`.
    private static func syntax<T>(
        record index: Int, in body: UnsafeRawBufferPointer, _ work: () throws(JSONParseError) -> T
    ) throws(BodyError) -> T {
        do {
            return try work()
        } catch {
            let (line, column) = LineIndex(body).location(of: error.offset)
            throw .malformed(
                index: index, offset: error.offset,
                message: "the body is not valid JSON at line \(line), column \(column) (record \(index)): \(error.message)"
            )
        }
    }

    private static func expectLineEnd(_ lexer: inout JSONLexer) throws(JSONParseError) {
        lexer.skipWhitespace()
        guard lexer.isAtEnd || lexer.peek == 0x0A else {
            throw lexer.unexpected("the end of the line after the record (one record a line)")
        }
    }

    private static func expectEnd(_ lexer: inout JSONLexer) throws(JSONParseError) {
        lexer.skipWhitespace()
        guard lexer.isAtEnd else { throw lexer.unexpected("the end of the body after the records") }
    }

    /// `application/x-ndjson`: one record a line. A line that is not JSON is a bad
    /// record; the following lines are read as usual. Blank lines are skipped and not
    /// counted in record indexes.
    private mutating func readNDJSON(from start: Int) throws(BodyError) {
        var position = start
        var line = 1
        while position < body.count {
            var lexer = JSONLexer(body, from: position, newlineEndsRecord: true)
            lexer.skipWhitespace()
            if lexer.isAtEnd { break }
            if lexer.peek == 0x0A {
                position = lexer.position + 1
                line += 1
                continue
            }
            let lineStart = position
            _ = try beginRecord()
            let errorsBefore = reader.errors.count
            do throws(JSONParseError) {
                try readRecord(&lexer, endsLine: true)
                position = lexer.position
            } catch {
                // One error for the line instead of what its readable part said.
                reader.errors.removeSubrange(errorsBefore...)
                let column = Self.characterCount(lineStart..<error.offset, in: body) + 1
                reader.reject("", "line \(line) is not valid JSON at column \(column): \(error.message)")
                position = endOfLine(from: lineStart)
            }
            if position < body.count {
                position += 1  // the line feed
                line += 1
            }
        }
        if batch.count == 0 { throw .empty }
    }

    // MARK: CSV

    /// `text/csv`: a header row naming the fields (any order), then one record a row. An
    /// empty cell is an absent field. Entirely empty lines are skipped and not counted.
    private mutating func readCSV(from start: Int) throws(BodyError) {
        var csv = CSVReader(body, from: start)
        csv.skipBlankLines()
        guard !csv.isAtEnd else { throw .empty }
        var cells: [CSVReader.Cell] = []
        do throws(CSVReader.SyntaxError) {
            try csv.readRow(into: &cells)
        } catch {
            let (line, column) = LineIndex(body).location(of: error.offset)
            throw .badHeader(message: "\(error.message) (line \(line), column \(column))")
        }
        let columns = try headerColumns(cells)
        while true {
            csv.skipBlankLines()
            if csv.isAtEnd { break }
            let index = try beginRecord()
            do throws(CSVReader.SyntaxError) {
                try csv.readRow(into: &cells)
            } catch {
                let (line, column) = LineIndex(body).location(of: error.offset)
                throw .malformed(
                    index: index, offset: error.offset,
                    message: "the CSV is malformed at line \(line), column \(column) (record \(index)): \(error.message)")
            }
            readRow(cells, columns: columns)
        }
    }

    /// A header cell: the position of the field it names, or the name of a column no field has.
    private enum Column {
        case field(Int)
        case unknown(String)
    }

    /// The field of each header cell; refuses repeated and unnamed columns. An unknown
    /// column, like a missing required one, makes each record bad (not the body), so that
    /// every record is named, as for JSON.
    private func headerColumns(_ cells: [CSVReader.Cell]) throws(BodyError) -> [Column] {
        var columns: [Column] = []
        var seen: UInt64 = 0
        for (number, cell) in zip(1..., cells) {
            let value = RawValue.cell(cell.content, doubledQuotes: cell.doubledQuotes)
            let (name, position) = reader.withText(value) { text in
                (String(decoding: text, as: UTF8.self), fields.names.index(of: text))
            } ?? ("", nil)
            guard !name.isEmpty else { throw .badHeader(message: "column \(number) has no name") }
            guard let position else {
                columns.append(.unknown(name))
                continue
            }
            let bit: UInt64 = 1 << UInt64(position)
            guard seen & bit == 0 else { throw .badHeader(message: "column \(name) appears twice") }
            seen |= bit
            columns.append(.field(position))
        }
        guard seen != 0 else {
            throw .badHeader(message: "the first row names none of the fields (\(fields.fields.map(\.rawValue).joined(separator: ", "))); is it a header?")
        }
        return columns
    }

    private mutating func readRow(_ cells: [CSVReader.Cell], columns: [Column]) {
        guard cells.count == columns.count else {
            reader.reject("", "the row has \(cells.count) cells, but the header has \(columns.count) columns")
            return
        }
        var draft = Draft()
        var seen: UInt64 = 0
        for (cell, column) in zip(cells, columns) where !cell.content.isEmpty {
            let position: Int
            switch column {
            case .field(let field): position = field
            case .unknown(let name):
                reader.reject(String(name.prefix(128)), fields.unknownFieldMessage(name, noun: "column"))
                continue
            }
            if cell.strayQuote {
                let name = fields.fields[position].rawValue
                seen |= 1 << UInt64(position)
                reader.reject(
                    name, "\(name) has a '\"' in a cell without quotes: quote the whole cell and write the quote twice (\"\")")
                continue
            }
            accept(
                fieldAt: position, name: { "" }, value: .cell(cell.content, doubledQuotes: cell.doubledQuotes),
                into: &draft, seen: &seen)
        }
        finishRecord(consume draft, seen: seen, emptyCells: true)
    }

    // MARK: Positions

    /// Characters (Unicode scalars) in a byte range: the column of a bad NDJSON line,
    /// counted from where its record starts (after a byte order mark on line 1, which
    /// `LineIndex` would count).
    private static func characterCount(_ range: Range<Int>, in body: UnsafeRawBufferPointer) -> Int {
        range.clamped(to: 0..<body.count).reduce(0) { $0 + (body[$1] & 0xC0 == 0x80 ? 0 : 1) }
    }

    /// The offset of the line feed ending the line at `start`, or the body's end.
    private func endOfLine(from start: Int) -> Int {
        var i = start
        while i + 8 <= body.count && !SWAR.has(0x0A, in: body.loadUnaligned(fromByteOffset: i, as: UInt64.self)) {
            i += 8
        }
        while i < body.count && body[i] != 0x0A { i += 1 }
        return i
    }
}

extension JSONLexer {
    /// Scans a field value for the bulk parsers; an array or object is skipped (after
    /// checking its syntax) since no field takes one.
    @inline(__always)
    mutating func scanRawValue() throws(JSONParseError) -> RawValue {
        switch peek {
        case JSONText.quote:
            let token = try scanString()
            return .string(token.content, escaped: token.hasEscapes)
        case let b where JSONLexer.startsNumber(b):
            return .number(scanNumberToken())
        case UInt8(ascii: "{"):
            _ = try parseValue(depth: 0, building: false)
            return .object
        case UInt8(ascii: "["):
            _ = try parseValue(depth: 0, building: false)
            return .array
        default:
            switch try scanLiteral() {
            case .bool(let b): return .bool(b)
            default: return .null
            }
        }
    }

    /// "an array", "a string", ... for the value starting with `b`.
    static func describeValue(startingWith b: UInt8) -> String {
        switch b {
        case UInt8(ascii: "["): "an array"
        case JSONText.quote: "a string"
        case UInt8(ascii: "t"), UInt8(ascii: "f"): "a Boolean"
        case UInt8(ascii: "n"): "null"
        default: "a number"
        }
    }
}
