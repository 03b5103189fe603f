/// A streaming, namespace-aware XML 1.0 tokenizer over UTF-8 bytes, for the Atom feeds
/// of the Green Button importer: one event at a time, nothing built but the stack of
/// open elements and their namespace declarations.
///
/// It checks well-formedness as it goes (matching tags, one root, attribute syntax,
/// references, characters) and refuses what a feed never needs and a hostile body
/// would use: any DTD (`<!DOCTYPE`, hence any entity declaration or expansion),
/// entities other than the five predefined ones, nesting deeper than `maximumDepth`,
/// more than `maximumAttributes` attributes on one element, an XML declaration naming
/// an encoding other than UTF-8. The caller checks UTF-8 first.
///
/// Text is handed out as byte ranges of the body; `decode` resolves its references
/// when the caller needs the characters.
struct XMLScanner {
    /// What `next()` found; the event's details are in the scanner's properties.
    enum Event {
        /// A start tag (a self-closing tag gives `startTag` then `endTag`): `tagOffset`,
        /// `namespace`, `localName`, `attributes`.
        case startTag
        /// An end tag: `tagOffset`, `namespace` and `localName` of the element it closes.
        case endTag
        /// Character data inside the root element, or a CDATA section: `text`,
        /// `textHasReferences`.
        case text
        /// The end of the body, after the root element.
        case end
    }

    /// One attribute of the last start tag, as byte ranges of the body.
    struct Attribute {
        var name: Range<Int>
        /// The name after its prefix; the whole name when it has none.
        var localName: Range<Int>
        /// The value between the quotes, references unresolved.
        var value: Range<Int>
        var hasReferences: Bool

        var isPrefixed: Bool { localName.lowerBound != name.lowerBound }
    }

    /// Why the body is not a well-formed feed, at byte `offset`.
    struct Failure: Error {
        var offset: Int
        var message: String
    }

    /// Elements nested deeper than this are refused (a feed needs seven levels).
    static let maximumDepth = 64
    /// Attributes on one element past this are refused (an Atom link has two or three).
    static let maximumAttributes = 32

    let body: UnsafeRawBufferPointer
    /// Where the document starts (after a byte order mark): the only place for `<?xml`.
    private let documentStart: Int
    private var position: Int

    private struct OpenElement {
        var name: Range<Int>
        var localStart: Int
        var namespace: Namespace
        var tagOffset: Int
        /// `bindings.count` before the element's own declarations.
        var bindingsBefore: Int
    }
    private var open: [OpenElement] = []
    /// The namespace declarations in scope, innermost last.
    var bindings: [Binding] = []
    private var rootSeen = false
    /// The last start tag was self-closing: the next event is its end.
    private var closeNext = false

    /// Offset of the `<` of the last start or end tag.
    private(set) var tagOffset = 0
    private(set) var namespace = Namespace.none
    private(set) var localName: Range<Int> = 0..<0
    private(set) var attributes: [Attribute] = []
    private(set) var text: Range<Int> = 0..<0
    /// Whether `text` holds `&` references (never for a CDATA section).
    private(set) var textHasReferences = false

    init(_ body: UnsafeRawBufferPointer, from start: Int) {
        self.body = body
        documentStart = start
        position = start
        open.reserveCapacity(16)
        attributes.reserveCapacity(8)
    }

    // MARK: Events

    /// The next event; throws at the first thing that is not well-formed.
    mutating func next() throws(Failure) -> Event {
        if closeNext {
            closeNext = false
            closeTop()
            return .endTag
        }
        let count = body.count
        while position < count {
            let start = position
            guard body[start] == Byte.lt else {
                try scanText()
                if !open.isEmpty { return .text }
                if let stray = firstNonSpace(in: text) {
                    throw Failure(offset: stray, message: "text outside the root element")
                }
                continue
            }
            guard start + 1 < count else { throw Failure(offset: start, message: "the body ends inside a tag") }
            switch body[start + 1] {
            case Byte.slash:
                try scanEndTag()
                return .endTag
            case Byte.question:
                try scanProcessingInstruction()
            case Byte.bang:
                if try scanMarkup() { return .text }
            default:
                try scanStartTag()
                return .startTag
            }
        }
        if let unclosed = open.last {
            throw Failure(
                offset: count,
                message:
                    "the body ends before <\(string(unclosed.name))> (\(LineIndex(body).describe(unclosed.tagOffset))) is closed"
            )
        }
        guard rootSeen else { throw Failure(offset: count, message: "the body has no root element") }
        return .end
    }

