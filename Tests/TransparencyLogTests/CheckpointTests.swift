import Testing
import TransparencyLog

@Suite("Checkpoints")
struct CheckpointTests {
    static let root = RFC6962.leafHash(Array("root".utf8))

    @Test func textRoundTrip() throws {
        let checkpoint = try Checkpoint(origin: "ledger.example.org/zhejiang", size: 20_852_163, rootHash: Self.root)
        #expect(checkpoint.text == "ledger.example.org/zhejiang\n20852163\n\(Self.root.base64)\n")
        #expect(try Checkpoint(text: checkpoint.text) == checkpoint)
        let empty = try Checkpoint(origin: "o", size: 0, rootHash: RFC6962.emptyRoot)
        #expect(empty.text == "o\n0\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n")
        #expect(try Checkpoint(text: empty.text) == empty)
    }

    @Test func c2spExampleText() throws {
        let text = "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
        let checkpoint = try Checkpoint(text: text)
        #expect(checkpoint.origin == "example.com/behind-the-sofa")
        #expect(checkpoint.size == 20_852_163)
        #expect(checkpoint.rootHash.base64 == "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=")
        #expect(checkpoint.text == text)
    }

    @Test func extensionLinesArePreserved() throws {
        let text = "o\n5\n\(Self.root.base64)\nextension one\n— ext two\n"
        let checkpoint = try Checkpoint(text: text)
        #expect(checkpoint.extensionLines == ["extension one", "— ext two"])
        #expect(checkpoint.text == text)
        #expect(checkpoint.size == 5)
    }

    @Test func largestSize() throws {
        let text = "o\n18446744073709551615\n\(Self.root.base64)\n"
        #expect(try Checkpoint(text: text).size == .max)
    }

    @Test(arguments: [
        ("o\n5\n\(root.base64)", CheckpointError.missingFinalNewline),
        ("", .missingFinalNewline),
        ("o\n5\n", .tooFewLines),
        ("\n5\n\(root.base64)\n", .emptyOrigin),
        ("o\n05\n\(root.base64)\n", .invalidSize),
        ("o\n00\n\(root.base64)\n", .invalidSize),
        ("o\n-1\n\(root.base64)\n", .invalidSize),
        ("o\n+1\n\(root.base64)\n", .invalidSize),
        ("o\n\n\(root.base64)\n", .invalidSize),
        ("o\n 5\n\(root.base64)\n", .invalidSize),
        ("o\n0x5\n\(root.base64)\n", .invalidSize),
        ("o\n18446744073709551616\n\(root.base64)\n", .invalidSize),
        ("o\n5\n\(root.hex)\n", .invalidRootHash),
        ("o\n5\nAAAA\n", .invalidRootHash),
        ("o\n5\n\(root.base64.dropLast())\n", .invalidRootHash),
        ("o\n5\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAB\n", .invalidRootHash),
        ("o\n5\n\(root.base64)\n\n", .emptyExtensionLine),
        ("o\r\n5\n\(root.base64)\n", .invalidCharacter),
    ])
    func rejects(_ text: String, _ error: CheckpointError) {
        #expect(throws: error) { try Checkpoint(text: text) }
    }

    @Test func constructorRejectsMultilineOrigin() {
        #expect(throws: CheckpointError.invalidCharacter) { try Checkpoint(origin: "a\nb", size: 1, rootHash: Self.root) }
        #expect(throws: CheckpointError.emptyOrigin) { try Checkpoint(origin: "", size: 1, rootHash: Self.root) }
        #expect(throws: CheckpointError.emptyExtensionLine) {
            try Checkpoint(origin: "o", size: 1, rootHash: Self.root, extensionLines: [""])
        }
    }

    @Test func signedCheckpointRoundTrip() throws {
        let origin = "ledger.example.org/zhejiang"
        let (skey, vkey) = try NoteSigner.generate(name: origin)
        let signer = try NoteSigner(skey: skey)
        let checkpoint = try Checkpoint(origin: origin, size: 42, rootHash: Self.root)
        let signed = try SignedCheckpoint.sign(checkpoint, signers: [signer])
        #expect(signed.note.hasPrefix(checkpoint.text + "\n— \(origin) "))
        let opened = try SignedCheckpoint.open(signed.note, verifiers: [try NoteVerifier(vkey)])
        #expect(opened == signed)
        #expect(opened.checkpoint.size == 42)

        // A witness cosignature alongside is fine, with or without its key.
        let (witnessSkey, witnessVkey) = try NoteSigner.generate(name: "witness.example/w")
        let cosigned = try SignedCheckpoint.sign(checkpoint, signers: [signer, try NoteSigner(skey: witnessSkey)])
        #expect(try SignedCheckpoint.open(cosigned.note, verifiers: [try NoteVerifier(vkey)]).checkpoint == checkpoint)
        // But the witness alone does not vouch for the log's origin.
        #expect(throws: CheckpointError.notSignedByOrigin(origin: origin)) {
            try SignedCheckpoint.open(cosigned.note, verifiers: [try NoteVerifier(witnessVkey)])
        }
        #expect(throws: CheckpointError.notSignedByOrigin(origin: origin)) {
            try SignedCheckpoint.sign(checkpoint, signers: [try NoteSigner(skey: witnessSkey)])
        }
    }

    @Test func signedGoFormatCheckpointWithGoKey() throws {
        // A key named like the origin signs; tampering with the size is caught.
        let vectors = SignedNoteVectors.shared
        let signer = try NoteSigner(skey: vectors.goSkey)
        let checkpoint = try Checkpoint(origin: "PeterNeumann", size: 7, rootHash: Self.root)
        let signed = try SignedCheckpoint.sign(checkpoint, signers: [signer])
        let forged = signed.note.replacingOccurrences(of: "\n7\n", with: "\n8\n")
        #expect(throws: NoteError.invalidSignature(name: "PeterNeumann", keyID: 0xc74f_20a3)) {
            try SignedCheckpoint.open(forged, verifiers: [signer.verifier])
        }
        // A signed note that is not a checkpoint.
        let notCheckpoint = try SignedNote.sign(text: "hello\n", signers: [signer])
        #expect(throws: CheckpointError.tooFewLines) {
            try SignedCheckpoint.open(notCheckpoint, verifiers: [signer.verifier])
        }
    }
}
