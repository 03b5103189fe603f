/// Whose readings a Green Button feed holds: ESPI carries no utility, consumer or meter
/// ids, so the request names them.
public struct GreenButtonTarget: Sendable, Equatable {
    /// The utility sending the feed.
    public var utility: String
    /// The consumer the meter belongs to.
    public var consumer: String
    /// The meter whose intervals the feed holds.
    public var meter: String

    /// The target with the given names; `problems` says whether they can be used.
    public init(utility: String, consumer: String, meter: String) {
        self.utility = utility
        self.consumer = consumer
        self.meter = meter
    }

    /// What is wrong with the names, one message each, under the rules of the
    /// `utility`, `meter` and `consumer` fields of the other formats; empty when all
    /// can be used. The parser refuses every reading of a target with problems.
    public var problems: [String] { fieldProblems.map(\.message) }

    var fieldProblems: [(field: String, message: String)] {
        [("utility", utility), ("meter", meter), ("consumer", consumer)].compactMap { field, name in
            Identifier.nameProblem(name).map {
                (field, "\(field) \($0), got \(MessageText.quoted(name)) (named by the request)")
            }
        }
    }
}

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
        return FeedLinker(feed: feed, body: body).batch(for: target)
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

// MARK: - ESPI vocabulary

/// The codes of ESPI ReadingType fields that are accepted, and names for messages.
enum ESPICode {
    static let wattHours: Int64 = 72
    static let intervalData: Int64 = 4
    static let forward: Int64 = 1
    static let reverse: Int64 = 19
    /// Allowed `powerOfTenMultiplier`: ESPI's multipliers run from p (-12) to T (12).
    static let multiplierRange: ClosedRange<Int64> = -12...12

    /// `38 (W)`.
    static func unit(_ code: Int64) -> String {
        let names: [Int64: String] = [
            5: "A", 29: "V", 38: "W", 42: "m³", 61: "VA", 63: "VAr", 71: "VAh", 72: "Wh", 73: "VArh", 119: "ft³",
            169: "therm",
        ]
        return names[code].map { "\(code) (\($0))" } ?? "\(code)"
    }

    /// `1 (bulkQuantity)`.
    static func accumulation(_ code: Int64) -> String {
        let names: [Int64: String] = [
            1: "bulkQuantity", 3: "cumulative", 4: "deltaData", 6: "indicating", 9: "summation", 12: "instantaneous",
        ]
        return names[code].map { "\(code) (\($0))" } ?? "\(code)"
    }

    /// `10 (questionable)`.
    static func quality(_ code: Int64) -> String {
        let names: [Int64: String] = [
            0: "valid", 7: "manually edited", 8: "estimated using reference day",
            9: "estimated using linear interpolation", 10: "questionable", 11: "derived", 12: "projected", 13: "mixed",
            14: "raw", 15: "normalized for weather", 16: "other", 17: "validated", 18: "verified",
            19: "revenue-quality",
        ]
        return names[code].map { "\(code) (\($0))" } ?? "\(code)"
    }
}

/// The ESPI elements the reader looks at; a case's raw value is its position in `names`.
private enum ESPIElement: Int {
    case usagePoint, meterReading, readingType, intervalBlock, intervalReading, timePeriod, value, readingQuality
    case quality, start, duration, uom, powerOfTenMultiplier, flowDirection, accumulationBehaviour

    static let names = [
        "UsagePoint", "MeterReading", "ReadingType", "IntervalBlock", "IntervalReading", "timePeriod", "value",
        "ReadingQuality", "quality", "start", "duration", "uom", "powerOfTenMultiplier", "flowDirection",
        "accumulationBehaviour",
    ]
}

/// The Atom elements the reader looks at; a case's raw value is its position in `names`.
private enum AtomElement: Int {
    case feed, entry, content, link

    static let names = ["feed", "entry", "content", "link"]
}

// MARK: - Reading the feed

/// One pass over a feed: what each entry links to, its ReadingTypes, and the values of
/// its IntervalReadings, kept compactly so that `FeedLinker` can join them whatever
/// order the entries came in.
struct FeedReader {
    /// What an open element is to the reader.
    enum Role: UInt8 {
        case ignored, feed, entry, content, link
        case meterReading, readingType, intervalBlock, intervalReading, timePeriod, readingQuality
        // Elements holding one integer (from `uom` on).
        case uom, powerOfTenMultiplier, flowDirection, accumulationBehaviour, start, duration, value, quality

