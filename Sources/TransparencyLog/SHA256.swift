import CSHA256

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
