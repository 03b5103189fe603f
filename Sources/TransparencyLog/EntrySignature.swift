/// Per-entry Ed25519 signatures over "carbonledger/entry/v1\n" || entry (ledger.md section 2).
///
/// The context prefix keeps an entry signature from ever being valid as a
/// note signature, and the reverse.
public enum EntrySignature {
    /// Domain-separation prefix signed before the entry bytes.
    public static let context = "carbonledger/entry/v1\n"

    /// Signs an entry; the entry is copied once, next to the context, because Ed25519 needs one contiguous message.
    public static func sign(entry: UnsafeRawBufferPointer, signer: NoteSigner) -> [UInt8] {
        withMessage(entry) { signer.sign($0) }
    }

    /// Signs an entry.
    public static func sign(entry: [UInt8], signer: NoteSigner) -> [UInt8] {
        entry.withUnsafeBytes { sign(entry: $0, signer: signer) }
    }

    /// Whether `signature` is `verifier`'s signature of this entry.
    public static func verify(entry: UnsafeRawBufferPointer, signature: [UInt8], verifier: NoteVerifier) -> Bool {
        withMessage(entry) { verifier.verify(message: $0, signature: signature) }
    }

    /// Whether `signature` is `verifier`'s signature of this entry.
    public static func verify(entry: [UInt8], signature: [UInt8], verifier: NoteVerifier) -> Bool {
        entry.withUnsafeBytes { verify(entry: $0, signature: signature, verifier: verifier) }
    }

    /// Calls `body` with context || entry in a temporary buffer (on the stack when small).
    private static func withMessage<R>(_ entry: UnsafeRawBufferPointer, _ body: (UnsafeRawBufferPointer) -> R) -> R {
        var context = context
        return context.withUTF8 { prefix in
            withUnsafeTemporaryAllocation(byteCount: prefix.count + entry.count, alignment: 1) { buffer in
                buffer.copyMemory(from: UnsafeRawBufferPointer(prefix))
                if entry.count > 0 {
                    UnsafeMutableRawBufferPointer(rebasing: buffer[prefix.count...]).copyMemory(from: entry)
                }
                return body(UnsafeRawBufferPointer(buffer))
            }
        }
    }
}
