/// Byte-level JSON scanning over a buffer, shared by the general parser
/// (`JSONValue.parse`) and the bulk record parsers.
///
/// The buffer is expected to be valid UTF-8 already (both callers check it first), so
/// string contents can be taken as they are. Offsets are absolute in the buffer.
struct JSONLexer {
    let bytes: UnsafeRawBufferPointer
    var position: Int
    let end: Int
    /// NDJSON: a line feed ends the record, so it is not whitespace.
    let newlineEndsRecord: Bool
    /// Integers outside Int64 but within Int128 are values (`.bigInt`), as the ledger
    /// writes sums over many consumers; elsewhere they are refused.
    var bigIntegers = false

    init(_ bytes: UnsafeRawBufferPointer, from position: Int = 0, newlineEndsRecord: Bool = false) {
        self.bytes = bytes
        self.position = position
        self.end = bytes.count
        self.newlineEndsRecord = newlineEndsRecord
    }

    /// Whether the whole buffer has been read.
    @inline(__always) var isAtEnd: Bool { position >= end }

    /// The byte at the position, or 0 at the end (0 starts no JSON token either way).
    @inline(__always) var peek: UInt8 { position < end ? bytes[position] : 0 }

    @inline(__always)
    mutating func skipWhitespace() {
        while position < end {
            switch bytes[position] {
            case 0x20, 0x09, 0x0D: position &+= 1
            case 0x0A where !newlineEndsRecord: position &+= 1
            default: return
            }
        }
    }

    /// Consumes `byte` if it is next.
    @inline(__always)
    mutating func consume(_ byte: UInt8) -> Bool {
        if position < end && bytes[position] == byte {
            position &+= 1
            return true
        }
        return false
    }

    // MARK: Errors

    func error(_ kind: JSONParseError.Kind = .syntax, _ message: String, at offset: Int) -> JSONParseError {
        JSONParseError(kind: kind, offset: offset, message: message)
    }

    /// "expected X, found Y" at the position.
    func unexpected(_ expectation: String) -> JSONParseError {
        error(.syntax, "expected \(expectation), found \(describeByte(at: position))", at: position)
    }

    /// A byte as a user would name it in a message.
    func describeByte(at offset: Int) -> String {
        guard offset < end else { return "the end of the body" }
        let b = bytes[offset]
        switch b {
        case 0x0A: return newlineEndsRecord ? "the end of the line" : "a line break"
        case 0x20...0x7E: return "'\(Character(Unicode.Scalar(b)))'"
        case 0x00..<0x20, 0x7F: return "control character U+00\(MessageText.hex(b))"
        default:
            // Valid UTF-8 (checked before lexing): show the whole character.
            let length = b >= 0xF0 ? 4 : b >= 0xE0 ? 3 : 2
            let upper = min(offset + length, end)
            return "'\(String(decoding: UnsafeRawBufferPointer(rebasing: bytes[offset..<upper]), as: UTF8.self))'"
        }
    }

    // MARK: Strings

    /// A string token: its content between the quotes, and whether it has escapes.
    struct StringToken {
        var content: Range<Int>
        var hasEscapes: Bool
    }

    /// Scans a string starting at the opening quote; checks every escape (surrogate
    /// pairs included) so that `decode` cannot fail later.
    @inline(__always)
    mutating func scanString() throws(JSONParseError) -> StringToken {
        let open = position
        var i = open &+ 1
        var hasEscapes = false
        while true {
            // Eight bytes at a time while none is '"', '\' or a control character.
            // Eight bytes at a time; a word with a hit says where its first hit is.
            while i &+ 8 <= end {
                let hits = SWAR.quoteBackslashOrControl(bytes.loadUnaligned(fromByteOffset: i, as: UInt64.self))
                if hits != 0 {
                    i &+= hits.trailingZeroBitCount &>> 3
                    break
                }
                i &+= 8
            }
            if i &+ 8 > end {
                while i < end {
                    let b = bytes[i]
                    if b == JSONText.quote || b == JSONText.backslash || b < 0x20 { break }
                    i &+= 1
                }
            }
            guard i < end else {
                throw error(.syntax, "the string that starts here is not closed (missing '\"')", at: open)
            }
            let b = bytes[i]
            if b == JSONText.quote {
                position = i &+ 1
                return StringToken(content: (open &+ 1)..<i, hasEscapes: hasEscapes)
            }
            if b == JSONText.backslash {
                hasEscapes = true
                i = try scanEscape(at: i)
            } else {
                if b == 0x0A {
                    throw error(.syntax, "the line ends inside a string (missing '\"')", at: i)
                }
                throw error(.syntax, "control character U+00\(MessageText.hex(b)) inside a string must be escaped", at: i)
            }
        }
    }

