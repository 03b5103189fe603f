import Testing
import TransparencyLog

@Suite("Ed25519 signing key")
struct SigningKeyTests {
    // RFC 8032 section 7.1, TEST 1 and TEST 2.
    static let seed1 = SignedNoteVectors.hexBytes("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")
    static let public1 = SignedNoteVectors.hexBytes("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a")
    static let signature1 = SignedNoteVectors.hexBytes(
        "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b")
    static let seed2 = SignedNoteVectors.hexBytes("4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb")
    static let signature2 = SignedNoteVectors.hexBytes(
        "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00")

    @Test func rfc8032Vectors() throws {
        let key1 = try SigningKey(seed: Self.seed1)
        #expect(key1.publicKey == Self.public1)
        #expect(key1.sign([]) == Self.signature1)
        #expect(Ed25519.verify(signature: Self.signature1, message: [], publicKey: Self.public1))
        let key2 = try SigningKey(seed: Self.seed2)
        #expect(key2.sign([0x72]) == Self.signature2)
        #expect(Ed25519.verify(signature: Self.signature2, message: [0x72], publicKey: key2.publicKey))
        #expect(!Ed25519.verify(signature: Self.signature2, message: [0x73], publicKey: key2.publicKey))
    }

    @Test func rejectsWrongSeedLength() {
        #expect(throws: KeyFormatError.wrongKeyLength(31)) { try SigningKey(seed: [UInt8](repeating: 1, count: 31)) }
        #expect(throws: KeyFormatError.wrongKeyLength(64)) { try SigningKey(seed: [UInt8](repeating: 1, count: 64)) }
    }

    @Test func verifyRejectsWrongLengths() {
        #expect(!Ed25519.verify(signature: [], message: [], publicKey: Self.public1))
        #expect(!Ed25519.verify(signature: Self.signature1, message: [], publicKey: Array(Self.public1.dropLast())))
    }

    @Test func generatedKeysDiffer() {
        let a = SigningKey.generate(), b = SigningKey.generate()
        #expect(a.publicKey != b.publicKey)
        let signature = a.sign([1, 2, 3])
        #expect(Ed25519.verify(signature: signature, message: [1, 2, 3], publicKey: a.publicKey))
        #expect(!Ed25519.verify(signature: signature, message: [1, 2, 3], publicKey: b.publicKey))
    }

    /// Concurrent signers must not unprotect/reprotect the key under each other.
    @Test func concurrentSigning() async throws {
        let key = try SigningKey(seed: Self.seed1)
        let ok = await withTaskGroup(of: Bool.self) { group in
            for task in 0..<8 {
                group.addTask {
                    var all = true
                    for i in 0..<200 {
                        let message = [UInt8(task), UInt8(i & 0xff)]
                        all = all && Ed25519.verify(signature: key.sign(message), message: message, publicKey: key.publicKey)
                    }
                    return all
                }
            }
            return await group.allSatisfy { $0 }
        }
        #expect(ok)
        #expect(key.sign([]) == Self.signature1)
    }
}
