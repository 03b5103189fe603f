/// A 32-byte SHA-256 digest, stored inline so tree code never allocates per hash.
public struct Hash256: Hashable, Sendable {
    // Four words in memory order: the bytes of the digest are exactly the
    // bytes of this tuple (homogeneous tuples are laid out contiguously).
    @usableFromInline
    internal var storage: (UInt64, UInt64, UInt64, UInt64)

    /// The all-zero hash (a placeholder, never the hash of anything).
    public static let zero = Hash256(storage: (0, 0, 0, 0))

    @usableFromInline
    internal init(storage: (UInt64, UInt64, UInt64, UInt64)) {
        self.storage = storage
    }

    /// Creates a hash from exactly 32 bytes; nil for any other length.
    public init?(bytes: some Collection<UInt8>) {
        guard bytes.count == 32 else { return nil }
        self = .zero
        withUnsafeMutableBytes(of: &storage) { raw in
            raw.copyBytes(from: bytes)
        }
    }

    /// Creates a hash from standard padded base64 of exactly 32 bytes.
    public init?(base64: String) {
        guard base64.utf8.count == 44 else { return nil }
        self = .zero
        let decoded = withUnsafeMutableBytes(of: &storage) { raw in
            Base64.decode(base64.utf8, into: raw)
        }
        guard decoded == 32 else { return nil }
    }

    /// Creates a hash from 64 hexadecimal digits (either case).
    public init?(hex: String) {
        guard hex.utf8.count == 64 else { return nil }
        self = .zero
        let ok = withUnsafeMutableBytes(of: &storage) { raw in
            Hex.decode(hex.utf8, into: raw)
        }
        guard ok else { return nil }
    }

    /// Creates a hash by letting `body` write the 32 bytes (used by the C hash calls).
    @inlinable
    internal init(writing body: (UnsafeMutablePointer<UInt8>) -> Void) {
        self.storage = (0, 0, 0, 0)
        withUnsafeMutableBytes(of: &storage) { raw in
            body(raw.baseAddress!.assumingMemoryBound(to: UInt8.self))
        }
    }

    /// The 32 bytes, as a new array.
    public var bytes: [UInt8] {
        withUnsafeBytes { Array($0) }
    }

    /// Standard padded base64 of the 32 bytes, as used in checkpoints and entries.
    public var base64: String {
        withUnsafeBytes { Base64.encode($0) }
    }

    /// Lowercase hexadecimal of the 32 bytes.
    public var hex: String {
        withUnsafeBytes { Hex.encode($0) }
    }

    /// Calls `body` with the 32 bytes, without copying them.
    @inlinable
    public func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try Swift.withUnsafeBytes(of: storage, body)
    }

    /// Compares all 32 bytes (not constant-time: hashes here are public).
    @inlinable
    public static func == (lhs: Hash256, rhs: Hash256) -> Bool {
        lhs.storage.0 == rhs.storage.0 && lhs.storage.1 == rhs.storage.1
            && lhs.storage.2 == rhs.storage.2 && lhs.storage.3 == rhs.storage.3
    }

    /// Feeds all 32 bytes to the hasher.
    public func hash(into hasher: inout Hasher) {
        hasher.combine(storage.0)
        hasher.combine(storage.1)
        hasher.combine(storage.2)
        hasher.combine(storage.3)
    }
}

extension Hash256: CustomStringConvertible {
    /// Lowercase hexadecimal, for logs and test failures.
    public var description: String { hex }
}
