import CSodium
import Foundation

/// An Ed25519 private key kept in libsodium guarded memory.
///
/// The 64-byte libsodium secret key (seed || public key) lives in a
/// `sodium_malloc` region (guard pages, mlocked, canary) that is made
/// inaccessible except while signing, and is wiped by `sodium_free`.
public final class SigningKey: @unchecked Sendable {
    // @unchecked: the only mutable state is the page protection of `secret`,
    // which `lock` serialises (one signer must not re-protect the page while
    // another is still reading it).
    private let secret: UnsafeMutableRawPointer
    private let lock = NSLock()

    /// The 32-byte Ed25519 public key.
    public let publicKey: [UInt8]

    /// Derives the key pair from a 32-byte seed (RFC 8032 private key).
    public convenience init(seed: [UInt8]) throws(KeyFormatError) {
        guard seed.count == Int(crypto_sign_SEEDBYTES) else { throw .wrongKeyLength(seed.count) }
        // Borrowing the array's storage makes no copy that would need wiping.
        let (secret, publicKey) = seed.withUnsafeBytes { Self.derive(seed: $0) }
        self.init(secret: secret, publicKey: publicKey)
    }

    /// Derives the key pair from exactly 32 seed bytes the caller owns (and wipes).
    convenience init(seedBytes seed: UnsafeRawBufferPointer) {
        let (secret, publicKey) = Self.derive(seed: seed)
        self.init(secret: secret, publicKey: publicKey)
    }

    private init(secret: UnsafeMutableRawPointer, publicKey: [UInt8]) {
        self.secret = secret
        self.publicKey = publicKey
    }

    /// A fresh random key pair (libsodium's CSPRNG); the seed never leaves guarded memory.
    public static func generate() -> SigningKey {
        let (secret, publicKey) = makeKeyPair { pk, sk in crypto_sign_keypair(pk, sk) }
        return SigningKey(secret: secret, publicKey: publicKey)
    }

    private static func derive(seed: UnsafeRawBufferPointer) -> (UnsafeMutableRawPointer, [UInt8]) {
        precondition(seed.count == Int(crypto_sign_SEEDBYTES))
        return makeKeyPair { pk, sk in
            crypto_sign_seed_keypair(pk, sk, seed.baseAddress!.assumingMemoryBound(to: UInt8.self))
        }
    }

    /// Runs a libsodium key-pair function with the secret half written straight into guarded memory.
    private static func makeKeyPair(
        _ body: (UnsafeMutablePointer<UInt8>, UnsafeMutablePointer<UInt8>) -> Int32
    ) -> (UnsafeMutableRawPointer, [UInt8]) {
        Sodium.ensureInitialized()
        guard let secret = sodium_malloc(Int(crypto_sign_SECRETKEYBYTES)) else {
            fatalError("sodium_malloc failed: out of memory for a signing key")
        }
        var publicKey = [UInt8](repeating: 0, count: Int(crypto_sign_PUBLICKEYBYTES))
        let status = publicKey.withUnsafeMutableBufferPointer { pk in
            body(pk.baseAddress!, secret.assumingMemoryBound(to: UInt8.self))
        }
        precondition(status == 0, "libsodium key pair generation failed")
        sodium_mprotect_noaccess(secret)
        return (secret, publicKey)
    }

    deinit {
        // sodium_free re-enables access, checks the canary and wipes before unmapping.
        sodium_free(secret)
    }

    /// Signs `message`, returning the 64-byte Ed25519 signature.
    public func sign(_ message: UnsafeRawBufferPointer) -> [UInt8] {
        var signature = [UInt8](repeating: 0, count: Int(crypto_sign_BYTES))
        withSecret { sk in
            _ = crypto_sign_detached(&signature, nil,
                                     message.baseAddress?.assumingMemoryBound(to: UInt8.self),
                                     UInt64(message.count), sk)
        }
        return signature
    }

    /// Signs `message`, returning the 64-byte Ed25519 signature.
    public func sign(_ message: [UInt8]) -> [UInt8] {
        message.withUnsafeBytes { sign($0) }
    }

    /// Copies the 32-byte seed into `output` (for writing a key file); the caller wipes it.
    func copySeed(into output: UnsafeMutableRawBufferPointer) {
        precondition(output.count >= Int(crypto_sign_SEEDBYTES))
        withSecret { sk in
            _ = crypto_sign_ed25519_sk_to_seed(output.baseAddress!.assumingMemoryBound(to: UInt8.self), sk)
        }
    }

    /// Runs `body` with the secret key readable, then makes it inaccessible again.
    private func withSecret(_ body: (UnsafePointer<UInt8>) -> Void) {
        lock.withLock {
            sodium_mprotect_readonly(secret)
            defer { sodium_mprotect_noaccess(secret) }
            body(UnsafePointer(secret.assumingMemoryBound(to: UInt8.self)))
        }
    }
}
