/// A C2SP tlog-policy: the logs a verifier accepts, the witnesses it knows, and the
/// quorum of witnesses (groups of k of n, nested) whose cosignatures make a
/// checkpoint valid.
///
/// Names are compared as octet strings, as the format requires: a name spelled with
/// a Kelvin sign is not the name spelled with a capital K, although Swift's `String`
/// would call them equal.
public struct WitnessPolicy: Sendable {
    /// A witness: its name in the policy, its key, and its submission prefix if given.
    public struct Witness: Sendable {
        /// The name the policy's groups and quorum use (not necessarily the key's name).
        public let name: String
        /// The witness's cosignature/v1 key.
        public let verifier: WitnessVerifier
        /// Where it takes `add-checkpoint` requests, if the policy says.
        public let url: String?
    }

    /// A log: its key (named like its origin) and its URL if given.
    public struct Log: Sendable {
        public let verifier: NoteVerifier
        public let url: String?
    }

    /// A group or the quorum: at least `threshold` of `members` (indexes into the
    /// policy's `nodes`) must have witnessed.
    struct Group: Sendable {
        let threshold: Int
        let members: [Int]
    }

    /// What a name stands for, in definition order: a witness or a group.
    enum Node: Sendable {
        case witness(Int)
        case group(Group)
    }

    /// The accepted logs.
    public let logs: [Log]
    /// The known witnesses.
    public let witnesses: [Witness]
    private let nodes: [Node]
    /// The node the quorum names; nil: `quorum none`.
    private let quorum: Int?

    /// Whether the policy asks for no cosignature at all (`quorum none`).
    public var requiresNoCosignature: Bool { quorum == nil }

    /// "k of these witnesses", the policy `carbonctl --witness KEY --min-witnesses N` stands for.
    public init(witnesses verifiers: [WitnessVerifier], minimum: Int) throws(PolicyError) {
        guard minimum >= 0, minimum <= verifiers.count else {
            throw PolicyError(line: 0, "at least \(minimum) witnesses are required, but \(verifiers.count) are known")
        }
        var seen: Set<[UInt8]> = []
        for verifier in verifiers where !seen.insert(verifier.publicKey).inserted {
            throw PolicyError(line: 0, "witness \(verifier.vkey) is given twice")
        }
        logs = []
        witnesses = verifiers.map { Witness(name: $0.name, verifier: $0, url: nil) }
        var nodes = verifiers.indices.map(Node.witness)
        if minimum == 0 {
            quorum = nil
        } else {
            nodes.append(.group(Group(threshold: minimum, members: Array(verifiers.indices))))
            quorum = nodes.count - 1
        }
        self.nodes = nodes
    }

    /// Parses a policy file's text.
    public init(parsing text: String) throws(PolicyError) {
        var parser = PolicyParser()
        for (number, line) in text.utf8.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).enumerated() {
            try parser.take(Array(line), number: number + 1)
        }
        guard let quorum = parser.quorum else { throw PolicyError(line: 0, "the policy has no quorum line") }
        logs = parser.logs
        witnesses = parser.witnesses
        nodes = parser.nodes
        self.quorum = quorum
    }

    /// The witnesses among `signatures` (a note's lines from keys its log does not
    /// know) whose cosignature of `checkpointText` verifies, with its time.
    public func cosigners(of checkpointText: String, among signatures: [NoteSignature]) -> [(witness: Witness, time: UInt64)] {
        witnesses.compactMap { witness in
            witness.verifier.cosignatureTime(of: checkpointText, among: signatures).map { (witness, $0) }
        }
    }

    /// Whether cosignatures from the witnesses named `cosigners` meet the quorum.
    public func isMet(byWitnessesNamed cosigners: some Sequence<String>) -> Bool {
        guard let quorum else { return true }
        let names = Set(cosigners.map { Array($0.utf8) })
        var witnessed: [Bool] = []
        witnessed.reserveCapacity(nodes.count)
        // Groups only name earlier nodes, so one pass in definition order settles all.
        for node in nodes {
            switch node {
            case .witness(let index):
                witnessed.append(names.contains(Array(witnesses[index].name.utf8)))
            case .group(let group):
                witnessed.append(group.members.count(where: { witnessed[$0] }) >= group.threshold)
            }
        }
        return witnessed[quorum]
    }

    /// What the quorum asks for, in words.
    public var quorumDescription: String {
        guard let quorum else { return "no cosignature" }
        return describe(quorum)
    }

    private func describe(_ node: Int) -> String {
        switch nodes[node] {
        case .witness(let index):
            return witnesses[index].name
        case .group(let group):
            let members = group.members.map(describe).joined(separator: ", ")
            return "\(group.threshold) of (\(members))"
        }
    }
}

/// Why a policy file was refused: the line (1-based; 0 for the file as a whole) and why.
public struct PolicyError: Error, Sendable, Equatable, CustomStringConvertible {
    public let line: Int
    public let message: String

