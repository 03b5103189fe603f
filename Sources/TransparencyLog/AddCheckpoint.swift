/// A C2SP tlog-witness `add-checkpoint` request: the size the log believes the
/// witness holds, a consistency proof from it, and the new signed checkpoint.
public struct AddCheckpointRequest: Sendable, Equatable {
    /// The old size line.
    public let oldSize: UInt64
    /// The consistency proof from `oldSize` to the checkpoint's size.
    public let proof: [Hash256]
    /// The signed checkpoint note.
    public let note: String

    /// The most proof lines a client may send.
    public static let maxProofLines = 63

    public init(oldSize: UInt64, proof: [Hash256], note: String) {
        self.oldSize = oldSize
        self.proof = proof
        self.note = note
    }

    /// The request body.
    public var body: String {
        "old \(oldSize)\n" + proof.map { $0.base64 + "\n" }.joined() + "\n" + note
    }

    /// Parses a request body; a malformed one is refused with 400.
    public init(parsing body: [UInt8]) throws(WitnessRefusal) {
        guard let text = String(validating: body, as: UTF8.self) else { throw .malformed("the body is not UTF-8") }
        var rest = text[...]
        func line() throws(WitnessRefusal) -> Substring {
            guard let newline = rest.firstIndex(of: "\n") else { throw .malformed("a line does not end in a newline") }
            defer { rest = rest[rest.index(after: newline)...] }
            return rest[..<newline]
        }
        let old = try line()
        guard old.hasPrefix("old "), let size = Self.decimal(old.dropFirst(4)) else {
            throw .malformed("the first line must be \"old <size>\" in decimal without leading zeros")
        }
        var proof: [Hash256] = []
        while true {
            let hashLine = try line()
            if hashLine.isEmpty { break }
            guard proof.count < Self.maxProofLines else { throw .malformed("more than \(Self.maxProofLines) proof lines") }
            guard let hash = Hash256(base64: String(hashLine)) else { throw .malformed("proof line \(proof.count + 1) is not a base64 hash") }
            proof.append(hash)
        }
        self.init(oldSize: size, proof: proof, note: String(rest))
    }

    private static func decimal(_ digits: Substring) -> UInt64? {
        guard !digits.isEmpty, digits.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }),
              digits == "0" || digits.first != "0"
        else { return nil }
        return UInt64(digits)
    }
}

/// What a witness recorded of a log: the latest checkpoint it cosigned.
public struct WitnessedTree: Sendable, Equatable {
    public let size: UInt64
    public let root: Hash256

    public init(size: UInt64, root: Hash256) {
        self.size = size
        self.root = root
    }
}

/// Why a witness refused to cosign, with the HTTP status tlog-witness assigns.
public enum WitnessRefusal: Error, Sendable, Equatable, CustomStringConvertible {
    /// 400: the body is not an add-checkpoint request.
    case malformed(String)
    /// 404: no log with this origin is known.
    case unknownOrigin(String)
    /// 403: no valid signature from a key trusted for the origin.
    case notSigned(String)
    /// 400: the old size is larger than the checkpoint's.
    case oldSizeTooLarge(old: UInt64, new: UInt64)
    /// 409: the old size is not the size the witness holds (its size goes in the body).
    case sizeConflict(witnessSize: UInt64, claimed: UInt64)
    /// 422: the proof does not show the new tree extends the one the witness holds.
    case inconsistent(String)

    /// The HTTP status of the refusal.
    public var status: Int {
        switch self {
        case .malformed, .oldSizeTooLarge: 400
        case .notSigned: 403
        case .unknownOrigin: 404
        case .sizeConflict: 409
        case .inconsistent: 422
        }
    }

    public var description: String {
        switch self {
        case .malformed(let why): "malformed add-checkpoint request: \(why)"
        case .unknownOrigin(let origin): "no log with origin \(origin) is known to this witness"
        case .notSigned(let why): "the checkpoint is not signed by a key trusted for its origin: \(why)"
        case let .oldSizeTooLarge(old, new): "the old size \(old) is larger than the checkpoint's size \(new)"
        case let .sizeConflict(held, claimed): "the witness holds size \(held), not \(claimed)"
        case .inconsistent(let why): "the checkpoint is not consistent with the one the witness holds: \(why)"
        }
    }
}

/// The checks of tlog-witness `add-checkpoint`, in the order the specification
/// gives them; the caller runs them and saves the result as one atomic step.
public enum AddCheckpoint {
    /// The tree `request` moves the log to, if the witness, holding `held` (nil: never
    /// cosigned this log) and trusting `keys` for the request's origin (nil: unknown
    /// origin), may cosign it.
    public static func check(
        _ request: AddCheckpointRequest, keys: (String) -> [NoteVerifier]?, held: (String) -> WitnessedTree?
    ) throws(WitnessRefusal) -> (checkpoint: Checkpoint, text: String) {
        // The origin names the keys to check the note with; the text they sign is this checkpoint.
        let checkpoint: Checkpoint
        do { checkpoint = try SignedCheckpoint.unverified(request.note) } catch {
            throw .malformed("the checkpoint: \(error)")
        }
        guard let trusted = keys(checkpoint.origin) else { throw .unknownOrigin(checkpoint.origin) }
        let opened: OpenedNote
        do {
            opened = try SignedNote.open(request.note, verifiers: trusted)
        } catch {
            throw .notSigned("\(error)")
        }
        guard request.oldSize <= checkpoint.size else {
            throw .oldSizeTooLarge(old: request.oldSize, new: checkpoint.size)
        }
        let witnessed = held(checkpoint.origin)
        let heldSize = witnessed?.size ?? 0
        guard request.oldSize == heldSize else { throw .sizeConflict(witnessSize: heldSize, claimed: request.oldSize) }
        if checkpoint.size == 0 && checkpoint.rootHash != RFC6962.emptyRoot {
            throw .inconsistent("a tree of size 0 must have the empty tree's root")
        }
        if let witnessed, witnessed.size > 0 {
            // Equal sizes need an empty proof and the root held: a second root at one size is a fork.
            do {
                try RFC6962.verifyConsistency(
                    size1: witnessed.size, size2: checkpoint.size, root1: witnessed.root, root2: checkpoint.rootHash,
                    proof: request.proof)
            } catch {
                throw .inconsistent("\(error)")
            }
        } else if !request.proof.isEmpty {
            throw .inconsistent("from the empty tree the proof must be empty")
        }
        return (checkpoint, opened.text)
    }
}
