import TransparencyLog

/// A NodeSource backed by a dictionary filled from MerkleFrontier.append, like the ledger's node table.
final class MemoryNodeStore: NodeSource {
    struct Key: Hashable {
        let level: Int
        let index: UInt64
    }

    struct Missing: Error {
        let level: Int
        let index: UInt64
    }

    private(set) var nodes: [Key: Hash256] = [:]
    /// Reads are refused for nodes extending past this many leaves (simulates an older tree).
    var visibleSize: UInt64 = .max
    private(set) var reads = 0

    func store(_ completed: [MerkleNode]) {
        for node in completed { nodes[Key(level: node.level, index: node.index)] = node.hash }
    }

    func resetReads() { reads = 0 }

    func node(level: Int, index: UInt64) throws -> Hash256 {
        reads += 1
        guard (index + 1) << UInt64(level) <= visibleSize, let hash = nodes[Key(level: level, index: index)] else {
            throw Missing(level: level, index: index)
        }
        return hash
    }
}

/// A tree in which every leaf hash is the same, so node (level, i) has the same hash for every i:
/// lets proofs over huge trees be built and checked in O(log n) without storing anything.
struct UniformNodeSource: NodeSource {
    let levels: [Hash256]

    init(leaf: Hash256) {
        var levels = [leaf]
        for _ in 1...63 { levels.append(RFC6962.nodeHash(levels.last!, levels.last!)) }
        self.levels = levels
    }

    func node(level: Int, index: UInt64) throws -> Hash256 { levels[level] }
}

/// Counts reads of a wrapped source.
final class CountingSource<Base: NodeSource>: NodeSource {
    let base: Base
    private(set) var reads = 0
    init(_ base: Base) { self.base = base }
    func node(level: Int, index: UInt64) throws -> Hash256 {
        reads += 1
        return try base.node(level: level, index: index)
    }
}
