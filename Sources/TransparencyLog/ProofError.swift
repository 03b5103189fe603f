/// Why a Merkle proof was rejected or could not be built.
public enum ProofError: Error, Equatable, Sendable {
    /// The leaf index is not inside the tree (`index >= size`).
    case indexOutOfRange(index: UInt64, size: UInt64)
    /// The proof has the wrong number of hashes for these sizes/index.
    case wrongProofSize(got: Int, want: Int)
    /// Inclusion: the path hashes to a different root.
    case rootMismatch(expected: Hash256, calculated: Hash256)
    /// Consistency: the proof does not reproduce the old (size1) root.
    case oldRootMismatch(expected: Hash256, calculated: Hash256)
    /// Consistency: the proof does not reproduce the new (size2) root.
    case newRootMismatch(expected: Hash256, calculated: Hash256)
    /// Consistency: size2 is smaller than size1, so the tree shrank.
    case treeShrank(size1: UInt64, size2: UInt64)
    /// Consistency from the empty tree proves nothing and is refused (as Go does).
    case emptyOldTree
}

extension ProofError: CustomStringConvertible {
    /// A readable one-line explanation.
    public var description: String {
        switch self {
        case let .indexOutOfRange(index, size):
            return "leaf index \(index) is outside a tree of size \(size)"
        case let .wrongProofSize(got, want):
            return "proof has \(got) hashes, expected \(want)"
        case let .rootMismatch(expected, calculated):
            return "inclusion proof gives root \(calculated.hex), expected \(expected.hex)"
        case let .oldRootMismatch(expected, calculated):
            return "consistency proof gives old root \(calculated.hex), expected \(expected.hex)"
        case let .newRootMismatch(expected, calculated):
            return "consistency proof gives new root \(calculated.hex), expected \(expected.hex)"
        case let .treeShrank(size1, size2):
            return "tree size went down from \(size1) to \(size2)"
        case .emptyOldTree:
            return "consistency with the empty tree is meaningless"
        }
    }
}
