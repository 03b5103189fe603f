/// Parses a Green Button (NAESB ESPI) feed, the Atom XML a utility's "Download My
/// Data" gives, into the readings of one meter, with an error for every bad one.
/// docs/green-button.md says the same for users.
///
/// - The body is UTF-8 XML (a leading byte order mark is skipped); namespaces are
///   resolved from the declarations in scope, so any prefix, or the default namespace,
///   may stand for Atom (`http://www.w3.org/2005/Atom`) or ESPI (`http://naesb.org/espi`).
///   An element of the right local name in another namespace is not read.
/// - The root is an Atom `feed` (or a single Atom `entry`). Each `entry/content` holds
///   one resource: a `UsagePoint`, a `MeterReading`, a `ReadingType`, or one or more
///   `IntervalBlock`s. Other elements are skipped (but must be well-formed).
/// - Entries may come in any order. An IntervalBlock belongs to the MeterReading whose
///   `self` href is its `self` or `up` href or a path prefix of one (`.../MeterReading/1`
///   of `.../MeterReading/1/IntervalBlock/3`); a MeterReading names its ReadingType with
///   a `related` link, matched to the ReadingType's `self` link by their last
///   `ReadingType/<id>` segments. A link that is missing or names nothing in the feed
///   falls back to the feed's only MeterReading, then its only ReadingType, when it
///   has exactly one; otherwise each reading of the block is a record error.
/// - A ReadingType must say `uom` 72 (Wh), `accumulationBehaviour` 4 (interval data)
///   and `flowDirection` 1 (import) or 19 (export); `powerOfTenMultiplier` (default 0,
///   from -12 to 12) scales `value`, which must come out a whole number of Wh in
///   `ReadingParser.energyRange`. Anything else makes each of its readings a record
///   error naming the ReadingType field.
/// - An `IntervalReading` gives `timePeriod/start` (Unix seconds, `ReadingParser.startRange`),
///   `timePeriod/duration` (seconds, `ReadingParser.durationRange`), `value` (a
///   non-negative integer) and any number of `ReadingQuality/quality` codes, mapped by
///   `GreenButtonParser.quality(ofCode:)`. Import and export readings of one start become
///   one `Reading`; the same start twice in one direction, or with two durations, is a
///   record error.
/// - Records come out by start. A record's `index` is its position in that order (one
///   per start; IntervalReadings without a readable start follow, one each, in feed
///   order); every message says which IntervalReading of which IntervalBlock (1-based,
///   in feed order) and where (line and column).
/// - The whole body is refused (`BodyError`) when it is not UTF-8, not well-formed,
///   has a DTD, nests deeper than 64 elements, uses an unknown entity, holds more than
///   one UsagePoint, holds no IntervalReading (`.empty`), or holds more than
///   `maxRecords` IntervalReading elements (`.tooManyRecords`, thrown as the one past
///   the limit starts; an import and an export reading of one interval count as two).
///   `.malformed` gives the line and column and, as `index`, how many IntervalReadings
///   came before.
public enum GreenButtonParser {
    /// Parses a feed; throws `BodyError` when the body as a whole cannot be read.
    public static func parse(
        _ body: UnsafeRawBufferPointer, target: GreenButtonTarget, maxRecords: Int
    ) throws(BodyError) -> ParsedBatch<Reading> {
        if let offset = UTF8Validation.firstInvalidOffset(body) { throw .notUTF8(offset: offset) }
        let hasByteOrderMark = body.count >= 3 && body[0] == 0xEF && body[1] == 0xBB && body[2] == 0xBF
        let start = hasByteOrderMark ? 3 : 0
        guard (start..<body.count).contains(where: { !XMLScanner.isSpace(body[$0]) }) else { throw .empty }
        var feed = FeedReader(body, from: start, maxRecords: maxRecords)
        try feed.read()
        let lines = LineIndex(body)
        let blockTypes = FeedLinker.link(feed, lines: lines)
        return FeedRecords(feed: feed, blockTypes: blockTypes, lines: lines).batch(for: target)
    }

    /// Parses a feed; throws `BodyError` when the body as a whole cannot be read.
    public static func parse(
        _ body: [UInt8], target: GreenButtonTarget, maxRecords: Int
    ) throws(BodyError) -> ParsedBatch<Reading> {
        try body.withUnsafeBytes { bytes in
            Result { () throws(BodyError) in try parse(bytes, target: target, maxRecords: maxRecords) }
        }.get()
    }

    /// The quality of a reading with ESPI `ReadingQuality/quality` `code`: 0 (valid),
    /// 7 (manually edited), 14 (raw), 17 (validated), 18 (verified), 19 (revenue-quality)
    /// are metered; 8 and 9 (estimated), 11 (derived), 12 (projected) and 13 (mixed:
    /// partly estimated) are estimated; nil for 10 (questionable), 15 (normalized for
    /// weather), 16 (other) and unknown codes, which are refused.
    public static func quality(ofCode code: Int64) -> Quality? {
        switch code {
        case 0, 7, 14, 17, 18, 19: .actual
        case 8, 9, 11, 12, 13: .estimated
        default: nil
        }
    }
}