    /// Checks the escape at `i` (a backslash) and returns the offset after it.
    private func scanEscape(at i: Int) throws(JSONParseError) -> Int {
        guard i + 1 < end else { throw error(.syntax, "the string ends inside an escape", at: i) }
        switch bytes[i + 1] {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"),
            UInt8(ascii: "f"), UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
            return i + 2
        case UInt8(ascii: "u"):
            guard let unit = hex4(at: i + 2) else {
                throw error(.syntax, "\\u must be followed by four hex digits", at: i)
            }
            switch unit {
            case 0xD800...0xDBFF:
                guard i + 7 < end, bytes[i + 6] == JSONText.backslash, bytes[i + 7] == UInt8(ascii: "u"),
                    let low = hex4(at: i + 8), (0xDC00...0xDFFF).contains(low)
                else {
                    throw error(.syntax, "\\u escape of a high surrogate without its low surrogate", at: i)
                }
                return i + 12
            case 0xDC00...0xDFFF:
                throw error(.syntax, "\\u escape of a low surrogate without its high surrogate", at: i)
            default:
                return i + 6
            }
        default:
            throw error(.syntax, "invalid escape \\\(describeByte(at: i + 1)) (allowed: \\\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX)", at: i)
        }
    }

    /// The four hex digits at `offset` as a UTF-16 code unit.
    private func hex4(at offset: Int) -> UInt32? {
        guard offset + 4 <= end else { return nil }
        var value: UInt32 = 0
        for k in 0..<4 {
            let b = bytes[offset + k]
            let digit: UInt8
            switch b {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = b - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = b - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = b - UInt8(ascii: "A") + 10
            default: return nil
            }
            value = value << 4 | UInt32(digit)
        }
        return value
    }

