import FuzzSupport
import TransparencyLog

// Go's sumdb/note test key (shared/testdata/signed-note.md): a fixed, public key, so
// the corpus can hold notes that really verify and the fuzzer mutates those.
let signer = try! NoteSigner(skey: "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz")
let verifier = try! NoteVerifier("PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW")

/// Signed notes and key strings: opening with the fixed key never traps; a note that
/// opens was signed over its text; the text re-signed opens again; a key that parses
/// has exactly one spelling.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = fuzzBytes(data, size)
    if let opened = try? SignedNote.open(bytes, verifiers: [verifier]) {
        check(opened.verified == [verifier], "opened with a key it was not given")
        check(bytes.starts(with: Array((opened.text + "\n").utf8)), "the opened text is not the note's start")
        check(opened.text.utf8.last == UInt8(ascii: "\n"), "the opened text lacks its final newline")
        let resigned = try? SignedNote.sign(text: opened.text, signers: [signer])
        check(resigned.flatMap { try? SignedNote.open($0, verifiers: [verifier]).text } == opened.text, "re-signed text does not open")
    }
    let text = String(decoding: bytes, as: UTF8.self)
    if let key = try? NoteVerifier(text) {
        check(key.vkey == text, "a verifier key with a second spelling: \(text.debugDescription)")
        check((try? NoteVerifier(key.vkey)) == key, "vkey does not parse back")
    }
    if let parsed = try? NoteSigner(skey: text) {
        check((try? NoteVerifier(parsed.verifier.vkey)) == parsed.verifier, "a signer's vkey does not parse back")
    }
    return 0
}
