import CarbonLedger
import Foundation

/// Reads files from a folder nobody vouches for: a regular file only, and never more
/// bytes than its format allows, so a device or a 100 GB file where a tile should be
/// costs a message, not the machine's memory.
enum BundleFile {
    /// The file's bytes, at most `limit` of them (`what` names the format in the message).
    static func contents(_ url: URL, limit: Int, what: String) -> Result<[UInt8], LedgerSourceError> {
        let path = url.path
        let attributes: [FileAttributeKey: Any]
        do {
            attributes = try FileManager.default.attributesOfItem(atPath: path)
        } catch {
            return FileManager.default.fileExists(atPath: path) ? .failure(.unreadable(path, why: "\(error)")) : .failure(.missing(path))
        }
        guard attributes[.type] as? FileAttributeType == .typeRegular else { return .failure(.notAFile(path)) }
        if let size = attributes[.size] as? NSNumber, size.uint64Value > UInt64(limit) {
            return .failure(.tooLarge(path, limit: limit, what: what))
        }
        guard let handle = FileHandle(forReadingAtPath: path) else { return .failure(.unreadable(path, why: "cannot open it")) }
        defer { try? handle.close() }
        do {
            // One byte past the limit tells a file that grew since it was measured.
            let data = try handle.read(upToCount: limit == Int.max ? limit : limit + 1) ?? Data()
            guard data.count <= limit else { return .failure(.tooLarge(path, limit: limit, what: what)) }
            return .success(Array(data))
        } catch {
            return .failure(.unreadable(path, why: "\(error)"))
        }
    }

    /// The file's bytes, or a failure naming the file and what is wrong with it.
    static func read(_ url: URL, limit: Int, what: String) throws -> [UInt8] {
        switch contents(url, limit: limit, what: what) {
        case .success(let bytes): return bytes
        case .failure(let error): throw CommandFailure("\(error)", exitCode: 3)
        }
    }
}
