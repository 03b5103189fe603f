import CSodium

/// Ed25519 signature verification (RFC 8032, via libsodium).
public enum Ed25519 {
    /// Whether `signature` is a valid signature of `message` by `publicKey` (false for wrong lengths).
    public static func verify(signature: [UInt8], message: UnsafeRawBufferPointer, publicKey: [UInt8]) -> Bool {
        guard signature.count == Int(crypto_sign_BYTES), publicKey.count == Int(crypto_sign_PUBLICKEYBYTES) else {
            return false
        }
        Sodium.ensureInitialized()
        // libsodium accepts a null message pointer when the length is 0.
        return crypto_sign_verify_detached(
            signature, message.baseAddress?.assumingMemoryBound(to: UInt8.self),
            UInt64(message.count), publicKey) == 0
    }

    /// Whether `signature` is a valid signature of `message` by `publicKey`.
    public static func verify(signature: [UInt8], message: [UInt8], publicKey: [UInt8]) -> Bool {
        message.withUnsafeBytes { verify(signature: signature, message: $0, publicKey: publicKey) }
    }
}
