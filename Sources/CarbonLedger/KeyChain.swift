import CarbonModel
import TransparencyLog

/// The ledger's signing keys in the order its `key` entries hand over from one to
/// the next (ledger.md section 1): every entry is signed by the key in force when it
/// was appended, and a `key` entry, signed by the old key, puts the key it announces
/// in force for every later entry and checkpoint.
///
/// Auditors start it from the key the operator published; walking the entries in
/// order then tells which key each entry's signature must verify with.
public struct KeyChain: Sendable, Equatable {
    /// Every key that has been in force, oldest first.
    public private(set) var keys: [NoteVerifier]

    /// The key in force: it signs the next entry and the checkpoints.
    public var current: NoteVerifier { keys[keys.count - 1] }

    /// A chain that starts with `first` (the published key).
    public init(first: NoteVerifier) {
        keys = [first]
    }

    /// The key `entry` must be signed with; a `key` entry then puts its announced key in force.
    ///
    /// Throws, leaving the chain as it was, when a `key` entry announces a key of
    /// another ledger (its name is not the origin).
    public mutating func signer(of entry: LedgerEntry?) throws(KeyChainError) -> NoteVerifier {
        let signer = current
        guard case .key(let next)? = entry else { return signer }
        guard next.name == signer.name else { throw .otherOrigin(next.name, expected: signer.name) }
        keys.append(next)
        return signer
    }
}

/// A `key` entry that cannot extend the chain of keys.
public enum KeyChainError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The announced key is named for another origin.
    case otherOrigin(String, expected: String)

    public var description: String {
        switch self {
        case .otherOrigin(let name, let expected): "vkey: the key is for \"\(name)\", not this ledger's origin \"\(expected)\""
        }
    }
}