    /// How many elements are open.
    var depth: Int { open.count }

    // MARK: Tags

    private mutating func scanStartTag() throws(Failure) {
        let tagStart = position
        var i = tagStart + 1
        let name = try scanName(&i, what: "an element name after '<'")
        if open.isEmpty && rootSeen {
            throw Failure(offset: tagStart, message: "a second root element <\(string(name))>; a feed has one root")
        }
        guard open.count < Self.maximumDepth else {
            throw Failure(offset: tagStart, message: "elements nest deeper than \(Self.maximumDepth) levels")
        }
        attributes.removeAll(keepingCapacity: true)
        let count = body.count
        var selfClosing = false
        while true {
            let spaced = skipSpace(&i)
            guard i < count else { throw Failure(offset: i, message: "the body ends inside the tag <\(string(name))>") }
            let b = body[i]
            if b == Byte.gt {
                i += 1
                break
            }
            if b == Byte.slash {
                guard i + 1 < count && body[i + 1] == Byte.gt else { throw unexpected(at: i + 1, "'>' after '/'") }
                i += 2
                selfClosing = true
                break
            }
            guard spaced else { throw unexpected(at: i, "a space, '>' or '/>' in the tag <\(string(name))>") }
            try scanAttribute(&i, of: name)
        }
        let bindingsBefore = bindings.count
        try declareNamespaces()
        let (namespace, localStart) = try resolve(name, tagStart: tagStart)
        open.append(
            OpenElement(
                name: name, localStart: localStart, namespace: namespace, tagOffset: tagStart,
                bindingsBefore: bindingsBefore))
        rootSeen = true
        tagOffset = tagStart
        self.namespace = namespace
        localName = localStart..<name.upperBound
        closeNext = selfClosing
        position = i
    }

    private mutating func scanAttribute(_ i: inout Int, of element: Range<Int>) throws(Failure) {
        let nameStart = i
        let name = try scanName(&i, what: "an attribute name")
        _ = skipSpace(&i)
        guard i < body.count && body[i] == Byte.equals else { throw unexpected(at: i, "'=' after the attribute name") }
        i += 1
        _ = skipSpace(&i)
        guard i < body.count, body[i] == Byte.quote || body[i] == Byte.apostrophe else {
            throw unexpected(at: i, "a quoted attribute value")
        }
        let quote = body[i]
        i += 1
        let valueStart = i
        var references = false
        while true {
            guard i < body.count else {
                throw Failure(offset: valueStart - 1, message: "an attribute value is never closed")
            }
            let b = body[i]
            if b == quote { break }
            if b == Byte.lt { throw Failure(offset: i, message: "'<' in an attribute value (write &lt;)") }
            if b == Byte.amp {
                i = try checkReference(at: i)
                references = true
                continue
            }
            if b < 0x20 && b != 0x09 && b != 0x0A && b != 0x0D { throw controlCharacter(at: i) }
            i += 1
        }
        let value = valueStart..<i
        i += 1
        for other in attributes where equal(other.name, name) {
            throw Failure(
                offset: nameStart, message: "the attribute \(string(name)) appears twice in <\(string(element))>")
        }
        guard attributes.count < Self.maximumAttributes else {
            throw Failure(
                offset: nameStart, message: "more than \(Self.maximumAttributes) attributes in <\(string(element))>")
        }
        let colon = firstColon(in: name)
        let localName = colon.map { $0 + 1..<name.upperBound } ?? name
        attributes.append(Attribute(name: name, localName: localName, value: value, hasReferences: references))
    }

