/// References: entities (only the five predefined ones, as DTDs, which could declare
/// more, are refused) and character references (`&#38;`, `&#x26;`), checked as the
/// scanner meets them and resolved when a caller needs the characters.
extension XMLScanner {
    /// What an `&` reference stands for.
    enum Reference {
        /// A character, and the offset after the `;`.
        case character(UInt32, end: Int)
        /// `&name;` with a name other than amp, lt, gt, quot, apos.
        case unknownEntity(Range<Int>)
        /// A character reference to something that is not an XML character (`&#0;`, a surrogate).
        case notACharacter(Range<Int>)
        /// No name or number, or no `;`.
        case malformed
    }

    /// The reference whose `&` is at `start`.
    static func reference(in body: UnsafeRawBufferPointer, at start: Int) -> Reference {
        let count = body.count
        var i = start + 1
        if i < count && body[i] == Byte.hash {
            i += 1
            let hex = i < count && body[i] == UInt8(ascii: "x")
            if hex { i += 1 }
            let digitsStart = i
            var value: UInt32 = 0
            while i < count {
                let b = body[i]
                let digit: UInt32
                if b &- 0x30 < 10 {
                    digit = UInt32(b &- 0x30)
                } else if hex, (b | 0x20) &- 0x61 < 6 {
                    digit = UInt32((b | 0x20) &- 0x61 + 10)
                } else {
                    break
                }
                // Past U+10FFFF is no character: stop growing so nothing overflows.
                value = min(value &* (hex ? 16 : 10) &+ digit, 0x11_0000)
                i += 1
            }
            guard i > digitsStart, i < count, body[i] == Byte.semicolon else { return .malformed }
            let isCharacter =
                value == 0x09 || value == 0x0A || value == 0x0D || (0x20...0xD7FF).contains(value)
                || (0xE000...0xFFFD).contains(value) || (0x1_0000...0x10_FFFF).contains(value)
            return isCharacter ? .character(value, end: i + 1) : .notACharacter(start..<i + 1)
        }
        let nameStart = i
        while i < count && i - nameStart < 64 && isNameByte(body[i]) { i += 1 }
        guard i > nameStart, i < count, body[i] == Byte.semicolon else { return .malformed }
        let name = UnsafeRawBufferPointer(rebasing: body[nameStart..<i])
        let scalar: UInt32? =
            switch name.count {
            case 2 where name[0] == UInt8(ascii: "l") && name[1] == UInt8(ascii: "t"): 0x3C
            case 2 where name[0] == UInt8(ascii: "g") && name[1] == UInt8(ascii: "t"): 0x3E
            case 3 where name.elementsEqual("amp".utf8): 0x26
            case 4 where name.elementsEqual("quot".utf8): 0x22
            case 4 where name.elementsEqual("apos".utf8): 0x27
            default: nil
            }
        guard let scalar else { return .unknownEntity(start..<i + 1) }
        return .character(scalar, end: i + 1)
    }

    /// Checks the reference at `start` (an `&`) and returns the offset after it.
    func checkReference(at start: Int) throws(Failure) -> Int {
        switch Self.reference(in: body, at: start) {
        case .character(_, let end):
            return end
        case .unknownEntity(let range):
            throw Failure(
                offset: start,
                message:
                    "unknown entity \(string(range)): DTDs are not accepted, so only &amp; &lt; &gt; &quot; &apos; "
                    + "and character references (&#38;) are")
        case .notACharacter(let range):
            throw Failure(offset: start, message: "\(string(range)) is not an XML character")
        case .malformed:
            throw Failure(
                offset: start,
                message: "'&' must start a reference ending in ';' such as &amp; (write &amp; for a literal '&')")
        }
    }

    /// The characters of a text or attribute value range, references resolved; in an
    /// attribute value, tabs and line breaks become spaces (XML attribute-value
    /// normalization). The range must have been checked by the scanner.
    static func decode(
        _ range: Range<Int>, hasReferences: Bool, in body: UnsafeRawBufferPointer, attribute: Bool = false
    ) -> [UInt8] {
        var out: [UInt8] = []
        decode(range, hasReferences: hasReferences, in: body, attribute: attribute, into: &out)
        return out
    }

    /// `decode`, appending to `out`.
    static func decode(
        _ range: Range<Int>, hasReferences: Bool, in body: UnsafeRawBufferPointer, attribute: Bool = false,
        into out: inout [UInt8]
    ) {
        if !hasReferences && !attribute {
            out.append(contentsOf: UnsafeRawBufferPointer(rebasing: body[range]))
            return
        }
        var i = range.lowerBound
        while i < range.upperBound {
            let b = body[i]
            if b == Byte.amp, case .character(let value, let end) = reference(in: body, at: i),
                let scalar = Unicode.Scalar(value)
            {
                UTF8.encode(scalar) { out.append($0) }
                i = end
                continue
            }
            if attribute && (b == 0x09 || b == 0x0A || b == 0x0D) {
                // A CR LF pair is one line break, so one space.
                if !(b == 0x0A && i > range.lowerBound && body[i - 1] == 0x0D) { out.append(0x20) }
            } else {
                out.append(b)
            }
            i += 1
        }
    }
}
