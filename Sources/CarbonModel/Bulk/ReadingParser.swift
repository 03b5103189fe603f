/// Parses the body of `POST /v1/readings` (JSON array, NDJSON or CSV) into readings,
/// with an error for every bad record.
///
/// Field rules (the same in every format; JSON/CSV field names):
///
/// | field | rule |
/// |---|---|
/// | `utility`, `meter`, `consumer` | required; a string of 1 to 128 bytes (UTF-8), no control characters (U+0000...U+001F, U+007F...U+009F), no `/` (they appear in URL paths), not starting or ending with a space |
/// | `start` | required; Unix seconds (JSON integer, or an all-digit string or cell), or RFC 3339 with an offset (`2026-10-01T00:00:00+08:00`, `...Z`; `t`, `z` and a space for `T` accepted; a fraction of a second only if all zeros; no leap second 60); from 2000-01-01T00:00:00Z (946684800) up to but not including 2100-01-01T00:00:00Z (4102444800) |
/// | `duration_s` | required; integer 1 to 2678400 (31 days) |
/// | `import_wh` | required; integer 0 to 1000000000000 |
/// | `export_wh` | optional, default 0; integer 0 to 1000000000000 |
/// | `quality` | optional, default `actual`; `actual` or `estimated` (lower case) |
/// | `id` | optional, default none (null in the leaf); a string of 1 to 128 bytes without control characters (`/` and spaces allowed) |
///
/// - Integers: in JSON a number, not a string (`"12"` is refused); in CSV a cell of
///   digits. Refused with a message: fractions (`12.5`, even `12.0`), exponents (`1e3`),
///   leading zeros (`012`), a `+` sign, values outside Int64 or the field's range.
/// - In JSON, `null` for an optional field means absent; for a required one it is an error.
///   In CSV an empty cell (also `""`) is an absent field.
/// - An unknown field (`importWh`) is an error naming it, with a suggestion for near
///   misses; a field given twice in one object is an error. In CSV, an unknown,
///   repeated or unnamed column, or a missing required column, refuses the whole body
///   (`BodyError.badHeader`).
/// - `index` of a `RecordError` is the record's 0-based position: in a JSON array the
///   element; in NDJSON the non-blank line (blank lines are not counted; a line that is
///   not JSON is one bad record and reading goes on); in CSV the row after the header
///   (entirely empty lines are not counted).
/// - JSON: an array of objects; a single bare object is taken as a batch of one. An
///   element that is not an object is a bad record. `[]` is a valid empty batch.
/// - A body whose structure is broken (JSON array syntax, CSV quoting), that is not
///   UTF-8, that has no records at all (empty or whitespace; CSV without a header), or
///   that holds more than `maxRecords` records throws `BodyError` instead; the limit is
///   checked as each record starts, so nothing past record `maxRecords` is built. A
///   leading UTF-8 byte order mark is ignored.
/// - Messages show the offending value quoted like JSON and cut at 64 bytes.
public enum ReadingParser {
    /// Allowed `start` values: [2000-01-01T00:00:00Z, 2100-01-01T00:00:00Z).
    public static var startRange: Range<Int64> { 946_684_800..<4_102_444_800 }
    /// Allowed `duration_s` values: one second to 31 days.
    public static var durationRange: ClosedRange<Int64> { 1...2_678_400 }
    /// Allowed `import_wh` and `export_wh` values: up to 1 TWh.
    public static var energyRange: ClosedRange<Int64> { 0...1_000_000_000_000 }
    /// The longest `utility`, `meter`, `consumer` or `id`, in UTF-8 bytes.
    public static var maximumTextBytes: Int { FieldReader.maximumTextBytes }

    /// Parses a body of `format`; throws `BodyError` when the body as a whole cannot be read.
    public static func parse(
        _ body: UnsafeRawBufferPointer, format: BodyFormat, maxRecords: Int
    ) throws(BodyError) -> ParsedBatch<Reading> {
        try BulkReader<Reading>.parse(body, format: format, maxRecords: maxRecords)
    }

    /// Parses a body of `format`; throws `BodyError` when the body as a whole cannot be read.
    public static func parse(_ body: [UInt8], format: BodyFormat, maxRecords: Int) throws(BodyError) -> ParsedBatch<Reading> {
        try body.withUnsafeBytes { bytes in
            Result { () throws(BodyError) in try parse(bytes, format: format, maxRecords: maxRecords) }
        }.get()
    }
}

/// The fields of a reading, named as in JSON and CSV.
enum ReadingField: String, RecordField {
    case utility, meter, consumer, start
    case durationS = "duration_s"
    case importWh = "import_wh"
    case exportWh = "export_wh"
    case quality, id

    var isRequired: Bool {
        switch self {
        case .exportWh, .quality, .id: false
        default: true
        }
    }
}

/// A reading is its own draft: it starts from placeholders, each good field is written
/// straight into it, and the finished reading is moved into the batch without copying
/// its strings. The placeholders never leak: a record is kept only when every required
/// field was set.
extension Reading: RecordDraft {
    static let fields = FieldTable<ReadingField>()
    static let qualities = Keywords<Quality>()

    init() {
        self.init(utility: "", meter: "", consumer: "", start: 0, durationS: 0, importWh: 0)
    }

    mutating func set(_ field: ReadingField, _ value: RawValue, _ reader: inout FieldReader) {
        let name = field.rawValue
        switch field {
        case .utility: if let v = reader.name(value, name) { utility = v }
        case .meter: if let v = reader.name(value, name) { meter = v }
        case .consumer: if let v = reader.name(value, name) { consumer = v }
        case .start: if let v = reader.time(value, name, in: ReadingParser.startRange) { start = v }
        case .durationS:
            if let v = reader.integer(value, name, in: ReadingParser.durationRange, note: " (31 days)") { durationS = v }
        case .importWh: if let v = reader.integer(value, name, in: ReadingParser.energyRange) { importWh = v }
        case .exportWh: if let v = reader.integer(value, name, in: ReadingParser.energyRange) { exportWh = v }
        case .quality: if let v = reader.keyword(value, name, Self.qualities) { quality = v }
        case .id: if let v = reader.reference(value, name) { id = v }
        }
    }

    consuming func record() -> Reading { self }
}