    private mutating func scanEndTag() throws(Failure) {
        let tagStart = position
        var i = tagStart + 2
        let name = try scanName(&i, what: "an element name after '</'")
        _ = skipSpace(&i)
        guard i < body.count && body[i] == Byte.gt else {
            throw unexpected(at: i, "'>' to end the tag </\(string(name))>")
        }
        guard let top = open.last else {
            throw Failure(offset: tagStart, message: "</\(string(name))> closes no element")
        }
        guard equal(top.name, name) else {
            throw Failure(
                offset: tagStart,
                message:
                    "</\(string(name))> does not close <\(string(top.name))> (\(LineIndex(body).describe(top.tagOffset)))"
            )
        }
        tagOffset = tagStart
        namespace = top.namespace
        localName = top.localStart..<top.name.upperBound
        closeTop()
        position = i + 1
    }

    private mutating func closeTop() {
        let top = open.removeLast()
        if bindings.count > top.bindingsBefore { bindings.removeSubrange(top.bindingsBefore...) }
    }

    // MARK: Text, comments, CDATA, processing instructions

    /// Character data up to the next `<` (or the end), references checked.
    private mutating func scanText() throws(Failure) {
        let start = position
        let count = body.count
        var i = start
        var references = false
        while i < count {
            let b = body[i]
            if b == Byte.lt { break }
            if b < 0x20 {
                if b != 0x09 && b != 0x0A && b != 0x0D { throw controlCharacter(at: i) }
            } else if b == Byte.amp {
                i = try checkReference(at: i)
                references = true
                continue
            } else if b == Byte.rbracket && i + 2 < count && body[i + 1] == Byte.rbracket && body[i + 2] == Byte.gt {
                throw Failure(offset: i, message: "']]>' is not allowed in text (write ]]&gt;)")
            }
            i &+= 1
        }
        text = start..<i
        textHasReferences = references
        position = i
    }

    /// `<!--`, `<![CDATA[` or a refused declaration; true for a CDATA section (then
    /// `text` is its content).
    private mutating func scanMarkup() throws(Failure) -> Bool {
        let start = position
        if hasWord("<!--", at: start) {
            var i = start + 4
            while true {
                guard i + 1 < body.count else { throw Failure(offset: start, message: "a comment is never closed") }
                let b = body[i]
                if b == Byte.dash && body[i + 1] == Byte.dash {
                    guard i + 2 < body.count && body[i + 2] == Byte.gt else {
                        throw Failure(offset: i, message: "'--' inside a comment")
                    }
                    position = i + 3
                    return false
                }
                if b < 0x20 && b != 0x09 && b != 0x0A && b != 0x0D { throw controlCharacter(at: i) }
                i += 1
            }
        }
        if hasWord("<![CDATA[", at: start) {
            guard !open.isEmpty else {
                throw Failure(offset: start, message: "a CDATA section outside the root element")
            }
            var i = start + 9
            while true {
                guard i + 2 < body.count else {
                    throw Failure(offset: start, message: "a CDATA section is never closed")
                }
                let b = body[i]
                if b == Byte.rbracket && body[i + 1] == Byte.rbracket && body[i + 2] == Byte.gt { break }
                if b < 0x20 && b != 0x09 && b != 0x0A && b != 0x0D { throw controlCharacter(at: i) }
                i += 1
            }
            text = start + 9..<i
            textHasReferences = false
            position = i + 3
            return true
        }
        var end = start + 2
        while end < body.count && end < start + 12 && Self.isNameByte(body[end]) { end += 1 }
        if end > start + 2 {
            throw Failure(
                offset: start,
                message: "\(string(start..<end)): DTDs are not accepted (their entities can expand without bound); "
                    + "a Green Button feed needs none")
        }
        throw unexpected(at: start + 2, "'--' or '[CDATA[' after '<!'")
    }

