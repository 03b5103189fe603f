import Foundation
import Testing
import TransparencyLog

/// The vectors of transparency-dev/formats' cosignature/v1 tests (Vectors/cosignature-v1.txt).
private struct CosignatureVectors {
    var goodKeys: [String] = []
    var badKeys: [String] = []
    var times: [(base64: String, time: UInt64)] = []
    var timeless: [String] = []
    var texts: [String] = []

    static let shared: CosignatureVectors = {
        var vectors = CosignatureVectors()
        let text = (try? VectorFiles.text("cosignature-v1.txt")) ?? ""
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            let fields = line.split(separator: "\t").map(String.init)
            switch fields[0] {
            case "vkey-ok": vectors.goodKeys.append(fields[1])
            case "vkey-bad": vectors.badKeys.append(fields[1])
            case "time": vectors.times.append((fields[1], UInt64(fields[2])!))
            case "time-none": vectors.timeless.append(fields[1])
            case "text": vectors.texts.append(fields[1].replacingOccurrences(of: "\\n", with: "\n"))
            default: Issue.record("unknown vector kind \(fields[0])")
            }
        }
        return vectors
    }()
}

@Suite("Witness cosignatures (C2SP tlog-cosignature, cosignature/v1)")
struct CosignatureTests {
    private let vectors = CosignatureVectors.shared

    @Test func theIndependentImplementationsKeysParseOrAreRefusedAsItDoes() throws {
        #expect(vectors.goodKeys.count == 2 && vectors.badKeys.count == 5)
        for key in vectors.goodKeys {
            let verifier = try WitnessVerifier(key)
            // A native key spells itself back; a plain key becomes the type-0x04 key of the same public key.
            if key.hasPrefix("remora") { #expect(verifier.vkey == key) }
            #expect(try WitnessVerifier(verifier.vkey) == verifier)
        }
        for key in vectors.badKeys {
            #expect(throws: KeyFormatError.self, "\(key)") { try WitnessVerifier(key) }
        }
    }

    @Test func aCosignaturesTimeIsReadAsTheIndependentImplementationReadsIt() {
        #expect(vectors.times.count == 1 && vectors.timeless.count == 2)
        for (base64, time) in vectors.times { #expect(Cosignature.claimedTime(base64) == time) }
        for base64 in vectors.timeless { #expect(Cosignature.claimedTime(base64) == nil) }
    }

    @Test func aCosignatureVerifiesAndCoversEveryLineOfTheText() throws {
        let (skey, _) = try NoteSigner.generate(name: "witness.example/w1")
        let witness = WitnessSigner(try NoteSigner(skey: skey))
        for text in vectors.texts {
            let line = witness.cosign(checkpointText: text, time: 1_727_964_367)
            let note = text + "\n" + line
            let opened = try SignedNote.read(note).unverified
            #expect(witness.verifier.cosignatureTime(of: text, among: opened) == 1_727_964_367)
            // One byte of the text changed (the extension line too): the cosignature no longer verifies.
            var changed = Array(text.utf8)
            changed[changed.count - 2] = UInt8(ascii: "@")
            #expect(witness.verifier.cosignatureTime(of: String(decoding: changed, as: UTF8.self), among: opened) == nil)
        }
    }

    @Test func aCosignatureIsNotAPlainSignatureNorTheOtherWay() throws {
        let (skey, vkey) = try NoteSigner.generate(name: "witness.example/w1")
        let signer = try NoteSigner(skey: skey)
        let witness = WitnessSigner(signer)
        let text = vectors.texts[0]
        // The same Ed25519 key has two key IDs: a plain verifier does not take the cosignature line.
        #expect(witness.verifier.keyID != signer.keyID)
        #expect(try WitnessVerifier(vkey) == witness.verifier)
        let cosigned = text + "\n" + witness.cosign(checkpointText: text, time: 5)
        #expect(throws: NoteError.self) { try SignedNote.open(cosigned, verifiers: [signer.verifier]) }
        // A plain signature carried under the witness's name and ID is not a cosignature.
        let plain = try SignedNote.sign(text: text, signers: [signer])
        #expect(witness.verifier.cosignatureTime(of: text, among: try SignedNote.read(plain).unverified) == nil)
    }

    @Test func aTimePastTwoToTheSixtyThirdIsRefused() throws {
        let (skey, _) = try NoteSigner.generate(name: "w")
        let witness = WitnessSigner(try NoteSigner(skey: skey))
        let text = vectors.texts[0]
        let line = witness.cosign(checkpointText: text, time: UInt64(Int64.max) + 1)
        #expect(witness.verifier.cosignatureTime(of: text, among: try SignedNote.read(text + "\n" + line).unverified) == nil)
        let edge = witness.cosign(checkpointText: text, time: UInt64(Int64.max))
        #expect(witness.verifier.cosignatureTime(of: text, among: try SignedNote.read(text + "\n" + edge).unverified) == UInt64(Int64.max))
    }
}
