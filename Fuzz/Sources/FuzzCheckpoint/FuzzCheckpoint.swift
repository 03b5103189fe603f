import FuzzSupport
import TransparencyLog

// Go's sumdb/note test key (shared/testdata/signed-note.md); corpus checkpoints have the
// origin `PeterNeumann` and are signed with it, so mutations reach the origin check.
let signer = try! NoteSigner(skey: "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz")
let verifier = try! NoteVerifier("PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW")

/// Checkpoints, bare and signed: parsing and verifying with the fixed key never trap; a
/// parsed checkpoint re-serialises to exactly its text; a signed one opens only under
/// its origin's key.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let text = fuzzText(data, size)
    if let checkpoint = try? Checkpoint(text: text) {
        check(checkpoint.text == text, "a checkpoint with a second spelling: \(text.debugDescription)")
        if checkpoint.origin == verifier.name {
            let signed = try? SignedCheckpoint.sign(checkpoint, signers: [signer])
            check(signed.flatMap { try? SignedCheckpoint.open($0.note, verifiers: [verifier]).checkpoint } == checkpoint,
                  "a signed checkpoint does not open")
        }
    }
    if let signed = try? SignedCheckpoint.open(text, verifiers: [verifier]) {
        check(signed.checkpoint.origin == verifier.name, "opened a checkpoint of another origin")
        check(signed.note == text, "the note changed")
        check((try? SignedCheckpoint.unverified(text)) == signed.checkpoint, "unverified reads another checkpoint")
    }
    if let claimed = try? SignedCheckpoint.unverified(text) {
        check((try? Checkpoint(text: claimed.text)) == claimed, "an unverified checkpoint does not parse back")
    }
    return 0
}