        var holdsNumber: Bool { rawValue >= Role.uom.rawValue }

        /// The element's local name, for messages.
        var elementName: String {
            switch self {
            case .uom: "uom"
            case .powerOfTenMultiplier: "powerOfTenMultiplier"
            case .flowDirection: "flowDirection"
            case .accumulationBehaviour: "accumulationBehaviour"
            case .start: "start"
            case .duration: "duration"
            case .value: "value"
            case .quality: "quality"
            default: ""
            }
        }
    }

    /// An Atom entry: its links and the resource its content holds.
    struct Entry {
        enum Resource { case none, usagePoint, meterReading, readingType, intervalBlocks }
        var offset: Int
        var resource = Resource.none
        /// The element of a MeterReading or ReadingType (for messages).
        var resourceOffset = 0
        /// `readingTypes` index of a ReadingType entry.
        var readingType = -1
        var selfHref: [UInt8]?
        var upHref: [UInt8]?
        var related: [[UInt8]] = []
    }

    /// One integer field of a ReadingType, as found.
    struct TypeField {
        var value: Int64?
        var offset = 0
        var problem: String?
        var seen = false
    }

    /// A ReadingType's fields, checked by `FeedLinker`.
    struct ReadingTypeFields {
        var offset: Int
        var uom = TypeField()
        var powerOfTenMultiplier = TypeField()
        var flowDirection = TypeField()
        var accumulationBehaviour = TypeField()
    }

    struct Block {
        var offset: Int
        /// The entry holding it.
        var entry: Int
        var readings: Int32 = 0
    }

    /// One IntervalReading: its numbers and where it is. Problems found while reading
    /// it are in `problems` from `firstProblem` on.
    struct Interval {
        var start: Int64 = 0
        var durationS: Int64 = 0
        var value: Int64 = 0
        var offset = 0
        var block: Int32 = 0
        /// 1-based within its block.
        var ordinal: Int32 = 0
        var firstProblem: Int32 = -1
        var hasStart = false
        var hasDuration = false
        var hasValue = false
        /// Whether `durationS` is in `ReadingParser.durationRange` (so it can be compared).
        var durationIsValid = false
        var estimated = false
    }

    /// Something wrong with one IntervalReading that no link can change.
    struct Problem {
        var interval: Int32
        var field: String
        var message: String
        var offset: Int
    }

    /// The text of an element holding a number: one range of the body when it is plain,
    /// the decoded characters otherwise.
    private struct NumberText {
        var offset = 0
        var range: Range<Int>?
        var spilled = false
        var buffer: [UInt8] = []
        var hasChildElement = false

        mutating func begin(at offset: Int) {
            self.offset = offset
            range = nil
            spilled = false
            buffer.removeAll(keepingCapacity: true)
            hasChildElement = false
        }

        mutating func add(_ text: Range<Int>, references: Bool, in body: UnsafeRawBufferPointer) {
            if !spilled && range == nil && !references {
                range = text
                return
            }
            if !spilled, let range {
                buffer.append(contentsOf: UnsafeRawBufferPointer(rebasing: body[range]))
            }
            spilled = true
            XMLScanner.decode(text, hasReferences: references, in: body, into: &buffer)
        }

        func withBytes<T>(in body: UnsafeRawBufferPointer, _ use: (UnsafeRawBufferPointer) -> T) -> T {
            if spilled { return buffer.withUnsafeBytes(use) }
            return use(
                range.map { UnsafeRawBufferPointer(rebasing: body[$0]) } ?? UnsafeRawBufferPointer(start: nil, count: 0)
            )
        }
    }

    let body: UnsafeRawBufferPointer
    private var scanner: XMLScanner
    private let maxRecords: Int
    private let espiNames = NameTable(ESPIElement.names)
    private let atomNames = NameTable(AtomElement.names)
    private var roles: [Role] = []
    private var number = NumberText()
    private var entry = -1
    private var reading = Interval()
    /// Bits of `Role.start`, `.duration`, `.value` seen in the open IntervalReading.
    private var readingFields: UInt32 = 0
    /// Bits of the fields already reported as repeated, and of `.quality` once a code
    /// was refused: one problem each, however often a body repeats them.
    private var reportedFields: UInt32 = 0

    private(set) var entries: [Entry] = []
    private(set) var readingTypes: [ReadingTypeFields] = []
    private(set) var blocks: [Block] = []
    private(set) var intervals: [Interval] = []
    private(set) var problems: [Problem] = []
    /// Where the feed's UsagePoint is, once one was seen.
    private var usagePoint: Int?

