import Testing
import TransparencyLog

@Suite("In-memory RFC 6962 proofs against the RFC's recursive definitions")
struct InMemoryProofTests {
    static let leaves = (0..<70).map { RFC6962.leafHash(Array("leaf \($0)".utf8)) }

    @Test func inclusionForEveryIndexAndSize() throws {
        for size in 1...70 {
            let tree = Array(Self.leaves.prefix(size))
            let root = RFC6962.rootHash(ofLeafHashes: tree)
            for index in 0..<size {
                let proof = RFC6962.inclusionProof(index: index, leafHashes: tree)
                #expect(proof == ReferenceMerkle.path(index, tree[...]), "index \(index) size \(size)")
                try RFC6962.verifyInclusion(leafHash: tree[index], index: UInt64(index), size: UInt64(size), proof: proof, root: root)
                // A proof for another index or a tampered proof must fail.
                if size > 1 {
                    let other = (index + 1) % size
                    #expect(throws: ProofError.self) {
                        try RFC6962.verifyInclusion(leafHash: tree[index], index: UInt64(other), size: UInt64(size), proof: proof, root: root)
                    }
                    var tampered = proof
                    tampered[tampered.count - 1] = .zero
                    #expect(throws: ProofError.self) {
                        try RFC6962.verifyInclusion(leafHash: tree[index], index: UInt64(index), size: UInt64(size), proof: tampered, root: root)
                    }
                }
            }
        }
    }

    @Test func consistencyReferenceVerifiesForEveryPair() throws {
        for n in 1...70 {
            let rootN = RFC6962.rootHash(ofLeafHashes: Array(Self.leaves.prefix(n)))
            for m in 1...n {
                let rootM = RFC6962.rootHash(ofLeafHashes: Array(Self.leaves.prefix(m)))
                let proof = ReferenceMerkle.proof(m, Self.leaves.prefix(n))
                try RFC6962.verifyConsistency(size1: UInt64(m), size2: UInt64(n), root1: rootM, root2: rootN, proof: proof)
                if m < n {
                    #expect(throws: ProofError.self) {
                        try RFC6962.verifyConsistency(size1: UInt64(m), size2: UInt64(n), root1: rootN, root2: rootN, proof: proof)
                    }
                    #expect(throws: ProofError.self) {
                        try RFC6962.verifyConsistency(size1: UInt64(m), size2: UInt64(n), root1: rootM, root2: rootM, proof: proof)
                    }
                }
            }
        }
    }

    @Test func largeBatch() throws {
        // The batch size the ledger uses for readings.
        let leaves = (0..<100_000).map { i in withUnsafeBytes(of: UInt64(i)) { RFC6962.leafHash($0) } }
        let root = RFC6962.rootHash(ofLeafHashes: leaves)
        var frontier = MerkleFrontier()
        for leaf in leaves { frontier.append(leaf) }
        #expect(frontier.rootHash() == root)
        for index in [0, 1, 65_535, 65_536, 99_998, 99_999] {
            let proof = RFC6962.inclusionProof(index: index, leafHashes: leaves)
            try RFC6962.verifyInclusion(leafHash: leaves[index], index: UInt64(index), size: 100_000, proof: proof, root: root)
        }
    }
}
