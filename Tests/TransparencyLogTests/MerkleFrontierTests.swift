import Testing
import TransparencyLog

@Suite("MerkleFrontier")
struct MerkleFrontierTests {
    static let leaves = (0..<300).map { RFC6962.leafHash(Array("entry \($0)".utf8)) }

    @Test func emptyTree() {
        let frontier = MerkleFrontier()
        #expect(frontier.size == 0)
        #expect(frontier.rootHash() == RFC6962.emptyRoot)
        #expect(frontier.nodes.isEmpty)
    }

    @Test func appendReturnsEveryCompletedPerfectSubtree() {
        var frontier = MerkleFrontier()
        for (i, leaf) in Self.leaves.enumerated() {
            let completed = frontier.append(leaf)
            // Leaf i completes the subtrees whose last leaf is i: one per trailing one bit of i, plus the leaf.
            #expect(completed.count == (~UInt64(i)).trailingZeroBitCount + 1)
            for (position, node) in completed.enumerated() {
                #expect(node.level == position)
                #expect(node.index == UInt64(i) >> UInt64(node.level))
                let begin = Int(node.index) << node.level, end = (Int(node.index) + 1) << node.level
                #expect(end == i + 1)
                #expect(node.hash == RFC6962.rootHash(ofLeafHashes: Array(Self.leaves[begin..<end])))
            }
            #expect(frontier.size == UInt64(i + 1))
            #expect(frontier.rootHash() == RFC6962.rootHash(ofLeafHashes: Array(Self.leaves.prefix(i + 1))))
            #expect(frontier.nodes.count == (i + 1).nonzeroBitCount)
        }
    }

    @Test func rebuildFromStoreAtEverySize() throws {
        let store = MemoryNodeStore()
        var frontier = MerkleFrontier()
        #expect(try MerkleFrontier(size: 0, nodes: store) == frontier)
        for leaf in Self.leaves {
            store.store(frontier.append(leaf))
            store.resetReads()
            let rebuilt = try MerkleFrontier(size: frontier.size, nodes: store)
            #expect(rebuilt == frontier)
            #expect(store.reads == frontier.size.nonzeroBitCount)
            #expect(rebuilt.nodes == frontier.nodes)
            // Continuing from a rebuilt frontier gives the same tree.
            var copy = rebuilt
            var original = frontier
            #expect(copy.append(Self.leaves[0]) == original.append(Self.leaves[0]))
            #expect(copy.rootHash() == original.rootHash())
        }
    }

    @Test func rebuildFailsWhenANodeIsMissing() {
        let store = MemoryNodeStore()
        #expect(throws: MemoryNodeStore.Missing.self) {
            try MerkleFrontier(size: 5, nodes: store)
        }
    }

    @Test func hugeSizeRebuildIsLogarithmic() throws {
        let source = CountingSource(UniformNodeSource(leaf: Self.leaves[0]))
        let size: UInt64 = (1 << 40) + 12_345
        let frontier = try MerkleFrontier(size: size, nodes: source)
        #expect(source.reads == size.nonzeroBitCount)
        #expect(frontier.rootHash() == (try MerkleProofs.rootHash(size: size, nodes: source.base)))
    }
}