    init(_ body: UnsafeRawBufferPointer, from start: Int, maxRecords: Int) {
        self.body = body
        scanner = XMLScanner(body, from: start)
        self.maxRecords = maxRecords
        roles.reserveCapacity(16)
        // An IntervalReading takes ~150 bytes of a typical feed.
        intervals.reserveCapacity(min(max(maxRecords, 0), body.count / 128 + 1))
    }

    /// Reads the whole feed.
    mutating func read() throws(BodyError) {
        while true {
            let event: XMLScanner.Event
            do throws(XMLScanner.Failure) {
                event = try scanner.next()
            } catch {
                throw malformed(at: error.offset, error.message, wellFormed: false)
            }
            switch event {
            case .startTag: try startElement()
            case .endTag: endElement()
            case .text:
                if let role = roles.last, role.holdsNumber {
                    number.add(scanner.text, references: scanner.textHasReferences, in: body)
                }
            case .end:
                guard !intervals.isEmpty else { throw .empty }
                return
            }
        }
    }

    private func malformed(at offset: Int, _ message: String, wellFormed: Bool = true) -> BodyError {
        // Inside an IntervalReading, `intervals.count` is the index of the one being read.
        let index = intervals.count
        let place = LineIndex(body).describe(offset)
        let what = wellFormed ? "the feed cannot be read at \(place)" : "the body is not well-formed XML at \(place)"
        return .malformed(index: index, offset: offset, message: "\(what): \(message)")
    }

    // MARK: Elements

    private mutating func startElement() throws(BodyError) {
        let role = try role(under: roles.last)
        if role.holdsNumber { number.begin(at: scanner.tagOffset) }
        roles.append(role)
    }

    /// What a new element is, given its parent's role; starts what it opens.
    private mutating func role(under parent: Role?) throws(BodyError) -> Role {
        guard let parent else {
            switch atomElement() {
            case .feed: return .feed
            case .entry:
                beginEntry()
                return .entry
            default:
                throw malformed(
                    at: scanner.tagOffset,
                    "the root element must be an Atom feed (<feed xmlns=\"http://www.w3.org/2005/Atom\">), "
                        + "got <\(scanner.string(scanner.localName))>")
            }
        }
        switch parent {
        case .ignored, .link, .meterReading:
            return .ignored
        case .feed:
            guard atomElement() == .entry else { return .ignored }
            beginEntry()
            return .entry
        case .entry:
            switch atomElement() {
            case .content: return .content
            case .link:
                readLink()
                return .link
            default: return .ignored
            }
        case .content:
            return try beginResource()
        case .readingType:
            switch espiElement() {
            case .uom: return .uom
            case .powerOfTenMultiplier: return .powerOfTenMultiplier
            case .flowDirection: return .flowDirection
            case .accumulationBehaviour: return .accumulationBehaviour
            default: return .ignored
            }
        case .intervalBlock:
            guard espiElement() == .intervalReading else { return .ignored }
            try beginReading()
            return .intervalReading
        case .intervalReading:
            switch espiElement() {
            case .timePeriod: return .timePeriod
            case .value: return .value
            case .readingQuality: return .readingQuality
            default: return .ignored
            }
        case .timePeriod:
            switch espiElement() {
            case .start: return .start
            case .duration: return .duration
            default: return .ignored
            }
        case .readingQuality:
            return espiElement() == .quality ? .quality : .ignored
        case .uom, .powerOfTenMultiplier, .flowDirection, .accumulationBehaviour, .start, .duration, .value, .quality:
            number.hasChildElement = true
            return .ignored
        }
    }

    private func espiElement() -> ESPIElement? {
        guard scanner.namespace == .espi else { return nil }
        let index = espiNames.index(of: UnsafeRawBufferPointer(rebasing: body[scanner.localName]))
        return index.flatMap(ESPIElement.init(rawValue:))
    }

    private func atomElement() -> AtomElement? {
        guard scanner.namespace == .atom else { return nil }
        let index = atomNames.index(of: UnsafeRawBufferPointer(rebasing: body[scanner.localName]))
        return index.flatMap(AtomElement.init(rawValue:))
    }

    private mutating func endElement() {
        let role = roles.removeLast()
        switch role {
        case .entry: entry = -1
        case .intervalReading: finishReading()
        case .uom, .powerOfTenMultiplier, .flowDirection, .accumulationBehaviour: setTypeField(role)
        case .start, .duration, .value, .quality: setReadingField(role)
        default: break
        }
    }

