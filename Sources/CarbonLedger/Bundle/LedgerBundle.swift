import CarbonModel
import TransparencyLog

/// What is wrong inside one file of a ledger bundle, in the words of its format.
public struct BundleFormatError: Error, Equatable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// The ledger as static files (ledger.md section 6, docs/auditing.md): the C2SP
/// tlog-tiles files, then what a tlog-tiles client does not know about. The daemon's
/// tile routes write with it, `carbonctl export` names files with it, and the
/// verifier reads with it. Every parser here takes bytes nobody vouches for: each
/// length and count is checked before it is used.
public enum LedgerBundle {
    /// The suffix of a partial tile's name, `.p/<W>`, empty for a full tile.
    static func partialSuffix(_ tile: Tile) -> String {
        tile.width < Tile.width ? ".p/\(tile.width)" : ""
    }

    /// The 64-byte Ed25519 signatures of the entries of an entries tile, in entry order.
    public static func signaturesPath(_ tile: Tile) -> String {
        "signatures/\(Tile.encode(tile.index))" + partialSuffix(tile)
    }

    /// The data behind the entries of an entries tile: for each entry that has some, a
    /// line `{"entry":<index>,"leaves":<count>}` and then its leaves, one a line.
    public static func dataPath(_ tile: Tile) -> String {
        "data/\(Tile.encode(tile.index))" + partialSuffix(tile) + ".ndjson"
    }

    /// Entry kinds whose leaves are exported beside them.
    public static let kindsWithData: Set<String> = ["readings", "corrections", "factors", "zones"]

    /// The most bytes a file at `path` of a bundle can hold: what its format allows
    /// (ledger.md sections 3 and 6). A data file has no bound of its own (a batch may
    /// be as large as the daemon's config lets it), so it is read whole.
    public static func sizeLimit(of path: String) -> (bytes: Int, what: String) {
        if path == "checkpoint" { return (1 << 20, "a signed checkpoint") }
        if path.hasPrefix("tile/entries/") { return (Tile.width * (2 + Int(UInt16.max)), "an entries tile of 256 entries") }
        if path.hasPrefix("tile/") { return (Tile.width * 32, "a hash tile of 256 hashes") }
        if path.hasPrefix("signatures/") { return (Tile.width * 64, "the signatures of 256 entries") }
        return (Int.max, "a data file")
    }

    // MARK: Entries tiles

    /// Appends `entry` to an entries tile: its length as a big-endian uint16, then its bytes.
    public static func appendEntry(_ entry: some Collection<UInt8>, to tile: inout [UInt8]) {
        tile.append(UInt8(truncatingIfNeeded: entry.count >> 8))
        tile.append(UInt8(truncatingIfNeeded: entry.count))
        tile.append(contentsOf: entry)
    }

    /// The entries of an entries tile of `tile.width` entries, each behind its big-endian
    /// uint16 length.
    public static func entries(ofTile bytes: [UInt8], tile: Tile) throws(BundleFormatError) -> [[UInt8]] {
        var entries: [[UInt8]] = []
        var k = 0
        while k < bytes.count {
            let index = tile.first + UInt64(entries.count)
            guard entries.count < tile.width else {
                throw BundleFormatError(
                    "holds more than its \(tile.width) entries: \(bytes.count - k) bytes follow entry \(index - 1)")
            }
            guard bytes.count - k >= 2 else {
                throw BundleFormatError("entry \(index) at byte \(k): the tile ends inside its 2-byte length prefix")
            }
            let length = Int(bytes[k]) << 8 | Int(bytes[k + 1])
            guard bytes.count - k - 2 >= length else {
                throw BundleFormatError(
                    "entry \(index) at byte \(k): its length prefix says \(length) bytes, only \(bytes.count - k - 2) remain "
                        + "(the tile is truncated or the prefix is wrong)")
            }
            entries.append(Array(bytes[(k + 2)..<(k + 2 + length)]))
            k += 2 + length
        }
        guard entries.count == tile.width else {
            throw BundleFormatError("holds \(entries.count) entries, a tile of this name holds \(tile.width)")
        }
        return entries
    }

    // MARK: Data tiles

    /// Appends one entry's section of a data tile: its header line, then its leaves, a line each.
    public static func appendDataSection(entry index: Int64, leaves: [[UInt8]], to bytes: inout [UInt8]) {
        bytes += Array("{\"entry\":\(index),\"leaves\":\(leaves.count)}\n".utf8)
        bytes.reserveCapacity(bytes.count + leaves.reduce(0) { $0 + $1.count + 1 })
        for leaf in leaves {
            bytes += leaf
            bytes.append(UInt8(ascii: "\n"))
        }
    }

    /// Splits the data tile of `tile` into each entry's leaves, by entry index.
    public static func sections(ofData bytes: [UInt8], tile: Tile) throws(BundleFormatError) -> [UInt64: [[UInt8]]] {
        var sections: [UInt64: [[UInt8]]] = [:]
        // Line numbers as an editor shows them; empty lines hold nothing.
        var lines = bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).enumerated()
            .filter { !$0.element.isEmpty }[...]
        let entriesOfTile = tile.first..<(tile.first + UInt64(tile.width))
        while let (number, header) = lines.popFirst() {
            let line = "line \(number + 1)"
            guard let fields = (try? JSONValue.parse(Array(header)))?.objectValue,
                let entry = fields["entry"]?.intValue, let count = fields["leaves"]?.intValue
            else {
                throw BundleFormatError(
                    "\(line): expected a header {\"entry\":<index>,\"leaves\":<count>}, found "
                        + String(decoding: header.prefix(120), as: UTF8.self))
            }
            guard entry >= 0, entriesOfTile.contains(UInt64(entry)) else {
                throw BundleFormatError(
                    "\(line): entry \(entry) is not in this tile (entries \(entriesOfTile.lowerBound) to \(entriesOfTile.upperBound - 1))")
            }
            guard count >= 0 else { throw BundleFormatError("\(line): entry \(entry) claims \(count) leaves") }
            guard count <= lines.count else {
                throw BundleFormatError("\(line): entry \(entry) claims \(count) leaves, only \(lines.count) lines follow")
            }
            guard sections[UInt64(entry)] == nil else {
                throw BundleFormatError("\(line): entry \(entry) has a second section")
            }
            // 0 <= count <= lines.count, so Int(count) is exact.
            sections[UInt64(entry)] = lines.prefix(Int(count)).map { Array($0.element) }
            lines = lines.dropFirst(Int(count))
        }
        return sections
    }
}
