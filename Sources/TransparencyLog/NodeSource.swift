/// Read access to stored perfect-subtree hashes, e.g. a database table keyed by (level, index).
public protocol NodeSource {
    /// The hash of the perfect subtree at (`level`, `index`); throws if it is not stored.
    func node(level: Int, index: UInt64) throws -> Hash256
}

/// Where a perfect subtree sits: its level (0 for a leaf) and its index at that level.
public struct NodePosition: Hashable, Sendable {
    public let level: Int
    public let index: UInt64

    public init(level: Int, index: UInt64) {
        self.level = level
        self.index = index
    }
}

/// The nodes a computation over a tree reads, learned by running it once over
/// placeholders: the positions RFC 6962 roots and proofs read depend only on sizes and
/// indices, never on the hashes found. A store whose every read is a round trip (a
/// database server) fetches them all at once, then runs the computation for real.
public enum NodePrefetch {
    /// The positions `compute` reads, in the order it first reads them.
    public static func positions(readBy compute: (any NodeSource) throws -> Void) -> [NodePosition] {
        let recorder = Recorder()
        try? compute(recorder)
        return recorder.positions
    }

    /// Runs `compute` over `nodes`; a position it reads that is missing throws.
    public static func run<T>(_ compute: (any NodeSource) throws -> T, over nodes: [NodePosition: Hash256]) throws -> T {
        try compute(Fetched(nodes: nodes))
    }

    /// The missing node (a store that lacks one the computation needs).
    public struct Missing: Error, CustomStringConvertible {
        public let position: NodePosition
        public var description: String { "tree node at level \(position.level), index \(position.index) is not stored" }
    }

    private final class Recorder: NodeSource {
        var positions: [NodePosition] = []
        var seen: Set<NodePosition> = []

        func node(level: Int, index: UInt64) throws -> Hash256 {
            let position = NodePosition(level: level, index: index)
            if seen.insert(position).inserted { positions.append(position) }
            return .zero
        }
    }

    private struct Fetched: NodeSource {
        let nodes: [NodePosition: Hash256]

        func node(level: Int, index: UInt64) throws -> Hash256 {
            let position = NodePosition(level: level, index: index)
            guard let hash = nodes[position] else { throw Missing(position: position) }
            return hash
        }
    }
}

extension NodeSource {
    /// MTH of leaves `[begin, end)` where `begin` is aligned to the size's
    /// largest power of two, as every range in RFC 9162 proofs is.
    ///
    /// Such a range splits into maximal aligned perfect subtrees of
    /// decreasing size (one per set bit of its length), so it costs at most
    /// 64 reads, and folding them right to left is exactly MTH.
    func subtreeHash(begin: UInt64, end: UInt64) throws -> Hash256 {
        precondition(begin < end)
        var start = begin
        var hashes: [Hash256] = []
        hashes.reserveCapacity((end - begin).nonzeroBitCount)
        while start < end {
            // Largest perfect subtree that starts at `start` and fits.
            let alignment = start == 0 ? 63 : start.trailingZeroBitCount
            let fits = 63 - (end - start).leadingZeroBitCount
            let level = min(alignment, fits)
            hashes.append(try node(level: level, index: start >> UInt64(level)))
            start += 1 << UInt64(level)
        }
        var root = hashes[hashes.count - 1]
        for hash in hashes.dropLast().reversed() {
            root = RFC6962.nodeHash(hash, root)
        }
        return root
    }
}
