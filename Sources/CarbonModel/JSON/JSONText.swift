/// The byte-level pieces of canonical JSON, shared by `CanonicalWriter` and the
/// hand-written hot paths (`Reading.writeLeaf`). Escaping is written once, in
/// `ByteCursor.string(utf8:)`.
enum JSONText {
    static let quote = UInt8(ascii: "\"")
    static let backslash = UInt8(ascii: "\\")

    /// Appends the bytes of a literal.
    @inline(__always)
    static func appendLiteral(_ literal: StaticString, to bytes: inout [UInt8]) {
        literal.withUTF8Buffer { bytes.append(contentsOf: $0) }
    }

    /// Appends an integer in shortest decimal form (`-` only for negatives).
    static func appendInt(_ value: Int64, to bytes: inout [UInt8]) {
        withWritten(maximumCount: ByteCursor.maximumIntBytes, to: &bytes) { $0.int(value) }
    }

    /// Appends a quoted, minimally escaped string.
    @inline(__always)
    static func appendString(_ value: String, to bytes: inout [UInt8]) {
        withWritten(maximumCount: ByteCursor.maximumStringBytes(value.utf8.count), to: &bytes) { $0.string(value) }
    }

    /// Appends quoted, minimally escaped UTF-8 (see `ByteCursor.string(utf8:)`).
    static func appendString(utf8 text: UnsafeRawBufferPointer, to bytes: inout [UInt8]) {
        withWritten(maximumCount: ByteCursor.maximumStringBytes(text.count), to: &bytes) { $0.string(utf8: text) }
    }

    /// Appends what `write` puts through a cursor with room for `maximumCount` bytes.
    @inline(__always)
    static func withWritten(maximumCount: Int, to bytes: inout [UInt8], _ write: (inout ByteCursor) -> Void) {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: maximumCount) { buffer in
            // Capacity is at least 1 (callers ask for 20 or more), so the base exists.
            guard let base = buffer.baseAddress else { return }
            var cursor = ByteCursor(base)
            write(&cursor)
            bytes.append(contentsOf: UnsafeBufferPointer(start: base, count: cursor.count))
        }
    }
}

/// Writes bytes through a pointer into room the caller has made (bounded by the
/// `maximum...Bytes` figures), so that a whole leaf costs one array append.
struct ByteCursor {
    let base: UnsafeMutablePointer<UInt8>
    private(set) var count = 0

    init(_ base: UnsafeMutablePointer<UInt8>) {
        self.base = base
    }

    /// Room an integer can take: `-9223372036854775808`.
    static let maximumIntBytes = 20

    /// Room a string of `utf8Count` bytes can take quoted and escaped (`\u00XX` is 6 bytes).
    @inline(__always)
    static func maximumStringBytes(_ utf8Count: Int) -> Int { 2 + 6 * utf8Count }

    @inline(__always)
    mutating func byte(_ b: UInt8) {
        base[count] = b
        count &+= 1
    }

    @inline(__always)
    mutating func raw(_ bytes: UnsafeRawBufferPointer) {
        guard let source = bytes.baseAddress, bytes.count > 0 else { return }
        UnsafeMutableRawPointer(base + count).copyMemory(from: source, byteCount: bytes.count)
        count &+= bytes.count
    }

    @inline(__always)
    mutating func literal(_ text: StaticString) {
        text.withUTF8Buffer { raw(UnsafeRawBufferPointer($0)) }
    }

    /// An integer in shortest decimal form (`-` only for negatives).
    mutating func int(_ value: Int64) {
        if value >= 0 && value < 10 {
            byte(UInt8(truncatingIfNeeded: value) &+ 0x30)
            return
        }
        if value < 0 { byte(UInt8(ascii: "-")) }
        var magnitude = value.magnitude
        // Two digits at a time, backwards into scratch space, then one copy.
        var scratch: (UInt64, UInt64, UInt64) = (0, 0, 0)
        withUnsafeMutableBytes(of: &scratch) { buffer in
            ByteCursor.digitPairs.withUTF8Buffer { pairs in
                var i = buffer.count
                while magnitude >= 100 {
                    let pair = Int(truncatingIfNeeded: magnitude % 100) &* 2
                    magnitude /= 100
                    i &-= 2
                    buffer[i] = pairs[pair]
                    buffer[i &+ 1] = pairs[pair &+ 1]
                }
                if magnitude >= 10 {
                    let pair = Int(truncatingIfNeeded: magnitude) &* 2
                    i &-= 2
                    buffer[i] = pairs[pair]
                    buffer[i &+ 1] = pairs[pair &+ 1]
                } else {
                    i &-= 1
                    buffer[i] = UInt8(truncatingIfNeeded: magnitude) &+ 0x30
                }
                raw(UnsafeRawBufferPointer(rebasing: buffer[i...]))
            }
        }
    }

    /// "00" to "99", for writing two digits at once.
    private static let digitPairs: StaticString =
        "00010203040506070809101112131415161718192021222324252627282930313233343536373839404142434445464748495051525354555657585960616263646566676869707172737475767778798081828384858687888990919293949596979899"

    /// A string, quoted and minimally escaped.
    @inline(__always)
    mutating func string(_ value: String) {
        // Native strings (all of them on Linux) lend their bytes without a copy.
        if value.utf8.withContiguousStorageIfAvailable({ string(utf8: UnsafeRawBufferPointer($0)) }) == nil {
            Array(value.utf8).withUnsafeBytes { string(utf8: $0) }
        }
    }

    /// Quoted, minimally escaped UTF-8, as RFC 8785: `\"`, `\\`, `\b \f \n \r \t`, other
    /// U+0000...U+001F as `\u00xx` in lower case; DEL, `/` and non-ASCII as they are.
    mutating func string(utf8 text: UnsafeRawBufferPointer) {
        byte(JSONText.quote)
        let n = text.count
        var runStart = 0
        var i = 0
        while i < n {
            // Most text needs no escape: skip eight clean bytes at a time.
            if i &+ 8 <= n && !SWAR.hasQuoteBackslashOrControl(text.loadUnaligned(fromByteOffset: i, as: UInt64.self)) {
                i &+= 8
                continue
            }
            let b = text[i]
            if b >= 0x20 && b != JSONText.quote && b != JSONText.backslash {
                i &+= 1
                continue
            }
            raw(UnsafeRawBufferPointer(rebasing: text[runStart..<i]))
            escape(b)
            i &+= 1
            runStart = i
        }
        raw(UnsafeRawBufferPointer(rebasing: text[runStart..<n]))
        byte(JSONText.quote)
    }

    private mutating func escape(_ b: UInt8) {
        byte(JSONText.backslash)
        switch b {
        case JSONText.quote, JSONText.backslash: byte(b)
        case 0x08: byte(UInt8(ascii: "b"))
        case 0x0C: byte(UInt8(ascii: "f"))
        case 0x0A: byte(UInt8(ascii: "n"))
        case 0x0D: byte(UInt8(ascii: "r"))
        case 0x09: byte(UInt8(ascii: "t"))
        default:
            literal("u00")
            byte(ByteCursor.lowerHex(b >> 4))
            byte(ByteCursor.lowerHex(b & 0x0F))
        }
    }

    @inline(__always)
    private static func lowerHex(_ nibble: UInt8) -> UInt8 {
        nibble < 10 ? nibble &+ 0x30 : nibble &+ (UInt8(ascii: "a") &- 10)
    }
}
