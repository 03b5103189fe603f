/// One pass over a feed: what each entry links to, its ReadingTypes, and the values of
/// its IntervalReadings, kept compactly (`FeedReader+Contents.swift`) so that
/// `FeedLinker` and `FeedRecords` can join them whatever order the entries came in.
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