    /// The UTF-8 of a string token's content with its escapes resolved.
    func decode(_ token: StringToken) -> [UInt8] {
        let content = UnsafeRawBufferPointer(rebasing: bytes[token.content])
        guard token.hasEscapes else { return Array(content) }
        var out: [UInt8] = []
        out.reserveCapacity(token.content.count)
        var i = token.content.lowerBound
        while i < token.content.upperBound {
            let b = bytes[i]
            guard b == JSONText.backslash else {
                out.append(b)
                i += 1
                continue
            }
            let e = bytes[i + 1]
            i += 2
            switch e {
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0C)
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "u"):
                // scanString checked the digits and the pairing.
                var scalar = hex4(at: i) ?? 0xFFFD
                i += 4
                if (0xD800...0xDBFF).contains(scalar) {
                    let low = hex4(at: i + 2) ?? 0xDC00
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                    i += 6
                }
                UTF8.encode(Unicode.Scalar(scalar) ?? "\u{FFFD}") { out.append($0) }
            default: out.append(e)  // '"', '\' and '/' stand for themselves
            }
        }
        return out
    }

    /// A string token's content as a `String`.
    func string(_ token: StringToken) -> String {
        if token.hasEscapes { return String(decoding: decode(token), as: UTF8.self) }
        return String(decoding: UnsafeRawBufferPointer(rebasing: bytes[token.content]), as: UTF8.self)
    }

    // MARK: Numbers and literals

    /// Whether `b` can start a number token.
    @inline(__always)
    static func startsNumber(_ b: UInt8) -> Bool {
        IntegerText.isDigit(b) || b == UInt8(ascii: "-") || b == UInt8(ascii: "+") || b == UInt8(ascii: ".")
    }

    /// Scans a number-like token: everything up to the next delimiter, so that `12.5`,
    /// `012` or `1e3` arrive whole and can be named in a message. `IntegerText` says
    /// what the token is.
    @inline(__always)
    mutating func scanNumberToken() -> Range<Int> {
        let start = position
        var i = position
        while i < end {
            let b = bytes[i]
            let isTokenByte =
                IntegerText.isDigit(b) || (b | 0x20) &- UInt8(ascii: "a") < 26
                || b == UInt8(ascii: ".") || b == UInt8(ascii: "-") || b == UInt8(ascii: "+") || b == UInt8(ascii: "_")
            if !isTokenByte { break }
            i &+= 1
        }
        position = i
        return start..<i
    }

    /// Consumes `true`, `false` or `null`.
    mutating func scanLiteral() throws(JSONParseError) -> JSONValue {
        for (text, value) in [("true", JSONValue.bool(true)), ("false", .bool(false)), ("null", .null)] {
            let count = text.utf8.count
            if position + count <= end,
                UnsafeRawBufferPointer(rebasing: bytes[position..<(position + count)]).elementsEqual(text.utf8)
            {
                position += count
                return value
            }
        }
        throw unexpected("a value")
    }

    // MARK: Values

    /// Parses one value at the position. With `building` false it only checks the
    /// syntax (numbers are not judged, duplicate keys not looked for) and returns `.null`:
    /// the bulk parsers skip a misplaced array or object this way.
    mutating func parseValue(depth: Int, building: Bool) throws(JSONParseError) -> JSONValue {
        switch peek {
        case JSONText.quote:
            let token = try scanString()
            return building ? .string(string(token)) : .null
        case UInt8(ascii: "{"):
            return try parseObject(depth: depth, building: building)
        case UInt8(ascii: "["):
            return try parseArray(depth: depth, building: building)
        case UInt8(ascii: "t"), UInt8(ascii: "f"), UInt8(ascii: "n"):
            return try scanLiteral()
        case let b where JSONLexer.startsNumber(b):
            let start = position
            let token = scanNumberToken()
            guard building else { return .null }
            return try integer(token, at: start)
        default:
            throw unexpected("a value")
        }
    }

    private mutating func parseObject(depth: Int, building: Bool) throws(JSONParseError) -> JSONValue {
        guard depth < JSONValue.maximumDepth else {
            throw error(.tooDeep, "arrays and objects are nested more than \(JSONValue.maximumDepth) deep", at: position)
        }
        position += 1
        skipWhitespace()
        var members: [String: JSONValue] = [:]
        if consume(UInt8(ascii: "}")) { return building ? .object(members) : .null }
        while true {
            guard peek == JSONText.quote else { throw unexpected("a key in double quotes") }
            let keyOffset = position
            let keyToken = try scanString()
            skipWhitespace()
            guard consume(UInt8(ascii: ":")) else { throw unexpected("':' after the key") }
            skipWhitespace()
            let value = try parseValue(depth: depth + 1, building: building)
            if building {
                let key = string(keyToken)
                if members.updateValue(value, forKey: key) != nil {
                    throw error(.duplicateKey, "the key \(MessageText.quoted(key)) appears twice in one object", at: keyOffset)
                }
            }
            skipWhitespace()
            if consume(UInt8(ascii: ",")) {
                skipWhitespace()
                continue
            }
            if consume(UInt8(ascii: "}")) { return building ? .object(members) : .null }
            throw unexpected("',' or '}'")
        }
    }

    private mutating func parseArray(depth: Int, building: Bool) throws(JSONParseError) -> JSONValue {
        guard depth < JSONValue.maximumDepth else {
            throw error(.tooDeep, "arrays and objects are nested more than \(JSONValue.maximumDepth) deep", at: position)
        }
        position += 1
        skipWhitespace()
        var elements: [JSONValue] = []
        if consume(UInt8(ascii: "]")) { return building ? .array(elements) : .null }
        while true {
            let element = try parseValue(depth: depth + 1, building: building)
            if building { elements.append(element) }
            skipWhitespace()
            if consume(UInt8(ascii: ",")) {
                skipWhitespace()
                continue
            }
            if consume(UInt8(ascii: "]")) { return building ? .array(elements) : .null }
            throw unexpected("',' or ']'")
        }
    }

    /// A number token judged strictly as a canonical-JSON integer.
    private func integer(_ token: Range<Int>, at offset: Int) throws(JSONParseError) -> JSONValue {
        let text = UnsafeRawBufferPointer(rebasing: bytes[token])
        let shown = MessageText.excerpt(text)
        switch IntegerText.parse(text) {
        case .value(let v): return .int(v)
        case .outOfRange where bigIntegers:
            guard let value = Int128(String(decoding: text, as: UTF8.self)) else {
                throw error(.numberOutOfRange, "\(shown) is outside the 128-bit integer range", at: offset)
            }
            return .bigInt(value)
        case .fraction, .exponent:
            throw error(.nonInteger, "\(shown) is not an integer: canonical JSON has no fractions or exponents", at: offset)
        case .outOfRange:
            throw error(.numberOutOfRange, "\(shown) is outside the 64-bit integer range", at: offset)
        case .leadingZero:
            throw error(.syntax, "\(shown) is not a JSON number: leading zeros are not allowed", at: offset)
        case .plusSign:
            throw error(.syntax, "\(shown) is not a JSON number: '+' is not allowed", at: offset)
        case .notANumber:
            throw error(.syntax, "\(shown) is not a JSON value", at: offset)
        }
    }
}