    // MARK: Entries and resources

    private mutating func beginEntry() {
        entry = entries.count
        entries.append(Entry(offset: scanner.tagOffset))
    }

    /// Keeps the first `self` and `up` links of an entry and every `related` one.
    private mutating func readLink() {
        guard entry >= 0 else { return }
        var rel: [UInt8] = Array("alternate".utf8)
        var href: [UInt8]?
        for attribute in scanner.attributes where !attribute.isPrefixed {
            let name = UnsafeRawBufferPointer(rebasing: body[attribute.name])
            if name.elementsEqual("rel".utf8) {
                rel = XMLScanner.decode(
                    attribute.value, hasReferences: attribute.hasReferences, in: body, attribute: true
                )
                .map { $0 &- 0x41 < 26 ? $0 | 0x20 : $0 }
            } else if name.elementsEqual("href".utf8) {
                href = XMLScanner.decode(
                    attribute.value, hasReferences: attribute.hasReferences, in: body, attribute: true)
            }
        }
        guard let href else { return }
        if rel.elementsEqual("self".utf8) {
            if entries[entry].selfHref == nil { entries[entry].selfHref = href }
        } else if rel.elementsEqual("up".utf8) {
            if entries[entry].upHref == nil { entries[entry].upHref = href }
        } else if rel.elementsEqual("related".utf8) {
            entries[entry].related.append(href)
        }
    }

    /// An element of an entry's content: the resource the entry is about.
    private mutating func beginResource() throws(BodyError) -> Role {
        let kind: Entry.Resource
        let role: Role
        switch espiElement() {
        case .usagePoint:
            if let first = usagePoint {
                throw malformed(
                    at: scanner.tagOffset,
                    "a second UsagePoint (the first is at \(LineIndex(body).describe(first))); "
                        + "a request carries one meter's readings, so send one feed per UsagePoint")
            }
            usagePoint = scanner.tagOffset
            (kind, role) = (.usagePoint, .ignored)
        case .meterReading: (kind, role) = (.meterReading, .meterReading)
        case .readingType: (kind, role) = (.readingType, .readingType)
        case .intervalBlock: (kind, role) = (.intervalBlocks, .intervalBlock)
        default: return .ignored
        }
        if entry >= 0 {
            let held = entries[entry].resource
            guard held == .none || (held == .intervalBlocks && kind == .intervalBlocks) else {
                throw malformed(
                    at: scanner.tagOffset,
                    "an entry's content holds one resource (or several IntervalBlocks), "
                        + "but this <\(scanner.string(scanner.localName))> follows another resource in the same entry")
            }
            entries[entry].resource = kind
            if kind == .meterReading || kind == .readingType { entries[entry].resourceOffset = scanner.tagOffset }
        }
        switch kind {
        case .readingType:
            if entry >= 0 { entries[entry].readingType = readingTypes.count }
            readingTypes.append(ReadingTypeFields(offset: scanner.tagOffset))
        case .intervalBlocks:
            blocks.append(Block(offset: scanner.tagOffset, entry: entry))
        default:
            break
        }
        return role
    }

    /// Stores a ReadingType field at the end of its element.
    private mutating func setTypeField(_ role: Role) {
        let name = role.elementName
        let offset = number.offset
        var field = TypeField(offset: offset, seen: true)
        let parsed = number.hasChildElement ? .notAnInteger : number.withBytes(in: body) { XMLInteger.parse($0) }
        switch parsed {
        case .value(let v): field.value = v
        case .notAnInteger:
            field.problem = "\(name) must be an integer code, got \(numberExcerpt())"
        case .outOfRange:
            field.problem = "\(name) \(numberExcerpt(quoted: false)) does not fit in 64 bits"
        }
        let index = readingTypes.count - 1
        func merge(_ old: TypeField) -> TypeField {
            guard old.seen else { return field }
            var twice = old
            twice.problem = twice.problem ?? "\(name) appears more than once in the ReadingType"
            return twice
        }
        switch role {
        case .uom: readingTypes[index].uom = merge(readingTypes[index].uom)
        case .powerOfTenMultiplier:
            readingTypes[index].powerOfTenMultiplier = merge(readingTypes[index].powerOfTenMultiplier)
        case .flowDirection: readingTypes[index].flowDirection = merge(readingTypes[index].flowDirection)
        default: readingTypes[index].accumulationBehaviour = merge(readingTypes[index].accumulationBehaviour)
        }
    }

