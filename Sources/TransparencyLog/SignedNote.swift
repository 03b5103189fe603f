/// C2SP signed-note v1.0.0 signing and opening, with the semantics of Go's golang.org/x/mod/sumdb/note.
public enum SignedNote {
    /// Most signature lines accepted (Go's limit; C2SP requires at least 16).
    public static let maxSignatures = 100

    // "— " (U+2014 EM DASH, space) starts every signature line.
    private static let signaturePrefix: [UInt8] = Array("— ".utf8)

    /// Signs `text` (non-empty, ending in a newline) with every signer, in order.
    public static func sign(text: String, signers: [NoteSigner]) throws(NoteError) -> String {
        guard text.utf8.last == UInt8(ascii: "\n") else { throw .textMissingFinalNewline }
        guard !signers.isEmpty else { throw .noSigners }
        // Refuse what open would refuse, so a signed note always opens.
        guard !text.utf8.contains(where: isForbiddenControl) else { throw .invalidCharacter }

        var note = text
        note += "\n"
        var text = text
        text.withUTF8 { message in
            for signer in signers {
                var blob = withUnsafeBytes(of: signer.keyID.bigEndian) { Array($0) }
                blob += signer.sign(UnsafeRawBufferPointer(message))
                note += "— \(signer.name) \(Base64.encode(blob))\n"
            }
        }
        return note
    }

    /// Parses `note` without checking any signature: its text, and every signature line
    /// (deduplicated) as `unverified`. For a reader that learns the keys from the note
    /// itself, or checks other signatures than the log's (a witness's cosignatures).
    public static func read(_ note: String) throws(NoteError) -> OpenedNote {
        do throws(NoteError) {
            return try open(note, verifiers: [])
        } catch .unverified(let opened) {
            return opened
        }
    }

    /// Opens a note received as bytes, refusing invalid UTF-8.
    public static func open(_ note: [UInt8], verifiers: [NoteVerifier]) throws(NoteError) -> OpenedNote {
        guard let text = String(validating: note, as: UTF8.self) else { throw .invalidCharacter }
        return try open(text, verifiers: verifiers)
    }

    /// Parses `note` and verifies every signature from a known key, as Go's note.Open does.
    ///
    /// - Signatures from unknown keys (name or ID not matching) are recorded, not checked.
    /// - A known key's bad signature throws `.invalidSignature`: the note is not trustworthy.
    /// - No verified signature throws `.unverified`.
    /// - Repeated signatures by one key, or identical unknown lines, count once.
    public static func open(_ note: String, verifiers: [NoteVerifier]) throws(NoteError) -> OpenedNote {
        let known = try index(verifiers)
        var note = note
        // withUTF8 is rethrows, not typed-throws; carry the error out in a Result.
        let result = note.withUTF8 { bytes in
            Result { () throws(NoteError) in try open(bytes, known: known) }
        }
        return try result.get()
    }

    private struct KeyRef: Hashable {
        let name: String
        let keyID: UInt32
    }

    /// Indexes verifiers by (name, key ID); identical duplicates are harmless, different keys are not.
    private static func index(_ verifiers: [NoteVerifier]) throws(NoteError) -> [KeyRef: NoteVerifier] {
        var known: [KeyRef: NoteVerifier] = [:]
        for verifier in verifiers {
            let ref = KeyRef(name: verifier.name, keyID: verifier.keyID)
            if let existing = known[ref], existing != verifier {
                throw .ambiguousVerifier(name: verifier.name, keyID: verifier.keyID)
            }
            known[ref] = verifier
        }
        return known
    }

    private static func open(_ bytes: UnsafeBufferPointer<UInt8>, known: [KeyRef: NoteVerifier]) throws(NoteError) -> OpenedNote {
        guard !bytes.contains(where: isForbiddenControl) else { throw .invalidCharacter }
        // The text ends at the last blank line; it keeps its final newline.
        guard let split = lastBlankLine(bytes) else { throw .missingSignatureBlock }
        let text = UnsafeBufferPointer(rebasing: bytes[..<(split + 1)])
        let block = bytes[(split + 2)...]
        guard block.last == UInt8(ascii: "\n") else { throw .malformedSignatureBlock }

        var verified: [NoteVerifier] = []
        var unverified: [NoteSignature] = []
        var seenKnown: Set<KeyRef> = []
        var seenUnknownLines: Set<String> = []
        var lineNumber = 0
        var rest = block
        while let newline = rest.firstIndex(of: UInt8(ascii: "\n")) {
            let line = rest[rest.startIndex..<newline]
            rest = rest[(newline + 1)...]
            lineNumber += 1
            guard lineNumber <= maxSignatures else { throw .tooManySignatures }
            guard let (ref, encoded, signature) = parseSignatureLine(line) else {
                throw .malformedSignatureLine(line: lineNumber)
            }
            guard let verifier = known[ref] else {
                let lineText = String(decoding: line, as: UTF8.self)
                if seenUnknownLines.insert(lineText).inserted {
                    unverified.append(NoteSignature(name: ref.name, keyID: ref.keyID, base64: encoded))
                }
                continue
            }
            // Go verifies only the first signature per key and skips repeats.
            guard seenKnown.insert(ref).inserted else { continue }
            guard verifier.verify(message: UnsafeRawBufferPointer(text), signature: signature) else {
                throw .invalidSignature(name: ref.name, keyID: ref.keyID)
            }
            verified.append(verifier)
        }
        let opened = OpenedNote(text: String(decoding: text, as: UTF8.self), verified: verified, unverified: unverified)
        guard !verified.isEmpty else { throw .unverified(opened) }
        return opened
    }

    /// Parses `— <name> <base64(key ID || signature)>`; nil if malformed.
    private static func parseSignatureLine(_ line: Slice<UnsafeBufferPointer<UInt8>>) -> (KeyRef, String, [UInt8])? {
        guard line.starts(with: signaturePrefix) else { return nil }
        let body = line.dropFirst(signaturePrefix.count)
        // Go cuts at the first space: anything after it must be base64.
        guard let space = body.firstIndex(of: UInt8(ascii: " ")) else { return nil }
        let name = String(decoding: body[..<space], as: UTF8.self)
        let encodedBytes = body[(space + 1)...]
        guard NoteKey.isValidName(name), !encodedBytes.isEmpty,
              let raw = Base64.decode(encodedBytes), raw.count >= 5
        else { return nil }
        let keyID = raw[0..<4].reduce(0) { $0 << 8 | UInt32($1) }
        return (KeyRef(name: name, keyID: keyID), String(decoding: encodedBytes, as: UTF8.self), Array(raw[4...]))
    }

    /// Index of the first newline of the last "\n\n" in `bytes`.
    private static func lastBlankLine(_ bytes: UnsafeBufferPointer<UInt8>) -> Int? {
        var i = bytes.count - 2
        while i >= 0 {
            if bytes[i] == UInt8(ascii: "\n") && bytes[i + 1] == UInt8(ascii: "\n") { return i }
            i -= 1
        }
        return nil
    }

    /// ASCII control characters other than newline are forbidden in notes.
    private static func isForbiddenControl(_ byte: UInt8) -> Bool {
        byte < 0x20 && byte != UInt8(ascii: "\n")
    }
}