/// Word-at-a-time byte tests (the classic "has a byte less than n" bit tricks).
enum SWAR {
    private static let ones: UInt64 = 0x0101_0101_0101_0101
    private static let highs: UInt64 = 0x8080_8080_8080_8080

    /// Whether any byte of `word` is `"`, `\` or below 0x20.
    @inline(__always)
    static func hasQuoteBackslashOrControl(_ word: UInt64) -> Bool {
        quoteBackslashOrControl(word) != 0
    }

    /// The high bit of each byte of `word` (loaded little-endian) that is `"`, `\` or
    /// below 0x20. Exact up to the first such byte (a borrow can mark bytes after it),
    /// so `trailingZeroBitCount / 8` is the position of the first.
    @inline(__always)
    static func quoteBackslashOrControl(_ word: UInt64) -> UInt64 {
        let quotes = word ^ (ones &* 0x22)
        let backslashes = word ^ (ones &* 0x5C)
        let zeroQuote = (quotes &- ones) & ~quotes
        let zeroBackslash = (backslashes &- ones) & ~backslashes
        let control = (word &- ones &* 0x20) & ~word
        return (zeroQuote | zeroBackslash | control) & highs
    }

    /// The high bit of each byte of `word` that may not be in a name: below 0x20, DEL,
    /// `/` (with `slash`), or non-ASCII (checked byte by byte for C1 controls).
    @inline(__always)
    static func nameSuspects(_ word: UInt64, slash: Bool) -> UInt64 {
        let control = (word &- ones &* 0x20) & ~word
        let del = word ^ (ones &* 0x7F)
        let slashes = word ^ (ones &* 0x2F)
        let zeroDel = (del &- ones) & ~del
        let zeroSlash = slash ? (slashes &- ones) & ~slashes : 0
        return (control | zeroDel | zeroSlash | word) & highs
    }

    /// Whether any byte of `word` is `byte`.
    @inline(__always)
    static func has(_ byte: UInt8, in word: UInt64) -> Bool {
        let x = word ^ (ones &* UInt64(byte))
        return (x &- ones) & ~x & highs != 0
    }
}
