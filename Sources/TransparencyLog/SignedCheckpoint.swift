/// A checkpoint together with the signed note that carries it.
public struct SignedCheckpoint: Sendable, Equatable {
    /// The parsed checkpoint.
    public let checkpoint: Checkpoint
    /// The complete signed note (text, blank line, signature lines).
    public let note: String

    /// Signs `checkpoint` with `signers`; one of them must be named like the origin (ledger.md section 3).
    public static func sign(_ checkpoint: Checkpoint, signers: [NoteSigner]) throws -> SignedCheckpoint {
        guard signers.contains(where: { $0.name == checkpoint.origin }) else {
            throw CheckpointError.notSignedByOrigin(origin: checkpoint.origin)
        }
        let note = try SignedNote.sign(text: checkpoint.text, signers: signers)
        return SignedCheckpoint(checkpoint: checkpoint, note: note)
    }

    /// Opens a signed checkpoint: the note must verify and a verified key must be named like the origin.
    ///
    /// The origin check stops a key of one log vouching for a checkpoint that
    /// claims to be another log's; witness cosignatures may be present too.
    public static func open(_ note: String, verifiers: [NoteVerifier]) throws -> SignedCheckpoint {
        let opened = try SignedNote.open(note, verifiers: verifiers)
        let checkpoint = try Checkpoint(text: opened.text)
        guard opened.verified.contains(where: { $0.name == checkpoint.origin }) else {
            throw CheckpointError.notSignedByOrigin(origin: checkpoint.origin)
        }
        return SignedCheckpoint(checkpoint: checkpoint, note: note)
    }

    /// The checkpoint a note claims, its signatures NOT checked.
    ///
    /// For a reader that must learn the keys before it can verify (a log whose
    /// signing key changed: its `key` entries say which key signs its later
    /// checkpoints); it must open the note with `open` before trusting anything.
    public static func unverified(_ note: String) throws -> Checkpoint {
        try Checkpoint(text: SignedNote.read(note).text)
    }
}
