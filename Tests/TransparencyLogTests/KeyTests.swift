import Testing
import TransparencyLog

@Suite("Verifier and signer keys")
struct KeyTests {
    let vectors = SignedNoteVectors.shared

    @Test func goKeyPairParses() throws {
        let verifier = try NoteVerifier(vectors.goVkey)
        #expect(verifier.name == "PeterNeumann")
        #expect(verifier.keyID == 0xc74f_20a3)
        #expect(verifier.publicKey == SignedNoteVectors.hexBytes(vectors.goPublicKeyHex))
        #expect(verifier.vkey == vectors.goVkey)

        let signer = try NoteSigner(skey: vectors.goSkey)
        #expect(signer.name == "PeterNeumann")
        #expect(signer.keyID == 0xc74f_20a3)
        #expect(signer.verifier == verifier)
        #expect(try NoteVerifier(name: "PeterNeumann", publicKey: verifier.publicKey) == verifier)
    }

    @Test func goSignatureIsReproducedByteForByte() throws {
        let signer = try NoteSigner(skey: vectors.goSkey)
        #expect(try SignedNote.sign(text: vectors.goText, signers: [signer]) == vectors.goWant)
        let opened = try SignedNote.open(vectors.goWant, verifiers: [try NoteVerifier(vectors.goVkey)])
        #expect(opened.text == vectors.goText)
        #expect(opened.verified.map(\.vkey) == [vectors.goVkey])
        #expect(opened.unverifiedSignatureCount == 0)
    }

    @Test func listedBadVerifierKeysAreRefused() {
        #expect(vectors.badVkeys.count == 2)
        for (key, comment) in vectors.badVkeys {
            // Go decodes "...BADKEY==" leniently and then finds 36 key bytes;
            // the strict decoder already refuses its non-zero padding bits.
            let expected: [KeyFormatError] = switch comment {
            case "(wrong key length)": [.wrongKeyLength(36), .invalidBase64]
            case "(unknown algorithm)": [.unknownAlgorithm(0x65)]
            default: []
            }
            #expect(!expected.isEmpty, "unexpected comment \(comment)")
            do {
                _ = try NoteVerifier(key)
                Issue.record("accepted \(key)")
            } catch {
                #expect(expected.contains(error), "\(comment): \(error)")
            }
        }
    }

    /// Replacement characters for the mutation loops: all printable ASCII and some awkward others.
    static let replacements: [Character] =
        (0x20...0x7e).map { Character(Unicode.Scalar(UInt8($0))) } + ["\n", "\t", "\0", "\u{a0}", "é", "—", "\u{fffd}"]

    static func mutations(of key: String) -> [String] {
        let chars = Array(key)
        var result: [String] = []
        for position in chars.indices {
            for replacement in replacements where replacement != chars[position] {
                var changed = chars
                changed[position] = replacement
                result.append(String(changed))
            }
        }
        for length in 0..<chars.count { result.append(String(chars.prefix(length))) }
        result.append(key + "=")
        result.append(key + " ")
        result.append(key + "\n")
        return result
    }

    @Test func everySingleByteChangeOrTruncationOfTheVkeyIsRefused() {
        var accepted: [String] = []
        for mutated in Self.mutations(of: vectors.goVkey) {
            if (try? NoteVerifier(mutated)) != nil { accepted.append(mutated) }
        }
        #expect(accepted.isEmpty, "accepted: \(accepted)")
    }

    @Test func everySingleByteChangeOrTruncationOfTheSkeyIsRefused() {
        var accepted: [String] = []
        for mutated in Self.mutations(of: vectors.goSkey) {
            if (try? NoteSigner(skey: mutated)) != nil { accepted.append(mutated) }
        }
        #expect(accepted.isEmpty, "accepted: \(accepted.count)")
    }

    @Test func specificRefusals() {
        let key = "ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
        #expect(throws: KeyFormatError.malformed) { try NoteVerifier("PeterNeumann") }
        #expect(throws: KeyFormatError.malformed) { try NoteVerifier("PeterNeumann+c74f20a3") }
        #expect(throws: KeyFormatError.invalidName) { try NoteVerifier("+c74f20a3+\(key)") }
        #expect(throws: KeyFormatError.invalidName) { try NoteVerifier("Peter Neumann+c74f20a3+\(key)") }
        #expect(throws: KeyFormatError.invalidKeyID) { try NoteVerifier("PeterNeumann+C74F20A3+\(key)") }
        #expect(throws: KeyFormatError.invalidKeyID) { try NoteVerifier("PeterNeumann+c74f20a+\(key)") }
        #expect(throws: KeyFormatError.invalidBase64) { try NoteVerifier("PeterNeumann+c74f20a3+\(key.dropLast())") }
        #expect(throws: KeyFormatError.keyIDMismatch(stated: 0xc74f_20a4, computed: 0xc74f_20a3)) {
            try NoteVerifier("PeterNeumann+c74f20a4+\(key)")
        }
        #expect(throws: KeyFormatError.malformed) {
            try NoteSigner(skey: "PRIVATE+KEYS+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz")
        }
        #expect(throws: KeyFormatError.invalidName) { try NoteVerifier(name: "a+b", publicKey: [UInt8](repeating: 0, count: 32)) }
        #expect(throws: KeyFormatError.wrongKeyLength(31)) { try NoteVerifier(name: "ab", publicKey: [UInt8](repeating: 0, count: 31)) }
        #expect(throws: KeyFormatError.invalidName) { try NoteSigner.generate(name: "has space") }
        #expect(throws: KeyFormatError.invalidName) { try NoteSigner.generate(name: "") }
        #expect(throws: KeyFormatError.invalidName) { try NoteSigner.generate(name: "thin\u{2009}space") }
    }

    @Test func errorDescriptionsCarryNoKeyMaterial() {
        let secretPart = "AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
        for mutated in Self.mutations(of: vectors.goSkey).prefix(2000) {
            do {
                _ = try NoteSigner(skey: mutated)
            } catch {
                #expect(!error.description.contains(secretPart.prefix(8)))
                #expect(!error.description.contains("AYEK"))
            }
        }
    }

    @Test func generatedKeyRoundTrip() throws {
        let (skey, vkey) = try NoteSigner.generate(name: "ledger.example.org/zhejiang")
        #expect(skey.hasPrefix("PRIVATE+KEY+ledger.example.org/zhejiang+"))
        let signer = try NoteSigner(skey: skey)
        let verifier = try NoteVerifier(vkey)
        #expect(signer.verifier == verifier)
        #expect(verifier.vkey == vkey)
        let note = try SignedNote.sign(text: "hello\nworld\n", signers: [signer])
        let opened = try SignedNote.open(note, verifiers: [verifier])
        #expect(opened.text == "hello\nworld\n")
        #expect(opened.verified == [verifier])
        // A second generated key is different and does not verify the first's note.
        let (_, otherVkey) = try NoteSigner.generate(name: "ledger.example.org/zhejiang")
        #expect(otherVkey != vkey)
    }
}
