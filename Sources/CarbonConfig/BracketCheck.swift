/// Refuses two bracket mistakes before toml++ sees them: a table header that does not
/// start with a key (`[` or `[[` followed, after spaces, by anything but a bare-key
/// character, a quote or `]`), and a `}` inside an array (`factors = ["a" }`).
///
/// toml++ 3 (inside TOMLKit) asserts instead of reporting both, and SwiftPM builds it
/// with assertions on, so either typo aborted the daemon: at start, and on a SIGHUP
/// reload of an edited file. The scan skips strings and comments and follows the
/// brackets of values, so only real headers and arrays are looked at; toml++ refuses
/// every text this refuses, only less politely.
func checkBrackets(_ toml: String) throws(ConfigError) {
    let bytes = Array(toml.utf8)
    var i = 0
    var line = 1
    var open: [UInt8] = []  // the `[` and `{` open in a value, innermost last
    var atLineStart = true
    func skip(to terminator: UInt8) {
        while i < bytes.count && bytes[i] != terminator { i += 1 }
    }
    while i < bytes.count {
        let byte = bytes[i]
        switch byte {
        case UInt8(ascii: "\n"):
            line += 1
            atLineStart = true
            i += 1
            continue
        case UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\r"):
            i += 1
            continue
        case UInt8(ascii: "#"):
            skip(to: UInt8(ascii: "\n"))
            continue
        case UInt8(ascii: "\""), UInt8(ascii: "'"):
            line += skipString(bytes, &i)
        case UInt8(ascii: "[") where atLineStart && open.isEmpty:
            var next = i + 1
            if next < bytes.count && bytes[next] == UInt8(ascii: "[") { next += 1 }
            while next < bytes.count && (bytes[next] == UInt8(ascii: " ") || bytes[next] == UInt8(ascii: "\t")) { next += 1 }
            if next < bytes.count && !startsKey(bytes[next]) {
                throw ConfigError(key: "", message: "line \(line): a table header must start with a key, as in [daemon]")
            }
            skip(to: UInt8(ascii: "\n"))  // the header and any comment after it
            continue
        case UInt8(ascii: "["), UInt8(ascii: "{"):
            open.append(byte)
            i += 1
        case UInt8(ascii: "}") where open.last == UInt8(ascii: "["):
            throw ConfigError(key: "", message: "line \(line): '}' inside an array; an array ends with ']'")
        case UInt8(ascii: "]"), UInt8(ascii: "}"):
            _ = open.popLast()
            i += 1
        default:
            i += 1
        }
        atLineStart = false
    }
}

/// A bare-key character, a quote that starts a quoted key, or the `]` toml++ reports itself.
private func startsKey(_ byte: UInt8) -> Bool {
    switch byte {
    case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
        UInt8(ascii: "_"), UInt8(ascii: "-"), UInt8(ascii: "\""), UInt8(ascii: "'"), UInt8(ascii: "]"):
        true
    default: false
    }
}

/// Moves `i` past the string starting at `bytes[i]` (basic or literal, one line or
/// multi-line); returns how many newlines it held. An unclosed one-line string ends at
/// its line, as toml++ ends it with an error.
private func skipString(_ bytes: [UInt8], _ i: inout Int) -> Int {
    let quote = bytes[i]
    let escapes = quote == UInt8(ascii: "\"")
    let multiLine = i + 2 < bytes.count && bytes[i + 1] == quote && bytes[i + 2] == quote
    var newlines = 0
    i += multiLine ? 3 : 1
    while i < bytes.count {
        let byte = bytes[i]
        if escapes && byte == UInt8(ascii: "\\") {
            if i + 1 < bytes.count && bytes[i + 1] == UInt8(ascii: "\n") { newlines += 1 }
            i += 2
            continue
        }
        if byte == UInt8(ascii: "\n") {
            if !multiLine { return newlines }
            newlines += 1
        }
        if byte == quote {
            if !multiLine {
                i += 1
                return newlines
            }
            if i + 2 < bytes.count && bytes[i + 1] == quote && bytes[i + 2] == quote {
                i += 3
                // Up to two more quotes belong to the content: `""""` ends with one.
                var extra = 0
                while extra < 2 && i < bytes.count && bytes[i] == quote { i += 1; extra += 1 }
                return newlines
            }
        }
        i += 1
    }
    return newlines
}