    // MARK: IntervalReadings

    private mutating func beginReading() throws(BodyError) {
        guard intervals.count < maxRecords else { throw .tooManyRecords(limit: maxRecords) }
        let block = blocks.count - 1
        blocks[block].readings += 1
        reading = Interval(offset: scanner.tagOffset, block: Int32(block), ordinal: blocks[block].readings)
        readingFields = 0
        reportedFields = 0
    }

    private mutating func problem(_ field: String, _ message: String, at offset: Int) {
        if reading.firstProblem < 0 { reading.firstProblem = Int32(problems.count) }
        problems.append(Problem(interval: Int32(intervals.count), field: field, message: message, offset: offset))
    }

    /// Stores an IntervalReading number at the end of its element.
    private mutating func setReadingField(_ role: Role) {
        let field: String
        switch role {
        case .start: field = "IntervalReading.timePeriod.start"
        case .duration: field = "IntervalReading.timePeriod.duration"
        case .value: field = "IntervalReading.value"
        default: field = "IntervalReading.ReadingQuality.quality"
        }
        let offset = number.offset
        let name = role.elementName
        let bit: UInt32 = 1 << UInt32(role.rawValue)
        if role != .quality {
            if readingFields & bit != 0 {
                if reportedFields & bit == 0 {
                    problem(field, "\(name) appears more than once in the IntervalReading", at: offset)
                }
                reportedFields |= bit
                return
            }
            readingFields |= bit
        } else if reportedFields & bit != 0 {
            return
        }
        let parsed = number.hasChildElement ? .notAnInteger : number.withBytes(in: body) { XMLInteger.parse($0) }
        let v: Int64
        switch parsed {
        case .value(let value): v = value
        case .notAnInteger:
            if role == .quality { reportedFields |= bit }
            let wanted =
                switch role {
                case .start: "Unix seconds (an integer)"
                case .duration: "a number of seconds"
                case .value: "an integer (in the ReadingType's unit)"
                default: "an ESPI QualityOfReading code"
                }
            problem(field, "\(name) must be \(wanted), got \(numberExcerpt())", at: offset)
            return
        case .outOfRange:
            if role == .quality { reportedFields |= bit }
            problem(field, "\(name) \(numberExcerpt(quoted: false)) does not fit in 64 bits", at: offset)
            return
        }
        switch role {
        case .start:
            reading.start = v
            reading.hasStart = true
            if !ReadingParser.startRange.contains(v) {
                let range = ReadingParser.startRange
                problem(
                    field,
                    "start \(v)\(Self.time(v)) is outside \(Timestamp.format(range.lowerBound)) up to (not including) "
                        + "\(Timestamp.format(range.upperBound))",
                    at: offset)
            }
        case .duration:
            reading.durationS = v
            reading.hasDuration = true
            reading.durationIsValid = ReadingParser.durationRange.contains(v)
            if !reading.durationIsValid {
                let range = ReadingParser.durationRange
                problem(
                    field, "duration \(v) must be from \(range.lowerBound) to \(range.upperBound) seconds (31 days)",
                    at: offset)
            }
        case .value:
            reading.value = v
            reading.hasValue = true
            if v < 0 {
                problem(
                    field,
                    "value \(v) is negative; energy fed into the grid comes in a ReadingType with flowDirection 19 (reverse)",
                    at: offset)
            }
        default:
            switch GreenButtonParser.quality(ofCode: v) {
            case .estimated?: reading.estimated = true
            case .actual?: break
            case nil:
                reportedFields |= bit
                problem(
                    field,
                    "quality \(ESPICode.quality(v)) is not accepted: only metered (0, 7, 14, 17, 18, 19) "
                        + "or estimated (8, 9, 11, 12, 13) readings are",
                    at: offset)
            }
        }
    }

    private mutating func finishReading() {
        let missing: [(Role, String, String)] = [
            (.start, "IntervalReading.timePeriod.start", "timePeriod/start"),
            (.duration, "IntervalReading.timePeriod.duration", "timePeriod/duration"),
            (.value, "IntervalReading.value", "value"),
        ]
        for (role, field, path) in missing where readingFields & (1 << UInt32(role.rawValue)) == 0 {
            problem(field, "the IntervalReading has no \(path)", at: reading.offset)
        }
        intervals.append(reading)
    }

    /// ` (2024-01-01T00:00:00Z)` for a start within the years a timestamp can name.
    static func time(_ unix: Int64) -> String {
        Timestamp.supportedRange.contains(unix) ? " (\(Timestamp.format(unix)))" : ""
    }

