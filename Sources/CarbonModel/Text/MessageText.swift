/// How values are shown inside error messages: quoted like JSON (so control characters
/// and spaces are visible) and cut short so one bad record cannot make a huge message.
enum MessageText {
    /// Longest excerpt of a value shown in a message, in bytes.
    static let maximumExcerpt = 64

    /// `text` as a quoted JSON string, cut at `maximumExcerpt` bytes with `…`.
    static func quoted(_ text: String) -> String {
        var text = text
        return text.withUTF8 { quoted(UnsafeRawBufferPointer($0)) }
    }

    /// UTF-8 `text` as a quoted JSON string, cut at `maximumExcerpt` bytes with `…`.
    static func quoted(_ text: UnsafeRawBufferPointer) -> String {
        let cut = cutPoint(text)
        var out: [UInt8] = []
        JSONText.appendString(utf8: UnsafeRawBufferPointer(rebasing: text[..<cut]), to: &out)
        if cut < text.count {
            out.removeLast()
            out.append(contentsOf: "…\"".utf8)
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// UTF-8 `text` as it is (a number token), cut at `maximumExcerpt` bytes with `…`.
    static func excerpt(_ text: UnsafeRawBufferPointer) -> String {
        let cut = cutPoint(text)
        let shown = String(decoding: UnsafeRawBufferPointer(rebasing: text[..<cut]), as: UTF8.self)
        return cut < text.count ? shown + "…" : shown
    }

    /// Where to cut `text`: at most `maximumExcerpt` bytes, never inside a character.
    private static func cutPoint(_ text: UnsafeRawBufferPointer) -> Int {
        guard text.count > maximumExcerpt else { return text.count }
        var cut = maximumExcerpt
        while cut > 0 && text[cut] & 0xC0 == 0x80 { cut -= 1 }
        return cut
    }

    /// Two uppercase hex digits, as in `U+001F` (messages only; canonical JSON escapes
    /// are lower case).
    static func hex(_ b: UInt8) -> String {
        let digits = Array("0123456789ABCDEF".utf8)
        return String(decoding: [digits[Int(b >> 4)], digits[Int(b & 0x0F)]], as: UTF8.self)
    }

    /// A field name from the body as an error's `field`: cut at `FieldReader.maximumTextBytes`
    /// so that a huge unknown key cannot make a huge answer.
    static func fieldName(_ name: String) -> String {
        guard name.utf8.count > FieldReader.maximumTextBytes else { return name }
        var cut = FieldReader.maximumTextBytes
        let utf8 = Array(name.utf8)
        while cut > 0 && utf8[cut] & 0xC0 == 0x80 { cut -= 1 }
        return String(decoding: utf8[..<cut], as: UTF8.self)
    }
}
