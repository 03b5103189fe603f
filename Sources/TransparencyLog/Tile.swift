/// A tile of the C2SP tlog-tiles layout: `tile/<L>/<N>[.p/<W>]` holds `W` consecutive
/// hashes of tree level `8L` starting at `256N` (a full tile 256 of them);
/// `tile/entries/<N>[.p/<W>]` holds the entries `256N ..< 256N + W`, each prefixed by
/// its length as a big-endian uint16.
public struct Tile: Sendable, Hashable, CustomStringConvertible {
    /// Hashes (or entries) in a full tile.
    public static let width = 256

    /// What a tile holds.
    public enum Kind: Sendable, Hashable {
        /// Hashes of tree level `8 * level`.
        case hashes(level: Int)
        /// Entries (the leaves' data).
        case entries
    }

    public var kind: Kind
    /// `N`: the tile's position in its level.
    public var index: UInt64
    /// `W`: 1...256.
    public var width: Int

    /// The largest `N` of any level: every tile's hashes (or entries) then have
    /// positions below `Int64.max`, as the store and the tree sizes count them.
    public static let maximumIndex = (UInt64(Int64.max) - UInt64(width)) / UInt64(width)

    /// A tile; `index` must not exceed `maximumIndex` (`init(elements:)` checks it).
    public init(kind: Kind, index: UInt64, width: Int) {
        self.kind = kind
        self.index = index
        self.width = width
    }

    /// The first hash (or entry) of the tile, in its level.
    public var first: UInt64 { index * UInt64(Self.width) }

    /// The path under the log's prefix, e.g. `tile/0/x001/234` or `tile/entries/005.p/17`.
    public var path: String {
        let level: String =
            switch kind {
            case .hashes(let level): String(level)
            case .entries: "entries"
            }
        return "tile/\(level)/\(Self.encode(index))" + (width < Self.width ? ".p/\(width)" : "")
    }

    public var description: String { path }

    /// `N` in 3-digit path elements, all but the last prefixed with `x` (1234067 -> x001/x234/067).
    public static func encode(_ n: UInt64) -> String {
        var groups: [String] = []
        var rest = n
        repeat {
            let group = String(rest % 1000)
            groups.append(String(repeating: "0", count: 3 - group.count) + group)
            rest /= 1000
        } while rest > 0
        return groups.reversed().enumerated().map { k, group in k < groups.count - 1 ? "x" + group : group }
            .joined(separator: "/")
    }

    /// Parses the path elements after `tile/` (`["0", "x001", "234"]`, `["entries", "005.p", "17"]`).
    public init?(elements: [Substring]) {
        guard let head = elements.first, elements.count >= 2 else { return nil }
        var rest = elements.dropFirst()
        var width = Self.width
        if rest.count >= 2, let last = rest.last, let marked = rest.dropLast().last, marked.hasSuffix(".p") {
            guard let w = Int(last), (1..<Self.width).contains(w), String(w) == last else { return nil }
            width = w
            rest = rest.dropLast()
            rest[rest.endIndex - 1] = marked.dropLast(2)
        }
        var index: UInt64 = 0
        for (k, element) in rest.enumerated() {
            let last = k == rest.count - 1
            let digits = last ? element : (element.hasPrefix("x") ? element.dropFirst() : "")
            guard digits.count == 3, digits.allSatisfy(\.isASCII), let group = UInt64(digits) else { return nil }
            let (times, o1) = index.multipliedReportingOverflow(by: 1000)
            let (sum, o2) = times.addingReportingOverflow(group)
            guard !o1, !o2 else { return nil }
            index = sum
        }
        // One encoding per number: no leading all-zero groups.
        guard index <= Self.maximumIndex, Self.encode(index) == rest.joined(separator: "/") else { return nil }
        if head == "entries" {
            kind = .entries
        } else {
            guard let level = Int(head), (0...63).contains(level), String(level) == head else { return nil }
            kind = .hashes(level: level)
        }
        self.index = index
        self.width = width
    }

    /// Every tile of a tree of `size` leaves, entries first, then each hash level from
    /// the leaves up: full tiles, and a partial one at each level's right edge.
    public static func all(treeSize size: UInt64) -> [Tile] {
        var tiles = tiles(of: .entries, count: size)
        var level = 0
        while level < 8 && (size >> UInt64(8 * level)) > 0 {
            tiles += Self.tiles(of: .hashes(level: level), count: size >> UInt64(8 * level))
            level += 1
        }
        return tiles
    }

    /// The tiles holding `count` hashes (or entries) of one level.
    public static func tiles(of kind: Kind, count: UInt64) -> [Tile] {
        let w = UInt64(width)
        var tiles = (0..<(count / w)).map { Tile(kind: kind, index: $0, width: width) }
        if count % w > 0 { tiles.append(Tile(kind: kind, index: count / w, width: Int(count % w))) }
        return tiles
    }
}