    /// `<?target ...?>`: the XML declaration when it comes first, otherwise skipped.
    private mutating func scanProcessingInstruction() throws(Failure) {
        let start = position
        var i = start + 2
        let target = try scanName(&i, what: "a processing instruction target after '<?'")
        let isXML = target.count == 3 && string(target).lowercased() == "xml"
        if isXML {
            guard start == documentStart && string(target) == "xml" else {
                throw Failure(offset: start, message: "the XML declaration <?xml ...?> may only come first in the body")
            }
            position = try scanDeclaration(from: i)
            return
        }
        while true {
            guard i + 1 < body.count else {
                throw Failure(offset: start, message: "a processing instruction is never closed")
            }
            if body[i] == Byte.question && body[i + 1] == Byte.gt { break }
            if body[i] < 0x20 && body[i] != 0x09 && body[i] != 0x0A && body[i] != 0x0D { throw controlCharacter(at: i) }
            i += 1
        }
        position = i + 2
    }

    /// The pseudo-attributes of `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>`;
    /// returns the offset after `?>`.
    private func scanDeclaration(from start: Int) throws(Failure) -> Int {
        var i = start
        var sawVersion = false
        while true {
            let spaced = skipSpace(&i)
            guard i + 1 < body.count else {
                throw Failure(offset: documentStart, message: "the XML declaration is never closed")
            }
            if body[i] == Byte.question && body[i + 1] == Byte.gt { break }
            guard spaced else { throw unexpected(at: i, "a space or '?>' in the XML declaration") }
            let nameStart = i
            let name = string(try scanName(&i, what: "version, encoding or standalone"))
            _ = skipSpace(&i)
            guard i < body.count && body[i] == Byte.equals else {
                throw unexpected(at: i, "'=' in the XML declaration")
            }
            i += 1
            _ = skipSpace(&i)
            guard i < body.count, body[i] == Byte.quote || body[i] == Byte.apostrophe else {
                throw unexpected(at: i, "a quoted value in the XML declaration")
            }
            let quote = body[i]
            let valueStart = i + 1
            i = valueStart
            while i < body.count && body[i] != quote && body[i] != Byte.gt { i += 1 }
            guard i < body.count && body[i] == quote else {
                throw Failure(offset: valueStart - 1, message: "a value in the XML declaration is never closed")
            }
            let value = string(valueStart..<i)
            i += 1
            switch name {
            case "version":
                guard value.hasPrefix("1."), value.count > 2, value.utf8.dropFirst(2).allSatisfy({ $0 &- 0x30 < 10 })
                else {
                    throw Failure(offset: nameStart, message: "XML version \(MessageText.quoted(value)) is not 1.x")
                }
                sawVersion = true
            case "encoding" where sawVersion:
                guard value.lowercased() == "utf-8" else {
                    throw Failure(
                        offset: nameStart,
                        message:
                            "the XML declaration names encoding \(MessageText.quoted(value)); only UTF-8 is accepted")
                }
            case "standalone" where sawVersion:
                guard value == "yes" || value == "no" else {
                    throw Failure(offset: nameStart, message: "standalone must be \"yes\" or \"no\"")
                }
            default:
                throw Failure(
                    offset: nameStart,
                    message:
                        "unexpected \(MessageText.quoted(name)) in the XML declaration (version, then encoding, then standalone)"
                )
            }
        }
        guard sawVersion else { throw Failure(offset: documentStart, message: "the XML declaration has no version") }
        return i + 2
    }

    // MARK: Bytes

    /// A name (`espi:value`, `xmlns:a`) at `i`: at most one colon, with a name on
    /// each side. Non-ASCII bytes are taken as name characters.
    private func scanName(_ i: inout Int, what: String) throws(Failure) -> Range<Int> {
        let start = i
        let count = body.count
        guard i < count, Self.isNameStart(body[i]) else { throw unexpected(at: i, what) }
        var colon = -1
        i += 1
        while i < count {
            let b = body[i]
            guard Self.isNameByte(b) else { break }
            if b == Byte.colon {
                guard colon < 0, i + 1 < count, Self.isNameStart(body[i + 1]) else {
                    throw Failure(offset: start, message: "a name with a misplaced ':' (one prefix, then a name)")
                }
                colon = i
            }
            i += 1
        }
        return start..<i
    }

