import Dispatch
import Synchronization
import TransparencyLog

#if canImport(Glibc)
import Glibc
#endif

/// Checks entry signatures on every core while the walk over the entries goes on:
/// Ed25519 verification is three quarters of a verification's work, and nothing
/// else waits for it. At most a few tiles per core are queued at once.
final class SignatureChecks: Sendable {
    private let queue = DispatchQueue(label: "carbonledger.signatures", attributes: .concurrent)
    private let group = DispatchGroup()
    private let slots: DispatchSemaphore
    /// Failures by entry index.
    private let failures = Mutex<[(index: UInt64, message: String)]>([])

    init() {
        slots = DispatchSemaphore(value: 4 * Self.cores)
    }

    /// Queues the entries of one tile, their signatures (64 bytes each, in order) and the
    /// key each must verify with; waits while the queue is full.
    func check(entries: [[UInt8]], signatures: [UInt8], signers: [NoteVerifier], first: UInt64) {
        slots.wait()
        queue.async(group: group) { [self] in
            defer { slots.signal() }
            var found: [(UInt64, String)] = []
            for (k, entry) in entries.enumerated() {
                let signature = Array(signatures[(64 * k)..<(64 * k + 64)])
                if !EntrySignature.verify(entry: entry, signature: signature, verifier: signers[k]) {
                    found.append((first + UInt64(k), "entry \(first + UInt64(k)): signature: does not verify with \(signers[k].vkey)"))
                }
            }
            if !found.isEmpty { failures.withLock { $0 += found } }
        }
    }

    /// The cores the process may run on.
    private static var cores: Int {
        #if canImport(Glibc)
        max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))
        #else
        4
        #endif
    }

    /// Waits for every queued check; returns the failures in entry order.
    func finish() -> [String] {
        group.wait()
        return failures.withLock { $0 }.sorted { $0.index < $1.index }.map(\.message)
    }
}