    /// The number element's text for a message.
    private func numberExcerpt(quoted: Bool = true) -> String {
        if number.hasChildElement { return "an element" }
        return number.withBytes(in: body) { text in
            var start = 0
            var end = text.count
            while start < end && XMLScanner.isSpace(text[start]) { start += 1 }
            while end > start && XMLScanner.isSpace(text[end - 1]) { end -= 1 }
            let trimmed = UnsafeRawBufferPointer(rebasing: text[start..<end])
            return quoted ? MessageText.quoted(trimmed) : MessageText.excerpt(trimmed)
        }
    }
}

// MARK: - Linking and records

/// Joins what `FeedReader` found: each IntervalBlock to its ReadingType through its
/// MeterReading, each value to watt-hours, import and export of one start into one
/// `Reading`, and every problem into a `RecordError` that says where.
struct FeedLinker {
    /// What a ReadingType makes of its readings.
    struct TypeRule {
        var isImport = true
        var multiplier = 0
        var problems: [(field: String, message: String)] = []
    }

    /// The ReadingType of an IntervalBlock's readings, or why there is none.
    enum BlockType {
        case readingType(Int)
        case unknown(field: String, message: String)
    }

    let feed: FeedReader
    let body: UnsafeRawBufferPointer
    private let rules: [TypeRule]
    private let blockTypes: [BlockType]
    private let lines: LineIndex

    init(feed: FeedReader, body: UnsafeRawBufferPointer) {
        self.feed = feed
        self.body = body
        lines = LineIndex(body)
        rules = feed.readingTypes.map(Self.rule)
        blockTypes = Self.link(feed, lines: lines)
    }

    // MARK: ReadingTypes

    private static func rule(of type: FeedReader.ReadingTypeFields) -> TypeRule {
        var rule = TypeRule()
        func check(_ field: FeedReader.TypeField, _ name: String, missing: String, accept: (Int64) -> String?) {
            let path = "ReadingType.\(name)"
            if let problem = field.problem {
                rule.problems.append((path, problem))
            } else if let value = field.value {
                if let problem = accept(value) { rule.problems.append((path, problem)) }
            } else {
                rule.problems.append((path, "\(name) is missing; \(missing)"))
            }
        }
        check(type.uom, "uom", missing: "only 72 (Wh) is accepted") { uom in
            uom == ESPICode.wattHours ? nil : "uom \(ESPICode.unit(uom)) is not energy; only 72 (Wh) is accepted"
        }
        check(
            type.accumulationBehaviour, "accumulationBehaviour",
            missing: "only interval data (4, deltaData) is accepted"
        ) {
            $0 == ESPICode.intervalData
                ? nil
                : "accumulationBehaviour \(ESPICode.accumulation($0)) is not interval data; "
                    + "only interval data (accumulationBehaviour 4, deltaData) is accepted"
        }
        check(type.flowDirection, "flowDirection", missing: "1 (forward: import) or 19 (reverse: export) is needed") {
            switch $0 {
            case ESPICode.forward: rule.isImport = true
            case ESPICode.reverse: rule.isImport = false
            default:
                return "flowDirection \($0) is not accepted: "
                    + "only 1 (forward: energy imported) and 19 (reverse: energy exported) are"
            }
            return nil
        }
        let multiplier = type.powerOfTenMultiplier
        if multiplier.seen {
            check(multiplier, "powerOfTenMultiplier", missing: "") {
                guard ESPICode.multiplierRange.contains($0) else {
                    return "powerOfTenMultiplier must be from -12 to 12, got \($0)"
                }
                rule.multiplier = Int($0)
                return nil
            }
        }
        return rule
    }

    // MARK: Links

