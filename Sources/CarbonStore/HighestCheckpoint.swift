import Foundation
import TransparencyLog

#if canImport(Glibc)
import Glibc
#endif

/// The highest checkpoint this daemon has signed, kept outside the database (beside
/// the key) so that a database replaced by an older copy cannot make the daemon sign
/// a second tree of a size it has signed before: a fork under one key.
///
/// The file has two 4 KiB slots, written in turn, each
/// `"CLCKPT1\n" || u32 length || note || SHA-256(magic || length || note)`: a write torn
/// by a crash spoils at most the slot being written, and the other still holds the
/// previous checkpoint. One `pwrite` and one `fdatasync` per commit.
///
/// Used by one thread at a time: the store's start, then the ledger writer's thread.
public final class HighestCheckpoint: @unchecked Sendable {
    /// Where the file of a ledger whose key is at `keyPath` lives: in the key's folder,
    /// named by the origin, so that it stays put when the key is rotated to a new file.
    public static func path(keyPath: String, origin: String) -> String {
        let folder = (keyPath as NSString).deletingLastPathComponent
        let name = String(origin.unicodeScalars.map { scalar -> Character in
            scalar.isASCII && (CharacterSet.alphanumerics.contains(scalar) || "._-".unicodeScalars.contains(scalar))
                ? Character(scalar) : "_"
        })
        return (folder.isEmpty ? "" : folder + "/") + name + ".checkpoint"
    }

    static let slotSize = 4096
    private static let magic = Array("CLCKPT1\n".utf8)

    public let path: String
    private let fd: Int32
    /// The slot the next save writes (the other holds the highest checkpoint).
    private var nextSlot = 0

    /// Opens (creating, mode 0600) the file at `path`.
    public init(path: String) throws {
        self.path = path
        fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            throw StoreError.io("cannot open the highest-checkpoint file \(path): \(String(cString: strerror(errno)))")
        }
        fchmod(fd, 0o600)
    }

    deinit { close(fd) }

    /// The highest checkpoint in the file that verifies with one of `verifiers`, nil for
    /// a new (empty) file. A file holding slots but no valid one is an error: something
    /// other than this daemon wrote it.
    public func highest(verifiers: [NoteVerifier]) throws -> SignedCheckpoint? {
        var best: (slot: Int, checkpoint: SignedCheckpoint)? = nil
        var sawData = false
        for slot in 0..<2 {
            var bytes = [UInt8](repeating: 0, count: Self.slotSize)
            let n = bytes.withUnsafeMutableBytes { pread(fd, $0.baseAddress, Self.slotSize, off_t(slot * Self.slotSize)) }
            guard n > 0 else { continue }
            sawData = sawData || bytes[..<n].contains { $0 != 0 }
            guard let note = Self.note(in: bytes[..<n]),
                let signed = try? SignedCheckpoint.open(note, verifiers: verifiers)
            else { continue }
            if best.map({ signed.checkpoint.size > $0.checkpoint.checkpoint.size }) ?? true { best = (slot, signed) }
        }
        if let best {
            nextSlot = 1 - best.slot
        } else if sawData {
            throw StoreError.corrupt(
                "\(path) holds no checkpoint that verifies with this ledger's keys; it is not this ledger's")
        }
        return best?.checkpoint
    }

    /// Records `note` as the highest signed checkpoint, durably, in the slot not
    /// holding the previous one.
    public func save(_ note: String) throws {
        let noteBytes = Array(note.utf8)
        var slot = Self.magic
        var length = UInt32(noteBytes.count).bigEndian
        withUnsafeBytes(of: &length) { slot.append(contentsOf: $0) }
        slot += noteBytes
        slot += SHA256.hash(slot).bytes
        guard slot.count <= Self.slotSize else {
            throw StoreError.io("a checkpoint of \(noteBytes.count) bytes does not fit \(path)'s slots")
        }
        slot += [UInt8](repeating: 0, count: Self.slotSize - slot.count)
        let written = slot.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, off_t(nextSlot * Self.slotSize)) }
        guard written == Self.slotSize, fdatasync(fd) == 0 else {
            throw StoreError.io("cannot write \(path): \(String(cString: strerror(errno)))")
        }
        nextSlot = 1 - nextSlot
    }

    /// The note of one slot, if its magic, length and checksum hold.
    private static func note(in slot: ArraySlice<UInt8>) -> String? {
        let bytes = Array(slot)
        let header = magic.count + 4
        guard bytes.count >= header + 32, bytes.starts(with: magic) else { return nil }
        let length = bytes[magic.count..<header].reduce(0) { $0 << 8 | Int($1) }
        guard length <= bytes.count - header - 32 else { return nil }
        let end = header + length
        guard SHA256.hash(Array(bytes[..<end])).bytes == Array(bytes[end..<(end + 32)]) else { return nil }
        return String(decoding: bytes[header..<end], as: UTF8.self)
    }
}
