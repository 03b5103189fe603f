import Testing
import TransparencyLog

@Suite("MerkleProofs over a node store")
struct StoredProofTests {
    static let count = 70
    static let leaves = (0..<count).map { RFC6962.leafHash(Array("stored \($0)".utf8)) }

    /// A store holding every node `append` returned for all 70 leaves.
    static func filledStore() -> MemoryNodeStore {
        let store = MemoryNodeStore()
        var frontier = MerkleFrontier()
        for leaf in leaves { store.store(frontier.append(leaf)) }
        return store
    }

    /// Read budget: one per level for perfect siblings plus one per set bit for the single imperfect one.
    static func budget(_ size: UInt64) -> Int {
        2 * (64 - size.leadingZeroBitCount) + 1
    }

    @Test func rootsForEverySize() throws {
        let store = Self.filledStore()
        for size in 0...Self.count {
            store.visibleSize = UInt64(size)
            store.resetReads()
            let root = try MerkleProofs.rootHash(size: UInt64(size), nodes: store)
            #expect(root == RFC6962.rootHash(ofLeafHashes: Array(Self.leaves.prefix(size))))
            #expect(store.reads == UInt64(size).nonzeroBitCount)
        }
    }

    @Test func inclusionForEveryIndexAndSize() throws {
        let store = Self.filledStore()
        for size in 1...Self.count {
            // Only nodes of the tree at this size may be read.
            store.visibleSize = UInt64(size)
            let tree = Array(Self.leaves.prefix(size))
            let root = RFC6962.rootHash(ofLeafHashes: tree)
            for index in 0..<size {
                store.resetReads()
                let proof = try MerkleProofs.inclusionProof(index: UInt64(index), size: UInt64(size), nodes: store)
                #expect(store.reads <= Self.budget(UInt64(size)))
                #expect(proof == RFC6962.inclusionProof(index: index, leafHashes: tree), "index \(index) size \(size)")
                try RFC6962.verifyInclusion(leafHash: tree[index], index: UInt64(index), size: UInt64(size), proof: proof, root: root)
            }
        }
    }

    @Test func consistencyForEveryPair() throws {
        let store = Self.filledStore()
        for n in 1...Self.count {
            store.visibleSize = UInt64(n)
            let rootN = RFC6962.rootHash(ofLeafHashes: Array(Self.leaves.prefix(n)))
            for m in 1...n {
                store.resetReads()
                let proof = try MerkleProofs.consistencyProof(from: UInt64(m), to: UInt64(n), nodes: store)
                #expect(store.reads <= Self.budget(UInt64(n)))
                #expect(proof == ReferenceMerkle.proof(m, Self.leaves.prefix(n)), "\(m) -> \(n)")
                let rootM = RFC6962.rootHash(ofLeafHashes: Array(Self.leaves.prefix(m)))
                try RFC6962.verifyConsistency(size1: UInt64(m), size2: UInt64(n), root1: rootM, root2: rootN, proof: proof)
            }
        }
    }

    @Test func rangeErrors() {
        let store = Self.filledStore()
        #expect(throws: ProofError.indexOutOfRange(index: 5, size: 5)) {
            try MerkleProofs.inclusionProof(index: 5, size: 5, nodes: store)
        }
        #expect(throws: ProofError.treeShrank(size1: 6, size2: 5)) {
            try MerkleProofs.consistencyProof(from: 6, to: 5, nodes: store)
        }
        #expect(throws: ProofError.emptyOldTree) {
            try MerkleProofs.consistencyProof(from: 0, to: 5, nodes: store)
        }
        #expect(throws: MemoryNodeStore.Missing.self) {
            try MerkleProofs.rootHash(size: 71, nodes: store)
        }
    }

    /// Huge trees: reads stay logarithmic and the proofs verify.
    @Test(arguments: [(UInt64(1) << 40) + 12_345, (UInt64(1) << 62) + 3, UInt64.max / 3, 1 << 33])
    func hugeTrees(_ size: UInt64) throws {
        let leaf = Self.leaves[0]
        let source = CountingSource(UniformNodeSource(leaf: leaf))
        let root = try MerkleProofs.rootHash(size: size, nodes: source)
        for index in [0, 1, size / 2, size - 2, size - 1] {
            let before = source.reads
            let proof = try MerkleProofs.inclusionProof(index: index, size: size, nodes: source)
            #expect(source.reads - before <= Self.budget(size))
            try RFC6962.verifyInclusion(leafHash: leaf, index: index, size: size, proof: proof, root: root)
        }
        for old in [1, 2, 3, size / 3, size - 1] {
            let before = source.reads
            let proof = try MerkleProofs.consistencyProof(from: old, to: size, nodes: source)
            #expect(source.reads - before <= Self.budget(size))
            let oldRoot = try MerkleProofs.rootHash(size: old, nodes: source)
            try RFC6962.verifyConsistency(size1: old, size2: size, root1: oldRoot, root2: root, proof: proof)
        }
    }

    /// Every root, inclusion and consistency proof of the 70-leaf tree, computed from
    /// nodes fetched up front, equals the one read node by node, and reads exactly the
    /// positions the recording pass named.
    @Test func prefetchedNodesGiveTheSameProofsFromTheRecordedPositions() throws {
        let store = Self.filledStore()
        func fetched(_ positions: [NodePosition]) throws -> [NodePosition: Hash256] {
            var nodes: [NodePosition: Hash256] = [:]
            for p in positions { nodes[p] = try store.node(level: p.level, index: p.index) }
            return nodes
        }
        for size in UInt64(1)...UInt64(Self.count) {
            let compute = { (nodes: any NodeSource) throws -> [Hash256] in
                var hashes = [try MerkleProofs.rootHash(size: size, nodes: nodes)]
                hashes += try MerkleProofs.inclusionProof(index: size / 3, size: size, nodes: nodes)
                hashes += try MerkleProofs.consistencyProof(from: (size + 1) / 2, to: size, nodes: nodes)
                return hashes
            }
            let positions = NodePrefetch.positions { _ = try compute($0) }
            #expect(Set(positions).count == positions.count)
            store.resetReads()
            let direct = try compute(store)
            #expect(store.reads >= positions.count)
            #expect(try NodePrefetch.run(compute, over: fetched(positions)) == direct)
            // One position fewer: the computation names the node it lacks.
            #expect(throws: NodePrefetch.Missing.self) { try NodePrefetch.run(compute, over: fetched(Array(positions.dropLast()))) }
        }
    }
}
