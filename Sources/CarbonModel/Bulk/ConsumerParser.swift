/// Parses the body of `POST /v1/consumers` (JSON array, NDJSON or CSV) into consumers,
/// with an error for every bad record.
///
/// Field rules (the same in every format):
///
/// | field | rule |
/// |---|---|
/// | `consumer` (the id), `utility`, `zone` | required; a string of 1 to 128 bytes, no control characters, no `/`, not starting or ending with a space |
/// | `class` | required; `residential`, `commercial`, `industrial` or `public` (lower case) |
/// | `normalizer` | optional, default 1; integer 1 to 1000000000 |
///
/// Integers, `null`, unknown and repeated fields, record indexes and whole-body
/// errors follow the rules written at `ReadingParser`.
public enum ConsumerParser {
    /// Allowed `normalizer` values.
    public static var normalizerRange: ClosedRange<Int64> { 1...1_000_000_000 }

    /// Parses a body of `format`; throws `BodyError` when the body as a whole cannot be read.
    public static func parse(
        _ body: UnsafeRawBufferPointer, format: BodyFormat, maxRecords: Int
    ) throws(BodyError) -> ParsedBatch<Consumer> {
        try BulkReader<Consumer>.parse(body, format: format, maxRecords: maxRecords)
    }

    /// Parses a body of `format`; throws `BodyError` when the body as a whole cannot be read.
    public static func parse(_ body: [UInt8], format: BodyFormat, maxRecords: Int) throws(BodyError) -> ParsedBatch<Consumer> {
        try body.withUnsafeBytes { bytes in
            Result { () throws(BodyError) in try parse(bytes, format: format, maxRecords: maxRecords) }
        }.get()
    }
}

/// The fields of a consumer, named as in JSON and CSV.
enum ConsumerField: String, RecordField {
    case consumer, utility, zone
    case consumerClass = "class"
    case normalizer

    var isRequired: Bool { self != .normalizer }
}

/// A consumer is its own draft (see `Reading`'s conformance).
extension Consumer: RecordDraft {
    static let fields = FieldTable<ConsumerField>()
    static let classes = Keywords<ConsumerClass>()

    init() {
        self.init(id: "", utility: "", zone: "", consumerClass: .residential)
    }

    mutating func set(_ field: ConsumerField, _ value: RawValue, _ reader: inout FieldReader) {
        let name = field.rawValue
        switch field {
        case .consumer: if let v = reader.name(value, name) { id = v }
        case .utility: if let v = reader.name(value, name) { utility = v }
        case .zone: if let v = reader.name(value, name) { zone = v }
        case .consumerClass: if let v = reader.keyword(value, name, Self.classes) { consumerClass = v }
        case .normalizer: if let v = reader.integer(value, name, in: ConsumerParser.normalizerRange) { normalizer = v }
        }
    }

    consuming func record() -> Consumer { self }
}
