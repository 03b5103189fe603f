import Foundation
import Testing
import TransparencyLog

/// Every transparency-dev/merkle probe under Vectors/rfc6962: `wantErr` cases must be refused, the rest accepted.
@Suite("RFC 6962 proof vectors (transparency-dev/merkle)")
struct ProofVectorTests {
    static let inclusionFiles = VectorFiles.jsonFiles(under: "rfc6962/inclusion")
    static let consistencyFiles = VectorFiles.jsonFiles(under: "rfc6962/consistency")

    @Test func vectorsArePresent() {
        #expect(Self.inclusionFiles.count == 98)
        #expect(Self.consistencyFiles.count == 98)
    }

    @Test(arguments: inclusionFiles)
    func inclusion(_ file: String) throws {
        let probe = try JSONDecoder().decode(InclusionProbe.self, from: VectorFiles.data(file))
        let proof = probe.proof ?? []
        guard let leaf = ProbeHash.exact(probe.leafHash), let root = ProbeHash.exact(probe.root),
              let path = Optional(proof.compactMap(ProbeHash.exact)), path.count == proof.count
        else {
            // Not representable as 32-byte hashes: refused at the type boundary.
            #expect(probe.wantErr, "\(probe.desc): valid probe with a non-32-byte hash")
            return
        }
        let result = Result { () throws(ProofError) in
            try RFC6962.verifyInclusion(leafHash: leaf, index: probe.leafIdx, size: probe.treeSize, proof: path, root: root)
        }
        switch result {
        case .success: #expect(!probe.wantErr, "\(probe.desc): accepted")
        case .failure(let error): #expect(probe.wantErr, "\(probe.desc): \(error)")
        }
    }

    @Test(arguments: consistencyFiles)
    func consistency(_ file: String) throws {
        let probe = try JSONDecoder().decode(ConsistencyProbe.self, from: VectorFiles.data(file))
        let proof = probe.proof ?? []
        let exact = [probe.root1, probe.root2].compactMap(ProbeHash.exact).count == 2
            && proof.allSatisfy { ProbeHash.exact($0) != nil }
        if !exact && probe.wantErr {
            // Refused at the type boundary: Hash256(bytes:) is nil.
            return
        }
        let result = Result { () throws(ProofError) in
            try RFC6962.verifyConsistency(
                size1: probe.size1, size2: probe.size2,
                root1: ProbeHash.placeholder(probe.root1), root2: ProbeHash.placeholder(probe.root2),
                proof: proof.map(ProbeHash.placeholder))
        }
        switch result {
        case .success: #expect(!probe.wantErr, "\(probe.desc): accepted")
        case .failure(let error): #expect(probe.wantErr, "\(probe.desc): \(error)")
        }
    }

    /// The errors say what failed.
    @Test func errorKinds() throws {
        let leaf = RFC6962.leafHash([1])
        #expect(throws: ProofError.indexOutOfRange(index: 3, size: 3)) {
            try RFC6962.verifyInclusion(leafHash: leaf, index: 3, size: 3, proof: [], root: leaf)
        }
        #expect(throws: ProofError.wrongProofSize(got: 0, want: 2)) {
            try RFC6962.verifyInclusion(leafHash: leaf, index: 0, size: 3, proof: [], root: leaf)
        }
        #expect(throws: ProofError.rootMismatch(expected: .zero, calculated: leaf)) {
            try RFC6962.verifyInclusion(leafHash: leaf, index: 0, size: 1, proof: [], root: .zero)
        }
        #expect(throws: ProofError.treeShrank(size1: 2, size2: 1)) {
            try RFC6962.verifyConsistency(size1: 2, size2: 1, root1: leaf, root2: leaf, proof: [])
        }
        #expect(throws: ProofError.emptyOldTree) {
            try RFC6962.verifyConsistency(size1: 0, size2: 1, root1: RFC6962.emptyRoot, root2: leaf, proof: [])
        }
        #expect(throws: ProofError.wrongProofSize(got: 1, want: 0)) {
            try RFC6962.verifyConsistency(size1: 1, size2: 1, root1: leaf, root2: leaf, proof: [leaf])
        }
        let error = ProofError.wrongProofSize(got: 1, want: 3)
        #expect(error.description == "proof has 1 hashes, expected 3")
    }
}
