import Testing
import TransparencyLog

@Suite("Per-entry signatures")
struct EntrySignatureTests {
    static let entry = Array(#"{"count":3,"kind":"readings","time":1790000000,"v":1}"#.utf8)

    @Test func signAndVerify() throws {
        let signer = try NoteSigner(skey: SignedNoteVectors.shared.goSkey)
        let signature = EntrySignature.sign(entry: Self.entry, signer: signer)
        #expect(signature.count == 64)
        #expect(EntrySignature.verify(entry: Self.entry, signature: signature, verifier: signer.verifier))
        #expect(Self.entry.withUnsafeBytes { EntrySignature.verify(entry: $0, signature: signature, verifier: signer.verifier) })
        // It is exactly Ed25519 over context || entry.
        let message = Array(EntrySignature.context.utf8) + Self.entry
        #expect(signer.verifier.verify(message: message, signature: signature))
        #expect(Ed25519.verify(signature: signature, message: message, publicKey: signer.verifier.publicKey))
    }

    @Test func domainSeparation() throws {
        let signer = try NoteSigner(skey: SignedNoteVectors.shared.goSkey)
        let entrySignature = EntrySignature.sign(entry: Self.entry, signer: signer)
        // Not valid as a plain signature of the entry (or of a note text).
        #expect(!signer.verifier.verify(message: Self.entry, signature: entrySignature))
        // A plain signature is not a valid entry signature.
        #expect(!EntrySignature.verify(entry: Self.entry, signature: signer.sign(Self.entry), verifier: signer.verifier))
    }

    @Test func rejectsTampering() throws {
        let signer = try NoteSigner(skey: SignedNoteVectors.shared.goSkey)
        let other = try NoteSigner(skey: try NoteSigner.generate(name: "other").skey)
        let signature = EntrySignature.sign(entry: Self.entry, signer: signer)
        var changed = Self.entry
        changed[10] ^= 1
        #expect(!EntrySignature.verify(entry: changed, signature: signature, verifier: signer.verifier))
        #expect(!EntrySignature.verify(entry: Self.entry, signature: signature, verifier: other.verifier))
        var badSignature = signature
        badSignature[0] ^= 1
        #expect(!EntrySignature.verify(entry: Self.entry, signature: badSignature, verifier: signer.verifier))
        #expect(!EntrySignature.verify(entry: Self.entry, signature: Array(signature.dropLast()), verifier: signer.verifier))
    }

    @Test func emptyAndMaximumEntries() throws {
        let signer = try NoteSigner(skey: SignedNoteVectors.shared.goSkey)
        for entry in [[], [UInt8](repeating: 0x7b, count: 65_535)] {
            let signature = EntrySignature.sign(entry: entry, signer: signer)
            #expect(EntrySignature.verify(entry: entry, signature: signature, verifier: signer.verifier))
        }
    }
}
