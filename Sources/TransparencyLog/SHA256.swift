import CSHA256
import CSodium

/// SHA-256 through OpenSSL's libcrypto (SHA-NI accelerated), returning inline hashes.
public enum SHA256 {
    /// SHA256(data), without copying the input.
    @inlinable
    public static func hash(_ data: UnsafeRawBufferPointer) -> Hash256 {
        Hash256 { out in csha256(data.baseAddress, data.count, out) }
    }

    /// SHA256(bytes).
    @inlinable
    public static func hash(_ bytes: [UInt8]) -> Hash256 {
        bytes.withUnsafeBytes { hash($0) }
    }
}

/// SHA-256 over bytes that arrive in pieces (a file streamed over a socket), through
/// libsodium's incremental interface.
public struct SHA256Stream {
    private var state = crypto_hash_sha256_state()

    public init() {
        Sodium.ensureInitialized()
        crypto_hash_sha256_init(&state)
    }

    public mutating func update(_ bytes: UnsafeRawBufferPointer) {
        guard let base = bytes.baseAddress else { return }
        crypto_hash_sha256_update(&state, base.assumingMemoryBound(to: UInt8.self), UInt64(bytes.count))
    }

    /// The hash of every byte given; the stream is spent.
    public mutating func finish() -> Hash256 {
        var out = [UInt8](repeating: 0, count: 32)
        crypto_hash_sha256_final(&state, &out)
        return Hash256(bytes: out)!
    }
}
