import Foundation
import Synchronization
import TransparencyLog

#if canImport(Glibc)
import Glibc
#endif

/// What a witness has cosigned, by log origin: the file `<folder>/witnessed`, one
/// line a log, `<size> <base64 root> <origin>`. The folder is locked (`flock`) while a
/// witness uses it, so two witnesses never share a state.
///
/// Every change is checked and saved under one lock, and saved before it is
/// answered: the file is written whole beside the old one, synced, and renamed over
/// it, so a crash leaves the old state or the new, never a rollback.
public final class WitnessState: Sendable {
    private let path: String
    private let folder: String
    private let trees: Mutex<[String: WitnessedTree]>
    private let lockDescriptor: Int32

    /// Opens (creating) the state in `folder`.
    public init(folder: String) throws {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        self.folder = folder
        path = folder + "/witnessed"
        let lockPath = folder + "/lock"
        let fd = open(lockPath, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw WitnessError("cannot open \(lockPath): \(String(cString: strerror(errno)))") }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            close(fd)
            throw WitnessError("the witness state \(folder) is in use by another witness")
        }
        lockDescriptor = fd
        trees = Mutex(try Self.load(path))
    }

    deinit { close(lockDescriptor) }

    /// The tree recorded for `origin`, nil if it was never cosigned.
    public func tree(of origin: String) -> WitnessedTree? { trees.withLock { $0[origin] } }

    /// Runs `decide` with the recorded trees and, when it returns a new tree for an
    /// origin, saves it before returning; nothing else changes the state meanwhile.
    public func update<T>(
        _ decide: ([String: WitnessedTree]) throws(WitnessRefusal) -> (origin: String, tree: WitnessedTree, result: T)
    ) throws -> T {
        try trees.withLock { trees in
            let decision = try decide(trees)
            var next = trees
            next[decision.origin] = decision.tree
            try save(next)
            trees = next
            return decision.result
        }
    }

    private static func load(_ path: String) throws -> [String: WitnessedTree] {
        guard FileManager.default.fileExists(atPath: path) else { return [:] }
        let text = try String(contentsOfFile: path, encoding: .utf8)
        var trees: [String: WitnessedTree] = [:]
        for (number, line) in text.split(separator: "\n").enumerated() {
            let fields = line.split(separator: " ", maxSplits: 2)
            guard fields.count == 3, let size = UInt64(fields[0]), let root = Hash256(base64: String(fields[1])) else {
                throw WitnessError("\(path) line \(number + 1) is not \"<size> <base64 root> <origin>\"")
            }
            trees[String(fields[2])] = WitnessedTree(size: size, root: root)
        }
        return trees
    }

    private func save(_ trees: [String: WitnessedTree]) throws {
        let text = trees.sorted { $0.key < $1.key }.map { "\($0.value.size) \($0.value.root.base64) \($0.key)\n" }.joined()
        let temporary = path + ".new"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw WitnessError("cannot write \(temporary): \(String(cString: strerror(errno)))") }
        let bytes = Array(text.utf8)
        let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        let synced = fsync(fd) == 0
        close(fd)
        guard written == bytes.count, synced, rename(temporary, path) == 0 else {
            throw WitnessError("cannot save the witness state \(path): \(String(cString: strerror(errno)))")
        }
        let directory = open(folder, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if directory >= 0 {
            _ = fsync(directory)
            close(directory)
        }
    }
}

/// A witness problem, phrased for its operator.
public struct WitnessError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
