import Testing
import TransparencyLog

@Suite("Witness policies (C2SP tlog-policy)")
struct WitnessPolicyTests {
    /// Fresh witness keys under `names`.
    private func witnesses(_ names: [String]) throws -> [WitnessVerifier] {
        try names.map { name in WitnessSigner(try NoteSigner(skey: try NoteSigner.generate(name: name).skey)).verifier }
    }

    @Test func theSpecificationsExampleQuorumNeedsTwoXsAndOneY() throws {
        let keys = try witnesses(["x1", "x2", "x3", "y1", "y2", "y3"])
        let log = try NoteVerifier(try NoteSigner.generate(name: "example.org/log").vkey)
        let policy = try WitnessPolicy(parsing: """
            # The example of tlog-policy, with keys.
            log \(log.vkey) https://example.org/log
            witness X1 \(keys[0].vkey)
            witness X2 \(keys[1].vkey)\thttps://x2.example/
              witness X3 \(keys[2].vkey)
            group X-witnesses 2 X1 X2 X3
            witness Y1 \(keys[3].vkey)
            witness Y2 \(keys[4].vkey)
            witness Y3 \(keys[5].vkey)
            group Y-witnesses any Y1 Y2 Y3
            group X-and-Y all X-witnesses Y-witnesses
            quorum X-and-Y

            """)
        #expect(policy.logs.map(\.verifier) == [log])
        #expect(policy.witnesses.map(\.name) == ["X1", "X2", "X3", "Y1", "Y2", "Y3"])
        #expect(policy.witnesses[1].url == "https://x2.example/")
        #expect(policy.isMet(byWitnessesNamed: ["X1", "X3", "Y2"]))
        #expect(policy.isMet(byWitnessesNamed: ["X1", "X2", "X3", "Y1", "Y2", "Y3"]))
        #expect(!policy.isMet(byWitnessesNamed: ["X1", "Y1", "Y2", "Y3"]))
        #expect(!policy.isMet(byWitnessesNamed: ["X1", "X2"]))
        #expect(!policy.isMet(byWitnessesNamed: []))
        #expect(policy.quorumDescription == "2 of (2 of (X1, X2, X3), 1 of (Y1, Y2, Y3))")
    }

    @Test func quorumNoneNeedsNoCosignature() throws {
        let policy = try WitnessPolicy(parsing: "quorum none\n")
        #expect(policy.requiresNoCosignature)
        #expect(policy.isMet(byWitnessesNamed: []))
    }

    @Test func namesAreOctetsNotUnicodeText() throws {
        let keys = try witnesses(["a", "b"])
        // U+212A KELVIN SIGN is canonically equivalent to "K": Swift's == calls them equal, the format does not.
        let policy = try WitnessPolicy(parsing: "witness K \(keys[0].vkey)\nwitness \u{212A} \(keys[1].vkey)\nquorum \u{212A}\n")
        #expect(policy.isMet(byWitnessesNamed: ["\u{212A}"]))
        #expect(!policy.isMet(byWitnessesNamed: ["K"]))
    }

    @Test func theShorthandIsKOfTheGivenWitnesses() throws {
        let keys = try witnesses(["a", "b", "c"])
        let policy = try WitnessPolicy(witnesses: keys, minimum: 2)
        #expect(policy.isMet(byWitnessesNamed: ["a", "c"]))
        #expect(!policy.isMet(byWitnessesNamed: ["b"]))
        #expect(throws: PolicyError.self) { try WitnessPolicy(witnesses: keys, minimum: 4) }
        #expect(throws: PolicyError.self) { try WitnessPolicy(witnesses: keys, minimum: -1) }
        #expect(throws: PolicyError.self) { try WitnessPolicy(witnesses: [keys[0], keys[0]], minimum: 1) }
        #expect(try WitnessPolicy(witnesses: keys, minimum: 0).requiresNoCosignature)
    }

    @Test func cosignersAreTheWitnessesWhoseCosignatureVerifies() throws {
        let signers = try ["w1", "w2", "w3"].map { WitnessSigner(try NoteSigner(skey: try NoteSigner.generate(name: $0).skey)) }
        let policy = try WitnessPolicy(witnesses: signers.map(\.verifier), minimum: 2)
        let text = "example.org/log\n3\n\(Hash256.zero.base64)\n"
        var note = text + "\n" + signers[0].cosign(checkpointText: text, time: 7)
        // w3's line is a cosignature of another text: it does not count.
        note += signers[2].cosign(checkpointText: "example.org/log\n4\n\(Hash256.zero.base64)\n", time: 8)
        let cosigners = policy.cosigners(of: text, among: try SignedNote.read(note).unverified)
        #expect(cosigners.map(\.witness.name) == ["w1"] && cosigners.map(\.time) == [7])
        #expect(!policy.isMet(byWitnessesNamed: cosigners.map(\.witness.name)))
    }

    @Test(arguments: [
        ("", 0, "no quorum line"),
        ("quorum none\nquorum none\n", 2, "exactly one quorum"),
        ("quorum w\n", 1, "not a witness or group defined above"),
        ("group g any\nquorum g\n", 1, "expected: group"),
        ("frobnicate\nquorum none\n", 1, "unknown line frobnicate"),
        ("log nope\nquorum none\n", 1, "the log key"),
        ("witness w\nquorum none\n", 1, "expected: witness"),
        ("quorum none\n\u{7}\n", 2, "control character"),
        ("witness none KEY0\nquorum none\n", 1, "is defined already"),
    ])
    func aMalformedPolicyIsRefusedNamingTheLine(text: String, line: Int, message: String) throws {
        let key = try witnesses(["a"])[0].vkey
        let error = #expect(throws: PolicyError.self) {
            try WitnessPolicy(parsing: text.replacingOccurrences(of: "KEY0", with: key))
        }
        #expect(error?.line == line)
        #expect(error?.description.contains(message) == true, "\(String(describing: error))")
    }

    @Test func groupsAndKeysAreCheckedAsTheFormatRequires() throws {
        let keys = try witnesses(["a", "b"])
        let a = "witness A \(keys[0].vkey)\n"
        let b = "witness B \(keys[1].vkey)\n"
        let cases: [(String, String)] = [
            (a + b + "group G 3 A B\nquorum G\n", "1 <= k <= 2"),
            (a + b + "group G 0 A B\nquorum G\n", "1 <= k <= 2"),
            (a + b + "group G +1 A B\nquorum G\n", "1 <= k <= 2"),
            (a + b + "group G 99999999999999999999999 A B\nquorum G\n", "1 <= k <= 2"),
            (a + b + "group G any A A\nquorum G\n", "more than once"),
            (a + b + "group G any A none\nquorum G\n", "not a witness or group"),
            (a + "group G any A C\nwitness C \(keys[1].vkey)\nquorum G\n", "not a witness or group"),
            (a + "witness A2 \(keys[0].vkey)\nquorum A\n", "listed already"),
            (a + "witness A \(keys[1].vkey)\nquorum A\n", "defined already"),
            // A witness key must be the cosignature type; a plain Ed25519 key is not one.
            ("witness A \(try NoteSigner.generate(name: "a").vkey)\nquorum A\n", "the witness key"),
        ]
        for (text, message) in cases {
            let error = #expect(throws: PolicyError.self) { try WitnessPolicy(parsing: text) }
            #expect(error?.description.contains(message) == true, "\(text): \(String(describing: error))")
        }
    }
}
