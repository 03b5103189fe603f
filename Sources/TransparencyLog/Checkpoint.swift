/// A C2SP tlog-checkpoint: the signed statement "log `origin` has `size` leaves with root `rootHash`".
public struct Checkpoint: Sendable, Equatable, Hashable {
    /// Log identity, e.g. `ledger.example.org/zhejiang`.
    public let origin: String
    /// Number of leaves in the tree.
    public let size: UInt64
    /// RFC 6962 root hash of the tree at `size`.
    public let rootHash: Hash256
    /// Opaque extension lines after the root (kept so a parsed checkpoint re-serialises exactly).
    public let extensionLines: [String]

    /// Creates a checkpoint; the origin must be a non-empty single line.
    public init(origin: String, size: UInt64, rootHash: Hash256, extensionLines: [String] = []) throws(CheckpointError) {
        guard !origin.isEmpty else { throw .emptyOrigin }
        guard !Self.hasControl(origin.utf8) else { throw .invalidCharacter }
        for line in extensionLines {
            guard !line.isEmpty else { throw .emptyExtensionLine }
            guard !Self.hasControl(line.utf8) else { throw .invalidCharacter }
        }
        self.origin = origin
        self.size = size
        self.rootHash = rootHash
        self.extensionLines = extensionLines
    }

    /// Parses a checkpoint note text: origin, size, base64 root, then optional non-empty extension lines.
    public init(text: String) throws(CheckpointError) {
        guard text.utf8.last == UInt8(ascii: "\n") else { throw .missingFinalNewline }
        let lines = text.utf8.dropLast().split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
        guard lines.count >= 3 else { throw .tooFewLines }
        guard let size = Self.parseSize(lines[1]) else { throw .invalidSize }
        guard let root = Hash256(base64: String(decoding: lines[2], as: UTF8.self)) else { throw .invalidRootHash }
        try self.init(
            origin: String(decoding: lines[0], as: UTF8.self),
            size: size,
            rootHash: root,
            extensionLines: lines.dropFirst(3).map { String(decoding: $0, as: UTF8.self) })
    }

    /// The note text: `<origin>\n<size>\n<base64 root>\n`, then any extension lines.
    public var text: String {
        var result = "\(origin)\n\(size)\n\(rootHash.base64)\n"
        for line in extensionLines { result += line + "\n" }
        return result
    }

    /// Decimal without sign or leading zeros ("0" alone for the empty tree), within UInt64.
    private static func parseSize(_ digits: Substring.UTF8View.SubSequence) -> UInt64? {
        guard let first = digits.first, digits.count <= 20 else { return nil }
        if first == UInt8(ascii: "0") && digits.count > 1 { return nil }
        var value: UInt64 = 0
        for digit in digits {
            guard digit >= UInt8(ascii: "0"), digit <= UInt8(ascii: "9") else { return nil }
            let (times10, overflow1) = value.multipliedReportingOverflow(by: 10)
            let (sum, overflow2) = times10.addingReportingOverflow(UInt64(digit - UInt8(ascii: "0")))
            guard !overflow1, !overflow2 else { return nil }
            value = sum
        }
        return value
    }

    private static func hasControl(_ bytes: String.UTF8View) -> Bool {
        bytes.contains { $0 < 0x20 }
    }
}
