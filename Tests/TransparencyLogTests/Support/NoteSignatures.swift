import TransparencyLog

/// The signature lines of `note`, read without any verifier key (so none of them is checked).
func unknownSignatures(of note: String) -> [NoteSignature] {
    do throws(NoteError) {
        return try SignedNote.open(note, verifiers: []).unverified
    } catch {
        guard case .unverified(let opened) = error else { return [] }
        return opened.unverified
    }
}
