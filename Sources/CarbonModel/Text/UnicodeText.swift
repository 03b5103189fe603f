import Foundation

/// Unicode normalization, for the rare names that are not ASCII.
enum UnicodeText {
    /// Whether valid UTF-8 `text` is already in normalization form C.
    static func isNFC(_ text: UnsafeRawBufferPointer) -> Bool {
        let string = String(decoding: text, as: UTF8.self)
        return string.precomposedStringWithCanonicalMapping.utf8.elementsEqual(text)
    }
}