    init(line: Int, _ message: String) {
        self.line = line
        self.message = message
    }

    public var description: String { line > 0 ? "line \(line): \(message)" : message }
}

/// The line-by-line reading of a policy file.
private struct PolicyParser {
    var logs: [WitnessPolicy.Log] = []
    var witnesses: [WitnessPolicy.Witness] = []
    var nodes: [WitnessPolicy.Node] = []
    var quorum: Int?? = nil
    /// Node index of every defined name, by its octets.
    private var names: [[UInt8]: Int] = [:]
    private var logKeys: Set<[UInt8]> = []
    private var witnessKeys: Set<[UInt8]> = []

    private static let none = Array("none".utf8)

    mutating func take(_ line: [UInt8], number: Int) throws(PolicyError) {
        func fail(_ message: String) -> PolicyError { PolicyError(line: number, message) }
        // Tab, newline (already split off), printable ASCII and any octet with the high bit set.
        guard !line.contains(where: { $0 < 0x20 && $0 != 0x09 || $0 == 0x7F }) else {
            throw fail("a control character other than tab")
        }
        let words = line.split(whereSeparator: { $0 == 0x20 || $0 == 0x09 }).map(Array.init)
        guard let keyword = words.first, keyword.first != UInt8(ascii: "#") else { return }
        let arguments = words.dropFirst()
        switch String(decoding: keyword, as: UTF8.self) {
        case "log":
            guard (1...2).contains(arguments.count) else { throw fail("expected: log <vkey> [<url>]") }
            let verifier: NoteVerifier
            do { verifier = try NoteVerifier(String(decoding: arguments.first!, as: UTF8.self)) } catch {
                throw fail("the log key: \(error)")
            }
            guard logKeys.insert(verifier.publicKey).inserted else { throw fail("this log key is listed already") }
            logs.append(.init(verifier: verifier, url: arguments.dropFirst().first.map { String(decoding: $0, as: UTF8.self) }))
        case "witness":
            guard (2...3).contains(arguments.count) else { throw fail("expected: witness <name> <vkey> [<url>]") }
            let name = arguments.first!
            let key = arguments.dropFirst().first!
            let verifier: WitnessVerifier
            do {
                // The policy format wants the cosignature key type itself, 0x04.
                let (keyName, _, publicKey) = try NoteKey.parseVerifierKey(
                    String(decoding: key, as: UTF8.self), algorithm: NoteKey.cosignatureV1)
                verifier = try WitnessVerifier(name: keyName, publicKey: publicKey)
            } catch {
                throw fail("the witness key: \(error)")
            }
            guard witnessKeys.insert(verifier.publicKey).inserted else { throw fail("this witness key is listed already") }
            try define(name, as: .witness(witnesses.count), line: number)
            witnesses.append(.init(
                name: String(decoding: name, as: UTF8.self), verifier: verifier,
                url: arguments.dropFirst(2).first.map { String(decoding: $0, as: UTF8.self) }))
        case "group":
            guard arguments.count >= 3 else { throw fail("expected: group <name> <all|any|k> <member>...") }
            let members = try arguments.dropFirst(2).map { member throws(PolicyError) in
                guard member != Self.none, let node = names[member] else {
                    throw fail("group member \(String(decoding: member, as: UTF8.self)) is not a witness or group defined above")
                }
                return node
            }
            guard Set(members).count == members.count else { throw fail("a group lists a member more than once") }
            let threshold: Int
            switch String(decoding: arguments.dropFirst().first!, as: UTF8.self) {
            case "all": threshold = members.count
            case "any": threshold = 1
            case let k:
                guard let value = Int(k), k.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }), (1...members.count).contains(value) else {
                    throw fail("the threshold must be all, any or a decimal k with 1 <= k <= \(members.count)")
                }
                threshold = value
            }
            try define(arguments.first!, as: .group(.init(threshold: threshold, members: members)), line: number)
        case "quorum":
            guard arguments.count == 1 else { throw fail("expected: quorum <name>") }
            guard quorum == nil else { throw fail("a policy has exactly one quorum line") }
            let name = arguments.first!
            if name == Self.none {
                quorum = .some(nil)
            } else {
                guard let node = names[name] else {
                    throw fail("quorum \(String(decoding: name, as: UTF8.self)) is not a witness or group defined above")
                }
                quorum = node
            }
        case let other:
            throw fail("unknown line \(other): expected log, witness, group or quorum")
        }
    }

    private mutating func define(_ name: [UInt8], as node: WitnessPolicy.Node, line: Int) throws(PolicyError) {
        guard name != Self.none, names[name] == nil else {
            throw PolicyError(line: line, "the name \(String(decoding: name, as: UTF8.self)) is defined already")
        }
        names[name] = nodes.count
        nodes.append(node)
    }
}
