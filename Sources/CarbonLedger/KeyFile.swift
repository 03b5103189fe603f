import Foundation
import TransparencyLog

#if canImport(Glibc)
import Glibc
#endif

/// The ledger's private key file (ledger.md section 4): one line in the format
/// of Go's `sumdb/note`, mode 0600, never readable by group or others.
public enum KeyFile {
    /// A key file problem, phrased for the operator.
    public struct Problem: Error, Sendable, CustomStringConvertible {
        public var description: String
    }

    /// Creates a new key for `origin` at `path` (failing if the file exists) and returns the verifier key.
    public static func create(path: String, origin: String) throws -> String {
        let (skey, vkey) = try NoteSigner.generate(name: origin)
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            throw Problem(description: "cannot create key file \(path): \(String(cString: strerror(errno)))")
        }
        defer { close(fd) }
        var line = Array((skey + "\n").utf8)
        defer { line.withUnsafeMutableBytes { sodiumWipe($0) } }
        let written = line.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        guard written == line.count, fsync(fd) == 0 else {
            throw Problem(description: "cannot write key file \(path): \(String(cString: strerror(errno)))")
        }
        return vkey
    }

    /// Reads the key at `path`, refusing a file that group or others may read or write.
    public static func load(path: String) throws -> NoteSigner {
        var info = stat()
        guard stat(path, &info) == 0 else {
            throw Problem(description: "cannot read key file \(path): \(String(cString: strerror(errno))) "
                + "(create one with: carbonctl keygen --origin ORIGIN --out \(path))")
        }
        guard info.st_mode & 0o077 == 0 else {
            throw Problem(description: "key file \(path) has mode \(String(info.st_mode & 0o777, radix: 8)): "
                + "group and others must have no access (chmod 600 \(path))")
        }
        // Read into memory this function owns and wipes: no Data or String copy of the
        // secret outlives the load.
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw Problem(description: "cannot read key file \(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        let capacity = 4096
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: capacity, alignment: 1)
        defer {
            sodiumWipe(buffer)
            buffer.deallocate()
        }
        var count = 0
        while count < capacity {
            let n = read(fd, buffer.baseAddress! + count, capacity - count)
            if n < 0 && errno == EINTR { continue }
            guard n >= 0 else { throw Problem(description: "cannot read key file \(path): \(String(cString: strerror(errno)))") }
            if n == 0 { break }
            count += n
        }
        guard count < capacity else { throw Problem(description: "key file \(path) is too large to be a private key") }
        while count > 0, buffer[count - 1] == UInt8(ascii: "\n") || buffer[count - 1] == UInt8(ascii: "\r") { count -= 1 }
        do {
            return try NoteSigner(skeyBytes: UnsafeRawBufferPointer(rebasing: buffer[..<count]))
        } catch {
            throw Problem(description: "key file \(path) is not a valid private key: \(error)")
        }
    }
}
