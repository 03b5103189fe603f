/// The rules every identifier from outside follows, whatever record carries it: the
/// same bytes that readings and consumer rows are checked with, so one id has one
/// spelling in SQLite, in Swift and in the ledger's leaves.
public enum Identifier {
    /// Why `text` cannot be a name (a consumer, meter, certificate or utility id), or
    /// nil: 1 to 128 bytes of NFC text without control characters, '/' or edge spaces.
    public static func nameProblem(_ text: String) -> String? {
        var text = text
        return text.withUTF8 { FieldReader.nameProblem(UnsafeRawBufferPointer($0))?.phrase }
    }

    /// Why `text` cannot be a reference (free text such as an issuer or technology),
    /// or nil: 1 to 128 bytes without control characters.
    public static func referenceProblem(_ text: String) -> String? {
        var text = text
        return text.withUTF8 { FieldReader.textProblem(UnsafeRawBufferPointer($0))?.phrase }
    }
}
