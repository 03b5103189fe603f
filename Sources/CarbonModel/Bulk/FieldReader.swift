/// One field's value as it was written in the body, before any rule is applied.
/// Ranges are byte offsets in the body.
enum RawValue {
    /// A JSON string's content between the quotes.
    case string(Range<Int>, escaped: Bool)
    /// A JSON number token, as written (`12`, `12.5`, `012`).
    case number(Range<Int>)
    case bool(Bool)
    case null
    case array
    case object
    /// A CSV cell's text (between the quotes when quoted; `doubledQuotes` when it holds `""`).
    case cell(Range<Int>, doubledQuotes: Bool)
}

/// Applies the field rules to raw values and collects an error for each value that
/// breaks one, against the record being read. One set of rules serves JSON, NDJSON
/// and CSV, so every format gets the same limits and the same messages.
struct FieldReader {
    let body: UnsafeRawBufferPointer
    /// The index of the record being read.
    private(set) var index = 0
    /// Whether the record being read has an error.
    private(set) var recordFailed = false
    var errors: [RecordError] = []

    init(body: UnsafeRawBufferPointer) {
        self.body = body
    }

    /// Starts reading record `index`.
    mutating func begin(_ index: Int) {
        self.index = index
        recordFailed = false
    }

    /// Records that `field` of the current record is bad.
    mutating func reject(_ field: String, _ message: String) {
        recordFailed = true
        errors.append(RecordError(index: index, field: field, message: message))
    }

    // MARK: Text

    /// Calls `use` with the UTF-8 text of a string or cell (escapes resolved); nil for
    /// any other value.
    @inline(__always)
    func withText<T>(_ value: RawValue, _ use: (UnsafeRawBufferPointer) -> T) -> T? {
        switch value {
        case .string(let range, let escaped):
            if !escaped { return use(UnsafeRawBufferPointer(rebasing: body[range])) }
            let lexer = JSONLexer(body)
            return lexer.decode(.init(content: range, hasEscapes: true)).withUnsafeBytes(use)
        case .cell(let range, let doubledQuotes):
            if !doubledQuotes { return use(UnsafeRawBufferPointer(rebasing: body[range])) }
            return CSVReader.undoubleQuotes(UnsafeRawBufferPointer(rebasing: body[range])).withUnsafeBytes(use)
        default:
            return nil
        }
    }

    /// A value as a message shows it after "got".
    func shown(_ value: RawValue) -> String {
        switch value {
        case .string, .cell: withText(value) { MessageText.quoted($0) } ?? ""
        case .number(let range): MessageText.excerpt(UnsafeRawBufferPointer(rebasing: body[range]))
        case .bool(let b): b ? "true" : "false"
        case .null: "null"
        case .array: "an array"
        case .object: "an object"
        }
    }

    // MARK: Rules

    /// A name that appears in URL paths (utility, meter, consumer, zone): a string of
    /// 1...128 bytes without control characters or `/`, not starting or ending with a space.
    mutating func name(_ value: RawValue, _ field: String) -> String? {
        let checked = withText(value) { text -> Result<String, TextProblem> in
            if let problem = FieldReader.nameProblem(text) { return .failure(problem) }
            return .success(FieldReader.string(text))
        }
        switch checked {
        case .success(let name)?: return name
        case .failure(let problem)?: reject(field, "\(field) \(problem.phrase), got \(shown(value))")
        case nil: reject(field, "\(field) must be a string, got \(shown(value))")
        }
        return nil
    }

    /// The utility's own reference (`id`): a string of 1...128 bytes without control characters.
    mutating func reference(_ value: RawValue, _ field: String) -> String? {
        let checked = withText(value) { text -> Result<String, TextProblem> in
            if let problem = FieldReader.textProblem(text) { return .failure(problem) }
            return .success(FieldReader.string(text))
        }
        switch checked {
        case .success(let text)?: return text
        case .failure(let problem)?: reject(field, "\(field) \(problem.phrase), got \(shown(value))")
        case nil: reject(field, "\(field) must be a string or null, got \(shown(value))")
        }
        return nil
    }

    /// Free text of 1...`maximumCharacters` Unicode characters without control characters
    /// (a correction's `reason`).
    mutating func text(_ value: RawValue, _ field: String, maximumCharacters: Int) -> String? {
        let checked = withText(value) { text -> Result<String, TextProblem> in
            if let problem = FieldReader.freeTextProblem(text, maximumCharacters: maximumCharacters) {
                return .failure(problem)
            }
            return .success(FieldReader.string(text))
        }
        switch checked {
        case .success(let text)?: return text
        case .failure(let problem)?: reject(field, "\(field) \(problem.phrase), got \(shown(value))")
        case nil: reject(field, "\(field) must be a string, got \(shown(value))")
        }
        return nil
    }

    /// An integer in `range`: a JSON number, or a CSV cell of digits.
    mutating func integer(_ value: RawValue, _ field: String, in range: ClosedRange<Int64>, note: String = "") -> Int64? {
        var wanted: String { "\(field) must be an integer from \(range.lowerBound) to \(range.upperBound)\(note)" }
        let parsed: IntegerText
        switch value {
        case .number(let token): parsed = IntegerText.parse(UnsafeRawBufferPointer(rebasing: body[token]))
        case .cell: parsed = withText(value) { IntegerText.parse($0) } ?? .notANumber
        case .string:
            reject(field, "\(wanted) written as a JSON number, not a string, got \(shown(value))")
            return nil
        default:
            reject(field, "\(wanted), got \(shown(value))")
            return nil
        }
        if case .value(let v) = parsed, range.contains(v) { return v }
        reject(field, "\(wanted), got \(shown(value))\(parsed.hint)")
        return nil
    }

