import Foundation
import Testing
import TransparencyLog

@Suite("Signed notes")
struct SignedNoteTests {
    let vectors = SignedNoteVectors.shared

    var goVerifier: NoteVerifier { get throws { try NoteVerifier(vectors.goVkey) } }

    @Test func c2spExampleVerifies() throws {
        let verifier = try NoteVerifier(vectors.c2spVkey)
        #expect(verifier.name == "example.com/foo")
        let opened = try SignedNote.open(vectors.c2spNote, verifiers: [verifier])
        #expect(opened.text == "This is an example message.\n")
        #expect(opened.verified == [verifier])
        #expect(try SignedNote.open(Array(vectors.c2spNote.utf8), verifiers: [verifier]) == opened)
    }

    @Test func mangledNotesAreRejected() throws {
        let verifier = try goVerifier
        let want = vectors.goWant
        // Changed text: the known key's signature no longer verifies.
        let changedText = want.replacingOccurrences(of: "cryptography", with: "cryptographY")
        #expect(throws: NoteError.invalidSignature(name: "PeterNeumann", keyID: 0xc74f_20a3)) {
            try SignedNote.open(changedText, verifiers: [verifier])
        }
        // Missing final newline.
        #expect(throws: NoteError.malformedSignatureBlock) {
            try SignedNote.open(String(want.dropLast()), verifiers: [verifier])
        }
        // A trailing blank line moves the split past every signature.
        #expect(throws: NoteError.malformedSignatureBlock) {
            try SignedNote.open(want + "\n", verifiers: [verifier])
        }
        // Missing blank line between text and signatures.
        let noBlank = want.replacingOccurrences(of: "is.\n\n—", with: "is.\n—")
        #expect(throws: NoteError.missingSignatureBlock) {
            try SignedNote.open(noBlank, verifiers: [verifier])
        }
        // Text that does not end in a newline cannot be signed.
        let signer = try NoteSigner(skey: vectors.goSkey)
        #expect(throws: NoteError.textMissingFinalNewline) {
            try SignedNote.sign(text: "no newline", signers: [signer])
        }
        #expect(throws: NoteError.textMissingFinalNewline) {
            try SignedNote.sign(text: "", signers: [signer])
        }
        #expect(throws: NoteError.noSigners) { try SignedNote.sign(text: "x\n", signers: []) }
        #expect(throws: NoteError.invalidCharacter) { try SignedNote.sign(text: "tab\there\n", signers: [signer]) }
    }

    @Test func everyChangedSignatureByteIsRejected() throws {
        let verifier = try goVerifier
        let want = vectors.goWant
        let lineStart = try #require(want.range(of: "— PeterNeumann ")).upperBound
        let encoded = String(want[lineStart...].dropLast())
        let raw = try #require(Base64Helper.decode(encoded))
        #expect(raw.count == 68)
        // Flip every bit of the key ID and signature bytes.
        for byte in 0..<raw.count {
            for bit in 0..<8 {
                var changed = raw
                changed[byte] ^= 1 << bit
                let note = String(want[..<lineStart]) + Base64Helper.encode(changed) + "\n"
                #expect(throws: NoteError.self, "byte \(byte) bit \(bit)") {
                    try SignedNote.open(note, verifiers: [verifier])
                }
            }
        }
        // Every single character of the signature line changed to another base64 character.
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=")
        let chars = Array(encoded)
        for position in chars.indices {
            for replacement in alphabet where replacement != chars[position] {
                var changed = chars
                changed[position] = replacement
                let note = String(want[..<lineStart]) + String(changed) + "\n"
                #expect(throws: NoteError.self) { try SignedNote.open(note, verifiers: [verifier]) }
            }
        }
    }

    @Test func unknownKeysAreIgnoredButNeverEnough() throws {
        let (otherSkey, otherVkey) = try NoteSigner.generate(name: "witness.example/w1")
        let other = try NoteSigner(skey: otherSkey)
        let signer = try NoteSigner(skey: vectors.goSkey)
        let both = try SignedNote.sign(text: vectors.goText, signers: [signer, other])

        let opened = try SignedNote.open(both, verifiers: [try goVerifier])
        #expect(opened.verified.map(\.name) == ["PeterNeumann"])
        #expect(opened.unverifiedSignatureCount == 1)
        #expect(opened.unverified.first?.name == "witness.example/w1")

        let bothVerified = try SignedNote.open(both, verifiers: [try goVerifier, try NoteVerifier(otherVkey)])
        #expect(bothVerified.verified.count == 2)

        do {
            _ = try SignedNote.open(vectors.goWant, verifiers: [try NoteVerifier(otherVkey)])
            Issue.record("a note with no known signature opened")
        } catch let NoteError.unverified(note) {
            #expect(note.text == vectors.goText)
            #expect(note.unverifiedSignatureCount == 1)
            #expect(note.verified.isEmpty)
        }
        #expect(throws: NoteError.self) { try SignedNote.open(vectors.goWant, verifiers: []) }
    }

    @Test func readingANoteChecksNoSignatureAndListsEveryLine() throws {
        let read = try SignedNote.read(vectors.goWant)
        #expect(read.text == vectors.goText)
        #expect(read.verified.isEmpty && read.unverified.map(\.name) == ["PeterNeumann"])
        // A forged signature is read, not judged; a note with no signature block is still refused.
        var forged = Array(vectors.goWant.utf8)
        forged[forged.count - 3] = forged[forged.count - 3] == UInt8(ascii: "A") ? UInt8(ascii: "B") : UInt8(ascii: "A")
        #expect(try SignedNote.read(String(decoding: forged, as: UTF8.self)).unverified.count == 1)
        #expect(throws: NoteError.self) { try SignedNote.read(vectors.goText) }
    }

    @Test func sameNameDifferentIDIsAnUnknownKey() throws {
        // C2SP: ignore signatures sharing only the name (or only the ID) with a known key.
        let (_, impostorVkey) = try NoteSigner.generate(name: "PeterNeumann")
        let impostor = try NoteVerifier(impostorVkey)
        #expect(throws: NoteError.self) { try SignedNote.open(vectors.goWant, verifiers: [impostor]) }
        let opened = try SignedNote.open(vectors.goWant, verifiers: [impostor, try goVerifier])
        #expect(opened.verified.map(\.keyID) == [0xc74f_20a3])
    }

    @Test func duplicatesCountOnce() throws {
        let line = String(vectors.goWant.split(separator: "\n").last!) + "\n"
        let doubled = vectors.goWant + line
        let opened = try SignedNote.open(doubled, verifiers: [try goVerifier])
        #expect(opened.verified.count == 1)
        // Identical verifiers given twice are not ambiguous.
        #expect(try SignedNote.open(vectors.goWant, verifiers: [try goVerifier, try goVerifier]).verified.count == 1)
        let unknown = try SignedNote.open(doubled, verifiers: [try NoteVerifier(vectors.c2spVkey), try goVerifier])
        #expect(unknown.unverifiedSignatureCount == 0)
    }

    @Test func signatureLimit() throws {
        let verifier = try goVerifier
        let unknownLine = "— someone AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n"
        let lines = vectors.goWant.split(separator: "\n", omittingEmptySubsequences: false)
        let good = String(lines[lines.count - 2]) + "\n"
        let atLimit = vectors.goText + "\n" + String(repeating: unknownLine, count: SignedNote.maxSignatures - 1) + good
        #expect(try SignedNote.open(atLimit, verifiers: [verifier]).verified.count == 1)
        let overLimit = vectors.goText + "\n" + String(repeating: unknownLine, count: SignedNote.maxSignatures) + good
        #expect(throws: NoteError.tooManySignatures) { try SignedNote.open(overLimit, verifiers: [verifier]) }
    }

    @Test(arguments: [
        "- PeterNeumann x08go/ZJ\n",  // hyphen, not em dash
        "—PeterNeumann x08go/ZJ\n",  // no space after the dash
        "— PeterNeumann\n",  // no signature
        "— PeterNeumann \n",  // empty signature
        "— PeterNeumann x08g\n",  // shorter than key ID + 1 byte
        "— PeterNeumann x08go/ZJ extra\n",  // trailing field
        "— Peter+Neumann x08go/ZJ\n",  // '+' in name
        "—  x08go/ZJ\n",  // empty name
        "— PeterNeumann x08go/ZJ=\n",  // bad base64
        "— \n",  // nothing after the dash
        " — PeterNeumann x08go/ZJ\n",  // leading space
    ])
    func malformedSignatureLines(_ line: String) throws {
        let note = vectors.goWant + line
        #expect(throws: NoteError.malformedSignatureLine(line: 2)) {
            try SignedNote.open(note, verifiers: [try goVerifier])
        }
    }

    @Test func forbiddenCharacters() throws {
        let verifier = try goVerifier
        let withCR = vectors.goWant.replacingOccurrences(of: "problem,\n", with: "problem,\r\n")
        #expect(throws: NoteError.invalidCharacter) { try SignedNote.open(withCR, verifiers: [verifier]) }
        var bytes = Array(vectors.goWant.utf8)
        bytes[3] = 0xFF
        #expect(throws: NoteError.invalidCharacter) { try SignedNote.open(bytes, verifiers: [verifier]) }
    }

    @Test func textMayContainBlankLines() throws {
        let signer = try NoteSigner(skey: vectors.goSkey)
        for text in ["a\n\nb\n", "a\n\n", "\n", "line\n\n\n"] {
            let note = try SignedNote.sign(text: text, signers: [signer])
            #expect(try SignedNote.open(note, verifiers: [signer.verifier]).text == text)
        }
    }
}

/// Independent (Foundation) base64, so the tests do not check the library with itself.
enum Base64Helper {
    static func decode(_ text: String) -> [UInt8]? {
        guard let data = Foundation.Data(base64Encoded: text) else { return nil }
        return Array(data)
    }

    static func encode(_ bytes: [UInt8]) -> String {
        Foundation.Data(bytes).base64EncodedString()
    }
}