    /// The ReadingType of each IntervalBlock (see `GreenButtonParser` for the rules).
    private static func link(_ feed: FeedReader, lines: LineIndex) -> [BlockType] {
        let entries = feed.entries
        let meterReadings = entries.indices.filter { entries[$0].resource == .meterReading }
        var typeByKey: [[UInt8]: Int] = [:]
        for entry in entries where entry.resource == .readingType {
            if let href = entry.selfHref, let key = readingTypeKey(href), typeByKey[key] == nil {
                typeByKey[key] = entry.readingType
            }
        }
        let onlyType = feed.readingTypes.count == 1 ? 0 : nil
        let typeCount = feed.readingTypes.count

        func typeOf(meterReading m: Int) -> BlockType {
            let entry = entries[m]
            let link = entry.related.lazy.compactMap(readingTypeKey).first
            if let link, let type = typeByKey[link] { return .readingType(type) }
            if let onlyType { return .readingType(onlyType) }
            let place = "its MeterReading (\(lines.describe(entry.resourceOffset)))"
            if let link {
                return .unknown(
                    field: "MeterReading",
                    message: "\(place) names \(String(decoding: link, as: UTF8.self)), which the feed does not hold")
            }
            return .unknown(
                field: "MeterReading",
                message: "\(place) has no related link to a ReadingType, and the feed holds \(typeCount)")
        }

        guard typeCount > 0 else {
            let none = BlockType.unknown(
                field: "ReadingType",
                message: "the feed holds no ReadingType, so the unit and direction of its values are unknown")
            return feed.blocks.map { _ in none }
        }
        return feed.blocks.map { block in
            let entry = block.entry >= 0 ? entries[block.entry] : nil
            let hrefs = [entry?.selfHref, entry?.upHref].compactMap { $0 }
            // The longest `self` href that is one of the block's or a path prefix of one.
            var best: Int?
            var bestLength = 0
            for m in meterReadings {
                guard let own = entries[m].selfHref, own.count > bestLength else { continue }
                let owns = hrefs.contains {
                    $0 == own || ($0.count > own.count && $0.starts(with: own + [UInt8(ascii: "/")]))
                }
                if owns {
                    best = m
                    bestLength = own.count
                }
            }
            if let best { return typeOf(meterReading: best) }
            if meterReadings.count == 1 { return typeOf(meterReading: meterReadings[0]) }
            if let onlyType { return .readingType(onlyType) }
            let place = "its IntervalBlock (\(lines.describe(block.offset)))"
            return .unknown(
                field: "IntervalBlock",
                message: "\(place) belongs to none of the feed's \(meterReadings.count) MeterReadings "
                    + "(by its self and up links), and the feed holds \(typeCount) ReadingTypes")
        }
    }

    /// The last `ReadingType/<id>` of an href, the part a MeterReading's link and a
    /// ReadingType's own link are matched by (one may be absolute, the other relative).
    static func readingTypeKey(_ href: [UInt8]) -> [UInt8]? {
        let marker = Array("ReadingType/".utf8)
        var end = href.count
        while end > 0 && href[end - 1] == UInt8(ascii: "/") { end -= 1 }
        var i = end - marker.count - 1
        while i >= 0 {
            if (i == 0 || href[i - 1] == UInt8(ascii: "/")) && href[i..<i + marker.count].elementsEqual(marker) {
                return Array(href[i..<end])
            }
            i -= 1
        }
        return nil
    }

    // MARK: Records

    /// The readings of the feed for `target`, by start, with every problem.
    func batch(for target: GreenButtonTarget) -> ParsedBatch<Reading> {
        let intervals = feed.intervals
        var order: [Int32] = []
        order.reserveCapacity(intervals.count)
        var sorted = true
        var last = Int64.min
        for i in intervals.indices where intervals[i].hasStart {
            let start = intervals[i].start
            if start < last { sorted = false }
            last = start
            order.append(Int32(i))
        }
        if !sorted {
            order.sort { a, b in
                let (x, y) = (intervals[Int(a)].start, intervals[Int(b)].start)
                return x != y ? x < y : a < b
            }
        }
        let startless = intervals.indices.filter { !intervals[$0].hasStart }.map { Int32($0) }
        let targetProblems = target.fieldProblems

        var batch = ParsedBatch<Reading>()
        batch.records.reserveCapacity(order.count)
        batch.recordIndex.reserveCapacity(order.count)
        var group = 0
        while group < order.count {
            var end = group + 1
            let start = intervals[Int(order[group])].start
            while end < order.count && intervals[Int(order[end])].start == start { end += 1 }
            record(order[group..<end], target: target, targetProblems: targetProblems, into: &batch)
            group = end
        }
        for i in startless {
            record([i], target: target, targetProblems: targetProblems, into: &batch)
        }
        return batch
    }

