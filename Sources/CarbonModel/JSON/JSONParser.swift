extension JSONValue {
    /// How deep arrays and objects may nest in `parse` (deeper input is refused, not
    /// recursed into, so no input can exhaust the stack).
    public static let maximumDepth = 256

    /// Parses strict JSON (RFC 8259) whose numbers are all integers.
    ///
    /// Refused, with `JSONParseError.kind`:
    /// - `.notUTF8`: invalid UTF-8 (a byte order mark is not skipped either; it is a syntax error);
    /// - `.nonInteger`: a valid number with a fraction or exponent (`1.5`, `1e3`, even `1.0`);
    /// - `.numberOutOfRange`: an integer outside Int64;
    /// - `.duplicateKey`: an object naming a key twice (keys compared as Swift strings);
    /// - `.tooDeep`: nesting past `maximumDepth`;
    /// - `.syntax`: anything else that is not JSON, including `012`, `+1`, lone surrogate
    ///   escapes, and text after the value.
    public static func parse(_ bytes: UnsafeRawBufferPointer) throws(JSONParseError) -> JSONValue {
        try parse(bytes, bigIntegers: false)
    }

    /// Parses strict JSON as `parse` does, but takes integers outside Int64 and within
    /// Int128 as `.bigInt`: what ledger entries hold (benchmark sums over many consumers).
    public static func parse(ledgerEntry bytes: some Collection<UInt8>) throws(JSONParseError) -> JSONValue {
        let result = Array(bytes).withUnsafeBytes { buffer in
            Result { () throws(JSONParseError) -> JSONValue in try parse(buffer, bigIntegers: true) }
        }
        return try result.get()
    }

    private static func parse(_ bytes: UnsafeRawBufferPointer, bigIntegers: Bool) throws(JSONParseError) -> JSONValue {
        if let offset = UTF8Validation.firstInvalidOffset(bytes) {
            throw JSONParseError(kind: .notUTF8, offset: offset, message: "the text is not valid UTF-8")
        }
        var lexer = JSONLexer(bytes)
        lexer.bigIntegers = bigIntegers
        lexer.skipWhitespace()
        guard !lexer.isAtEnd else {
            throw JSONParseError(kind: .syntax, offset: lexer.position, message: "there is no JSON value")
        }
        let value = try lexer.parseValue(depth: 0, building: true)
        lexer.skipWhitespace()
        guard lexer.isAtEnd else { throw lexer.unexpected("the end after the JSON value") }
        return value
    }

    /// Parses strict JSON whose numbers are all integers; see `parse(_: UnsafeRawBufferPointer)`.
    public static func parse(_ bytes: some Collection<UInt8>) throws(JSONParseError) -> JSONValue {
        let result = bytes.withContiguousStorageIfAvailable { buffer in
            Result { () throws(JSONParseError) -> JSONValue in try parse(UnsafeRawBufferPointer(buffer)) }
        }
        if let result { return try result.get() }
        return try parse(Array(bytes))
    }

    /// Parses strict JSON text; see `parse(_: UnsafeRawBufferPointer)`.
    public static func parse(_ text: String) throws(JSONParseError) -> JSONValue {
        try parse(Array(text.utf8))
    }

    /// Whether `bytes` are canonical JSON: they parse, and encoding the result again
    /// gives exactly the same bytes.
    public static func isCanonical(_ bytes: some Collection<UInt8>) -> Bool {
        guard let value = try? parse(bytes) else { return false }
        return value.canonicalBytes().elementsEqual(bytes)
    }
}

/// Why a body of JSON records was refused.
public enum JSONRecordsError: Error, Sendable, Equatable {
    /// Record `limit + 1` began; nothing past the limit was parsed.
    case tooManyRecords(limit: Int)
    /// The body is not JSON (or a line of it, for NDJSON).
    case malformed(JSONParseError)
}

extension JSONValue {
    /// The records of a bulk body: a JSON array of values (or one bare object, a batch
    /// of one), or with `ndjson` one value a line, blank lines skipped. Record
    /// `maxRecords + 1` is refused as soon as it begins, before it is parsed, so the
    /// limit bounds the work and memory of a hostile body (interface.md section 4).
    public static func records(
        _ bytes: UnsafeRawBufferPointer, ndjson: Bool, maxRecords: Int
    ) throws(JSONRecordsError) -> [JSONValue] {
        var records: [JSONValue] = []
        func begin() throws(JSONRecordsError) {
            guard records.count < maxRecords else { throw .tooManyRecords(limit: maxRecords) }
        }
        do {
            if ndjson {
                var lineStart = 0
                while lineStart < bytes.count {
                    let lineEnd = bytes[lineStart...].firstIndex(of: 0x0A) ?? bytes.count
                    let line = UnsafeRawBufferPointer(rebasing: bytes[lineStart..<lineEnd])
                    if !line.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }) {
                        try begin()
                        records.append(try parse(line))
                    }
                    lineStart = lineEnd + 1
                }
                return records
            }
            if let offset = UTF8Validation.firstInvalidOffset(bytes) {
                throw JSONParseError(kind: .notUTF8, offset: offset, message: "the text is not valid UTF-8")
            }
            var lexer = JSONLexer(bytes)
            lexer.skipWhitespace()
            guard lexer.consume(UInt8(ascii: "[")) else { return [try parse(bytes)] }
            lexer.skipWhitespace()
            var more = !lexer.consume(UInt8(ascii: "]"))
            while more {
                try begin()
                records.append(try lexer.parseValue(depth: 1, building: true))
                lexer.skipWhitespace()
                if lexer.consume(UInt8(ascii: ",")) {
                    lexer.skipWhitespace()
                } else if lexer.consume(UInt8(ascii: "]")) {
                    more = false
                } else {
                    throw lexer.unexpected("',' or ']' after record \(records.count - 1)")
                }
            }
            lexer.skipWhitespace()
            guard lexer.isAtEnd else { throw lexer.unexpected("the end of the body after the records") }
            return records
        } catch let error as JSONRecordsError {
            throw error
        } catch let error as JSONParseError {
            throw .malformed(error)
        } catch {
            preconditionFailure("unexpected error \(error)")
        }
    }
}
