/// Reads RFC 4180 CSV rows as byte ranges: comma-separated, cells optionally in double
/// quotes (a quote inside written twice, line breaks allowed inside), rows ending in
/// CRLF or LF. Lines that are entirely empty are skipped.
struct CSVReader {
    /// A cell of a row: its text's range, without the enclosing quotes.
    struct Cell {
        var content: Range<Int>
        /// Quoted, and holding `""` that stands for one `"`.
        var doubledQuotes: Bool
        /// Not quoted, yet holding a `"` (RFC 4180 forbids it; the row is refused).
        var strayQuote: Bool
    }

    /// Quoting that makes the rest of the body unreadable.
    struct SyntaxError: Error {
        var offset: Int
        var message: String
    }

    let bytes: UnsafeRawBufferPointer
    private(set) var position: Int

    init(_ bytes: UnsafeRawBufferPointer, from position: Int) {
        self.bytes = bytes
        self.position = position
    }

    var isAtEnd: Bool { position >= bytes.count }

    /// Skips lines that are empty (`\n`, `\r\n`, or a last lone `\r`).
    mutating func skipBlankLines() {
        let end = bytes.count
        while position < end {
            if bytes[position] == 0x0A {
                position += 1
            } else if bytes[position] == 0x0D && (position + 1 == end || bytes[position + 1] == 0x0A) {
                position += position + 1 == end ? 1 : 2
            } else {
                return
            }
        }
    }

    /// Reads the row at the position into `cells` and moves past its line end.
    mutating func readRow(into cells: inout [Cell]) throws(SyntaxError) {
        cells.removeAll(keepingCapacity: true)
        let end = bytes.count
        while true {
            if position < end && bytes[position] == UInt8(ascii: "\"") {
                let open = position
                position += 1
                let contentStart = position
                var doubled = false
                while true {
                    guard position < end else {
                        throw SyntaxError(offset: open, message: "the quoted cell that starts here is never closed")
                    }
                    if bytes[position] == UInt8(ascii: "\"") {
                        if position + 1 < end && bytes[position + 1] == UInt8(ascii: "\"") {
                            doubled = true
                            position += 2
                            continue
                        }
                        break
                    }
                    position += 1
                }
                cells.append(Cell(content: contentStart..<position, doubledQuotes: doubled, strayQuote: false))
                position += 1  // the closing quote
                if position >= end { return }
                switch bytes[position] {
                case UInt8(ascii: ","):
                    position += 1
                    continue
                case 0x0A:
                    position += 1
                    return
                case 0x0D where position + 1 == end || bytes[position + 1] == 0x0A:
                    position += position + 1 == end ? 1 : 2
                    return
                default:
                    throw SyntaxError(
                        offset: position,
                        message: "a quoted cell must be followed by ',' or the end of the line "
                            + "(write a quote inside a quoted cell as \"\")")
                }
            } else {
                let start = position
                var stray = false
                while position < end {
                    let b = bytes[position]
                    if b == UInt8(ascii: ",") || b == 0x0A { break }
                    if b == UInt8(ascii: "\"") { stray = true }
                    position += 1
                }
                var contentEnd = position
                let endsLine = position >= end || bytes[position] == 0x0A
                if endsLine && contentEnd > start && bytes[contentEnd - 1] == 0x0D { contentEnd -= 1 }
                cells.append(Cell(content: start..<contentEnd, doubledQuotes: false, strayQuote: stray))
                if position >= end { return }
                let terminator = bytes[position]
                position += 1
                if terminator == 0x0A { return }
            }
        }
    }

    /// The text of a quoted cell with each `""` made one `"`.
    static func undoubleQuotes(_ text: UnsafeRawBufferPointer) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(text.count)
        var i = 0
        while i < text.count {
            out.append(text[i])
            i += text[i] == UInt8(ascii: "\"") ? 2 : 1
        }
        return out
    }
}