    /// The colon of a qualified name; nil when unprefixed. `scanName` has checked
    /// that there is at most one and that it has a name on each side.
    @inline(__always)
    func firstColon(in name: Range<Int>) -> Int? {
        var i = name.lowerBound
        while i < name.upperBound {
            if body[i] == Byte.colon { return i }
            i &+= 1
        }
        return nil
    }

    @inline(__always)
    private static func isNameStart(_ b: UInt8) -> Bool {
        (b | 0x20) &- 0x61 < 26 || b == UInt8(ascii: "_") || b >= 0x80
    }

    @inline(__always)
    static func isNameByte(_ b: UInt8) -> Bool {
        isNameStart(b) || b &- 0x30 < 10 || b == Byte.dash || b == UInt8(ascii: ".") || b == Byte.colon
    }

    @inline(__always)
    private func skipSpace(_ i: inout Int) -> Bool {
        let start = i
        while i < body.count, Self.isSpace(body[i]) { i += 1 }
        return i > start
    }

    @inline(__always)
    static func isSpace(_ b: UInt8) -> Bool { b == 0x20 || b == 0x0A || b == 0x09 || b == 0x0D }

    private func firstNonSpace(in range: Range<Int>) -> Int? {
        range.first { !Self.isSpace(body[$0]) }
    }

    @inline(__always)
    func equal(_ a: Range<Int>, _ b: Range<Int>) -> Bool {
        guard a.count == b.count else { return false }
        var i = 0
        while i < a.count {
            if body[a.lowerBound &+ i] != body[b.lowerBound &+ i] { return false }
            i &+= 1
        }
        return true
    }

    func isWord(_ word: StaticString, _ range: Range<Int>) -> Bool {
        range.count == word.utf8CodeUnitCount && hasWord(word, at: range.lowerBound)
    }

    private func hasWord(_ word: StaticString, at offset: Int) -> Bool {
        let count = word.utf8CodeUnitCount
        guard offset + count <= body.count else { return false }
        return word.withUTF8Buffer { w in
            (0..<count).allSatisfy { body[offset + $0] == w[$0] }
        }
    }

    /// The bytes of a range as text (names and messages).
    func string(_ range: Range<Int>) -> String {
        String(decoding: UnsafeRawBufferPointer(rebasing: body[range]), as: UTF8.self)
    }

    private func unexpected(at offset: Int, _ wanted: String) -> Failure {
        guard offset < body.count else {
            return Failure(offset: offset, message: "expected \(wanted), got the end of the body")
        }
        let b = body[offset]
        let got = b >= 0x20 && b < 0x7F ? "'\(String(UnicodeScalar(b)))'" : "byte 0x\(MessageText.hex(b))"
        return Failure(offset: offset, message: "expected \(wanted), got \(got)")
    }

    private func controlCharacter(at offset: Int) -> Failure {
        Failure(
            offset: offset,
            message:
                "control character U+00\(MessageText.hex(body[offset])) (XML allows only tab, line feed and carriage return)"
        )
    }

}

extension XMLScanner {
    /// ASCII bytes the scanner looks for.
    enum Byte {
        static let lt = UInt8(ascii: "<")
        static let gt = UInt8(ascii: ">")
        static let slash = UInt8(ascii: "/")
        static let question = UInt8(ascii: "?")
        static let bang = UInt8(ascii: "!")
        static let amp = UInt8(ascii: "&")
        static let hash = UInt8(ascii: "#")
        static let semicolon = UInt8(ascii: ";")
        static let colon = UInt8(ascii: ":")
        static let equals = UInt8(ascii: "=")
        static let quote = UInt8(ascii: "\"")
        static let apostrophe = UInt8(ascii: "'")
        static let dash = UInt8(ascii: "-")
        static let rbracket = UInt8(ascii: "]")
    }
}