    /// One record: the IntervalReadings of one start (or one without a start).
    private func record(
        _ members: ArraySlice<Int32>, target: GreenButtonTarget, targetProblems: [(field: String, message: String)],
        into batch: inout ParsedBatch<Reading>
    ) {
        let index = batch.count
        batch.count += 1
        let errorsBefore = batch.errors.count
        func reject(_ field: String, _ message: String) {
            batch.errors.append(RecordError(index: index, field: field, message: message))
        }
        var reading = Reading(
            utility: target.utility, meter: target.meter, consumer: target.consumer, start: 0, durationS: 0, importWh: 0
        )
        var importFrom: Int?
        var exportFrom: Int?
        var durationFrom: Int?
        for member in members {
            let i = Int(member)
            let interval = feed.intervals[i]
            reading.start = interval.start
            if interval.estimated { reading.quality = .estimated }
            if interval.firstProblem >= 0 {
                var p = Int(interval.firstProblem)
                while p < feed.problems.count && feed.problems[p].interval == member {
                    let problem = feed.problems[p]
                    reject(problem.field, "\(place(of: interval, at: problem.offset)): \(problem.message)")
                    p += 1
                }
            }
            if interval.durationIsValid {
                if let first = durationFrom, feed.intervals[first].durationS != interval.durationS {
                    let other = feed.intervals[first]
                    reject(
                        "IntervalReading.timePeriod.duration",
                        "\(place(of: interval)): duration \(interval.durationS) differs from the \(other.durationS) seconds of "
                            + "\(place(of: other)), which has the same start")
                } else if durationFrom == nil {
                    durationFrom = i
                    reading.durationS = interval.durationS
                }
            }
            switch blockTypes[Int(interval.block)] {
            case .unknown(let field, let message):
                reject(field, "\(place(of: interval)): \(message)")
            case .readingType(let type):
                let rule = rules[type]
                guard rule.problems.isEmpty else {
                    let typePlace = lines.describe(feed.readingTypes[type].offset)
                    for (field, message) in rule.problems {
                        reject(field, "\(place(of: interval)): its ReadingType (\(typePlace)): \(message)")
                    }
                    continue
                }
                if let first = rule.isImport ? importFrom : exportFrom {
                    reject(
                        "IntervalReading.timePeriod.start",
                        "\(place(of: interval)): start \(interval.start)\(FeedReader.time(interval.start)) is also the start of "
                            + "\(place(of: feed.intervals[first])), both \(rule.isImport ? "import" : "export")")
                    continue
                }
                if rule.isImport { importFrom = i } else { exportFrom = i }
                guard interval.hasValue && interval.value >= 0 else { continue }
                switch Self.energyWh(interval.value, multiplier: rule.multiplier) {
                case .success(let wh):
                    if rule.isImport { reading.importWh = wh } else { reading.exportWh = wh }
                case .failure(let problem):
                    reject("IntervalReading.value", "\(place(of: interval)): \(problem.message)")
                }
            }
        }
        for (field, message) in targetProblems { reject(field, message) }
        if batch.errors.count == errorsBefore {
            batch.records.append(reading)
            batch.recordIndex.append(index)
        }
    }

    /// Why a value cannot be a reading's energy.
    struct EnergyProblem: Error {
        var message: String
    }

    /// `value × 10^multiplier` as whole watt-hours in `ReadingParser.energyRange`.
    static func energyWh(_ value: Int64, multiplier: Int) -> Result<Int64, EnergyProblem> {
        var scale: Int64 = 1
        for _ in 0..<abs(multiplier) { scale *= 10 }  // at most 10^12
        let written = multiplier == 0 ? "value \(value)" : "value \(value) × 10^\(multiplier)"
        let wh: Int64
        if multiplier >= 0 {
            let (product, overflow) = value.multipliedReportingOverflow(by: scale)
            guard !overflow else { return .failure(EnergyProblem(message: "\(written) Wh does not fit in 64 bits")) }
            wh = product
        } else {
            guard value % scale == 0 else {
                return .failure(EnergyProblem(message: "\(written) Wh is not a whole number of Wh"))
            }
            wh = value / scale
        }
        let range = ReadingParser.energyRange
        guard range.contains(wh) else {
            let equals = multiplier == 0 ? "" : " = \(wh)"
            return .failure(
                EnergyProblem(
                    message: "\(written)\(equals) Wh is past the \(range.upperBound) Wh (1 TWh) a reading may hold"))
        }
        return .success(wh)
    }

    /// `IntervalReading 12 of IntervalBlock 3 (line 40, column 7)`, at the reading or
    /// at one of its elements.
    private func place(of interval: FeedReader.Interval, at offset: Int? = nil) -> String {
        "IntervalReading \(interval.ordinal) of IntervalBlock \(interval.block + 1) (\(lines.describe(offset ?? interval.offset)))"
    }
}
