/// The tiles of one level of a tree, made one at a time. `Tile.tiles` builds an array,
/// and a checkpoint's size is only a claim until the entries are checked: a claimed
/// 2^64 must cost a "missing tile" message, not an array of 2^56 tiles.
public struct TileWalk: Sequence, IteratorProtocol {
    public let kind: Tile.Kind
    /// Hashes (or entries) in the level.
    public let count: UInt64
    private var first: UInt64 = 0

    public init(_ kind: Tile.Kind, count: UInt64) {
        self.kind = kind
        self.count = count
    }

    public mutating func next() -> Tile? {
        guard first < count else { return nil }
        // first < count, so neither the width nor the next start can overflow.
        let width = Int(Swift.min(UInt64(Tile.width), count - first))
        defer { first += UInt64(width) }
        return Tile(kind: kind, index: first / UInt64(Tile.width), width: width)
    }

    /// How many tiles the level has.
    public var tileCount: UInt64 { count / UInt64(Tile.width) + (count % UInt64(Tile.width) > 0 ? 1 : 0) }

    /// The levels of `Tile.all(treeSize:)`, in its order: entries, then hash levels from the leaves up.
    public static func levels(treeSize size: UInt64) -> [TileWalk] {
        [TileWalk(.entries, count: size)] + (0..<8).map { TileWalk(.hashes(level: $0), count: size >> UInt64(8 * $0)) }
    }
}