    /// A time in `range`: Unix seconds as a JSON number, or a string (JSON) or cell (CSV)
    /// holding RFC 3339 with an offset or all-digit Unix seconds.
    mutating func time(_ value: RawValue, _ field: String, in range: Range<Int64>) -> Int64? {
        var wanted: String { "\(field) must be RFC 3339 with an offset (2026-10-01T00:00:00+08:00) or Unix seconds" }
        let seconds: Int64
        switch value {
        case .number(let token):
            let parsed = IntegerText.parse(UnsafeRawBufferPointer(rebasing: body[token]))
            guard case .value(let v) = parsed else {
                reject(field, "\(wanted), got \(shown(value))\(parsed.hint)")
                return nil
            }
            seconds = v
        case .string, .cell:
            switch withText(value, { Timestamp.check($0) }) {
            case .success(let v)?: seconds = v
            case .failure(let problem)?:
                reject(field, "\(wanted), got \(shown(value)): \(problem.reason)")
                return nil
            case nil: return nil
            }
        default:
            reject(field, "\(wanted), got \(shown(value))")
            return nil
        }
        guard range.contains(seconds) else {
            reject(
                field,
                "\(field) must be from \(Timestamp.format(range.lowerBound)) up to (not including) "
                    + "\(Timestamp.format(range.upperBound)), got \(shown(value)) (\(Timestamp.format(seconds)))")
            return nil
        }
        return seconds
    }

    /// One of the words of `keywords` (case matters).
    mutating func keyword<Value>(_ value: RawValue, _ field: String, _ keywords: Keywords<Value>) -> Value? {
        if let match = withText(value, { keywords.match($0) }), let match { return match }
        reject(field, "\(field) must be \(keywords.choices), got \(shown(value))")
        return nil
    }

    // MARK: Text checks

    /// A `String` of UTF-8 that is known to be valid. Through this initializer a short
    /// ASCII name becomes a small string with no validation pass (the common case).
    @inline(__always)
    static func string(_ text: UnsafeRawBufferPointer) -> String {
        String(unsafeUninitializedCapacity: text.count) { buffer in
            UnsafeMutableRawBufferPointer(buffer).copyMemory(from: text)
            return text.count
        }
    }

    /// The longest name or reference, in bytes.
    static var maximumTextBytes: Int { 128 }

    enum TextProblem: Error {
        case empty, tooLong(Int), tooManyCharacters(Int, limit: Int), control, slash, edgeSpace, notNFC

        var phrase: String {
            switch self {
            case .empty: "must not be empty"
            case .tooLong(let n): "must be at most \(FieldReader.maximumTextBytes) bytes (it has \(n))"
            case .tooManyCharacters(let n, let limit): "must be at most \(limit) characters (it has \(n))"
            case .control: "must not contain control characters"
            case .slash: "must not contain '/' (it is used in URL paths)"
            case .edgeSpace: "must not start or end with a space"
            case .notNFC: "must be in Unicode normalization form C (NFC), so that one name has one spelling"
            }
        }
    }

    /// Why `text` cannot be a name, or nil.
    @inline(__always)
    static func nameProblem(_ text: UnsafeRawBufferPointer) -> TextProblem? {
        if let problem = textProblem(text, refusingSlash: true) { return problem }
        if text[0] == 0x20 || text[text.count - 1] == 0x20 { return .edgeSpace }
        // Names are keys: canonically equivalent spellings (NFC "é", NFD "e" + U+0301) would
        // be one key to Swift and two to SQLite and the ledger's leaf bytes. Only NFC is taken.
        if text.contains(where: { $0 >= 0x80 }) && !UnicodeText.isNFC(text) { return .notNFC }
        return nil
    }

    /// Why `text` cannot be free text of 1...`maximumCharacters` Unicode characters
    /// without control characters, or nil.
    static func freeTextProblem(_ text: UnsafeRawBufferPointer, maximumCharacters: Int) -> TextProblem? {
        let characters = text.reduce(0) { $0 + ($1 & 0xC0 == 0x80 ? 0 : 1) }
        guard characters <= maximumCharacters else { return .tooManyCharacters(characters, limit: maximumCharacters) }
        return textProblem(text, maximumBytes: text.count)
    }

    /// Why `text` cannot be a reference (1...128 bytes, no C0 or C1 control character,
    /// no DEL), or nil; with `refusingSlash`, `/` is refused too.
    @inline(__always)
    static func textProblem(
        _ text: UnsafeRawBufferPointer, refusingSlash: Bool = false, maximumBytes: Int = maximumTextBytes
    ) -> TextProblem? {
        let count = text.count
        if count == 0 { return .empty }
        if count > maximumBytes { return .tooLong(count) }
        var i = 0
        // Plain ASCII words pass eight bytes at a time.
        while i &+ 8 <= count
            && SWAR.nameSuspects(text.loadUnaligned(fromByteOffset: i, as: UInt64.self), slash: refusingSlash) == 0
        {
            i &+= 8
        }
        while i < count {
            let b = text[i]
            if b < 0x20 || b == 0x7F { return .control }
            if b == UInt8(ascii: "/") && refusingSlash { return .slash }
            // U+0080...U+009F are C2 80...C2 9F in UTF-8.
            if b == 0xC2 && i + 1 < count && text[i + 1] < 0xA0 { return .control }
            i += 1
        }
        return nil
    }
}

extension IntegerText {
    /// What to add to a message about this text, when the range alone does not say it.
    var hint: String {
        switch self {
        case .value, .outOfRange, .notANumber: ""
        case .fraction: " (no fraction)"
        case .exponent: " (write it without an exponent)"
        case .leadingZero: " (no leading zeros)"
        case .plusSign: " (no '+' sign)"
        }
    }
}
