import Testing
@testable import TransparencyLog

@Suite("Hash256, SHA-256 and base64")
struct HashTests {
    @Test func hash256IsInline32Bytes() {
        #expect(MemoryLayout<Hash256>.size == 32)
        #expect(MemoryLayout<Hash256>.stride == 32)
    }

    @Test func sha256KnownAnswers() {
        #expect(SHA256.hash([]).hex == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(SHA256.hash(Array("abc".utf8)).hex == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        let twoBlocks = Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8)
        #expect(SHA256.hash(twoBlocks).hex == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
    }

    @Test func roundTrips() throws {
        let bytes = (0..<32).map { UInt8($0 * 7 + 1) }
        let hash = try #require(Hash256(bytes: bytes))
        #expect(hash.bytes == bytes)
        #expect(Hash256(base64: hash.base64) == hash)
        #expect(Hash256(hex: hash.hex) == hash)
        #expect(Hash256(hex: hash.hex.uppercased()) == hash)
        #expect(hash.withUnsafeBytes { Array($0) } == bytes)
        #expect(hash.description == hash.hex)
        #expect(Hash256.zero.bytes == [UInt8](repeating: 0, count: 32))
        #expect(Set([hash, hash, .zero]).count == 2)
    }

    @Test func rejectsWrongLengths() {
        #expect(Hash256(bytes: [UInt8](repeating: 1, count: 31)) == nil)
        #expect(Hash256(bytes: [UInt8](repeating: 1, count: 33)) == nil)
        #expect(Hash256(bytes: []) == nil)
        #expect(Hash256(base64: "") == nil)
        #expect(Hash256(base64: "ZG9uJ3QgY2FyZSAy") == nil)
        #expect(Hash256(hex: "00") == nil)
        #expect(Hash256(hex: String(repeating: "g", count: 64)) == nil)
    }

    @Test func base64RFC4648Vectors() {
        let cases = ["": "", "f": "Zg==", "fo": "Zm8=", "foo": "Zm9v", "foob": "Zm9vYg==", "fooba": "Zm9vYmE=", "foobar": "Zm9vYmFy"]
        for (plain, encoded) in cases {
            #expect(Base64.encode(Array(plain.utf8)) == encoded)
            #expect(Base64.decode(encoded) == Array(plain.utf8))
        }
    }

    @Test(arguments: ["Zg=", "Zg", "Z===", "Zh==", "Zm9=", "Zm9v\n", " Zm9v", "=Zm9", "Zm=v", "Zg==Zg==", "Zm9v====", "Zm9-", "Zm9_"])
    func base64RejectsNonCanonical(_ text: String) {
        #expect(Base64.decode(text) == nil)
    }

    @Test func base64AllLengthsRoundTrip() {
        for length in 0..<70 {
            let bytes = (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) }
            #expect(Base64.decode(Base64.encode(bytes)) == bytes)
        }
    }
}
