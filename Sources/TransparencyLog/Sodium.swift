import CSodium

/// One-time libsodium initialisation.
enum Sodium {
    // A static let runs its initialiser exactly once, thread-safely.
    private static let initialized: Bool = sodium_init() >= 0

    /// Initialises libsodium if needed; traps if it cannot (no usable randomness).
    static func ensureInitialized() {
        precondition(initialized, "libsodium failed to initialise")
    }
}

/// Overwrites secret bytes with zeros in a way the compiler cannot elide.
public func sodiumWipe(_ buffer: UnsafeMutableRawBufferPointer) {
    guard let base = buffer.baseAddress, buffer.count > 0 else { return }
    sodium_memzero(base, buffer.count)
}
