/// Parses the body of `POST /v1/readings?correct=true` (JSON array, NDJSON or CSV):
/// readings with the fields and rules of `ReadingParser`, each with one more,
/// required field:
///
/// | field | rule |
/// |---|---|
/// | `reason` | required; a string of 1 to 200 characters without control characters: `estimated_to_actual`, `meter_fault`, `data_error`, or the utility's own words |
public enum CorrectionParser {
    /// The longest `reason`, in Unicode characters.
    public static var maximumReasonCharacters: Int { 200 }

    /// What is wrong with `reason` under the rule of the `reason` field
    /// (`reason must ...`), or nil: the one rule for a reason a body, a query or a
    /// restatement gives.
    public static func reasonProblem(_ reason: String) -> String? {
        var reason = reason
        return reason.withUTF8 { bytes in
            FieldReader.freeTextProblem(UnsafeRawBufferPointer(bytes), maximumCharacters: maximumReasonCharacters)
        }.map { "reason \($0.phrase)" }
    }

    /// Parses a body of `format`; throws `BodyError` when the body as a whole cannot be read.
    public static func parse(
        _ body: UnsafeRawBufferPointer, format: BodyFormat, maxRecords: Int
    ) throws(BodyError) -> ParsedBatch<ReadingCorrection> {
        try BulkReader<CorrectionDraft>.parse(body, format: format, maxRecords: maxRecords)
    }

    /// Parses a body of `format`; throws `BodyError` when the body as a whole cannot be read.
    public static func parse(
        _ body: [UInt8], format: BodyFormat, maxRecords: Int
    ) throws(BodyError) -> ParsedBatch<ReadingCorrection> {
        try body.withUnsafeBytes { bytes in
            Result { () throws(BodyError) in try parse(bytes, format: format, maxRecords: maxRecords) }
        }.get()
    }
}

/// The fields of a correction: a reading's, and `reason`.
enum CorrectionField: String, RecordField {
    case utility, meter, consumer, start
    case durationS = "duration_s"
    case importWh = "import_wh"
    case exportWh = "export_wh"
    case quality, id, reason

    var isRequired: Bool { readingField?.isRequired ?? true }

    /// The reading field of the same name; nil for `reason`. (A switch: looking the name
    /// up would compare strings for every field of every record.)
    var readingField: ReadingField? {
        switch self {
        case .utility: .utility
        case .meter: .meter
        case .consumer: .consumer
        case .start: .start
        case .durationS: .durationS
        case .importWh: .importWh
        case .exportWh: .exportWh
        case .quality: .quality
        case .id: .id
        case .reason: nil
        }
    }
}

/// A correction being read: the reading's fields go to a reading draft, so both
/// parsers apply one set of rules.
struct CorrectionDraft: RecordDraft {
    static let fields = FieldTable<CorrectionField>()

    var reading = Reading()
    var reason = ""

    mutating func set(_ field: CorrectionField, _ value: RawValue, _ reader: inout FieldReader) {
        guard let readingField = field.readingField else {
            if let v = reader.text(value, field.rawValue, maximumCharacters: CorrectionParser.maximumReasonCharacters) {
                reason = v
            }
            return
        }
        reading.set(readingField, value, &reader)
    }

    consuming func record() -> ReadingCorrection { ReadingCorrection(reading: reading, reason: reason) }
}
