import Testing
import TransparencyLog

@Suite("RFC 6962 hashing (signed-note.md vectors)")
struct RFC6962HashingTests {
    let vectors = SignedNoteVectors.shared

    func treeRoot(_ n: Int) throws -> Hash256 {
        let hex = try #require(vectors.treeRoots[n])
        return try #require(Hash256(hex: hex))
    }

    @Test func hashTable() throws {
        #expect(vectors.hashTable.count == 4)
        for (input, hex) in vectors.hashTable {
            let expected = try #require(Hash256(hex: hex))
            if input == "empty tree" {
                #expect(RFC6962.emptyRoot == expected)
                #expect(RFC6962.rootHash(ofLeafHashes: []) == expected)
            } else if input.hasPrefix("leaf(\"") {
                let data = Array(input.dropFirst(6).dropLast(2).utf8)
                #expect(RFC6962.leafHash(data) == expected, "\(input)")
                #expect(data.withUnsafeBytes { RFC6962.leafHash($0) } == expected)
            } else if input.hasPrefix("node(") {
                // The vector hashes 4-byte children; nodeHash takes 32-byte
                // ones, so check the definition SHA256(0x01 || l || r) here
                // and nodeHash against it below.
                let parts = input.split(separator: "\"")
                let left = Array(parts[1].utf8), right = Array(parts[3].utf8)
                #expect(SHA256.hash([0x01] + left + right) == expected, "\(input)")
            } else {
                Issue.record("unknown hash table row \(input)")
            }
        }
    }

    @Test func nodeHashIsPrefixedSHA256() {
        let left = SHA256.hash(Array("left".utf8)), right = SHA256.hash(Array("right".utf8))
        #expect(RFC6962.nodeHash(left, right) == SHA256.hash([0x01] + left.bytes + right.bytes))
        #expect(RFC6962.leafHash(Array("x".utf8)) == SHA256.hash([0x00] + Array("x".utf8)))
    }

    @Test func eightLeafRoots() throws {
        #expect(vectors.treeLeaves.count == 8)
        #expect(vectors.treeRoots.count == 8)
        let leafHashes = vectors.treeLeaves.map { RFC6962.leafHash($0) }
        var frontier = MerkleFrontier()
        let store = MemoryNodeStore()
        for n in 1...8 {
            store.store(frontier.append(leafHashes[n - 1]))
            let expected = try treeRoot(n)
            #expect(RFC6962.rootHash(ofLeafHashes: Array(leafHashes.prefix(n))) == expected, "n=\(n)")
            #expect(frontier.rootHash() == expected, "n=\(n)")
            #expect(try MerkleProofs.rootHash(size: UInt64(n), nodes: store) == expected, "n=\(n)")
        }
    }

    @Test func inclusionOfLeaf5In8() throws {
        let leafHashes = vectors.treeLeaves.map { RFC6962.leafHash($0) }
        let expected = try vectors.inclusion5in8.map { try #require(Hash256(hex: $0)) }
        #expect(expected.count == 3)
        #expect(RFC6962.inclusionProof(index: 5, leafHashes: leafHashes) == expected)
        let store = MemoryNodeStore()
        var frontier = MerkleFrontier()
        for leaf in leafHashes { store.store(frontier.append(leaf)) }
        #expect(try MerkleProofs.inclusionProof(index: 5, size: 8, nodes: store) == expected)
        let root = try treeRoot(8)
        try RFC6962.verifyInclusion(leafHash: leafHashes[5], index: 5, size: 8, proof: expected, root: root)
    }

    @Test func consistency6To8() throws {
        let leafHashes = vectors.treeLeaves.map { RFC6962.leafHash($0) }
        let expected = try vectors.consistency6to8.map { try #require(Hash256(hex: $0)) }
        #expect(expected.count == 3)
        let store = MemoryNodeStore()
        var frontier = MerkleFrontier()
        for leaf in leafHashes { store.store(frontier.append(leaf)) }
        #expect(try MerkleProofs.consistencyProof(from: 6, to: 8, nodes: store) == expected)
        #expect(ReferenceMerkle.proof(6, leafHashes[...]) == expected)
        let root6 = try treeRoot(6)
        let root8 = try treeRoot(8)
        try RFC6962.verifyConsistency(size1: 6, size2: 8, root1: root6, root2: root8, proof: expected)
    }

    @Test func rootHashMatchesReferenceUpTo300() {
        let leaves = (0..<300).map { RFC6962.leafHash(Array("leaf \($0)".utf8)) }
        for n in 0...300 {
            #expect(RFC6962.rootHash(ofLeafHashes: Array(leaves.prefix(n))) == ReferenceMerkle.mth(leaves.prefix(n)), "n=\(n)")
        }
    }
}
