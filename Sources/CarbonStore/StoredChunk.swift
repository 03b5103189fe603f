import CarbonLedger
import TransparencyLog

/// One chunk of a `readings` entry's batch as `reading_batches.chunks` keeps it: its
/// root (`BatchChunks`) and the lowest and highest `(start, meter id)` keys of its
/// readings, so its leaves are found by one range read of the readings table (a
/// head-end's batch, sorted by meter within each hour, puts a chunk's 256 readings
/// next to each other).
struct StoredChunk {
    var root: Hash256
    var first: (start: Int64, meter: Int64)
    var last: (start: Int64, meter: Int64)

    /// Bytes per chunk: the root, then the four keys as big-endian Int64.
    static let encodedSize = 32 + 4 * 8

    static func encode(_ chunks: [StoredChunk]) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(chunks.count * encodedSize)
        for chunk in chunks {
            bytes += chunk.root.bytes
            for value in [chunk.first.start, chunk.first.meter, chunk.last.start, chunk.last.meter] {
                withUnsafeBytes(of: value.bigEndian) { bytes += $0 }
            }
        }
        return bytes
    }

    static func decode(_ bytes: [UInt8], entry: Int64) throws -> [StoredChunk] {
        guard bytes.count % encodedSize == 0 else {
            throw StoreError.corrupt("the chunks of readings entry \(entry) are \(bytes.count) bytes")
        }
        return try stride(from: 0, to: bytes.count, by: encodedSize).map { offset in
            guard let root = Hash256(bytes: Array(bytes[offset..<offset + 32])) else {
                throw StoreError.corrupt("a chunk root of readings entry \(entry)")
            }
            func int(_ k: Int) -> Int64 {
                let start = offset + 32 + k * 8
                return bytes[start..<start + 8].reduce(Int64(0)) { $0 << 8 | Int64($1) }
            }
            return StoredChunk(root: root, first: (int(0), int(1)), last: (int(2), int(3)))
        }
    }
}

/// The lowest and highest keys of each chunk's readings, gathered as a batch is stored.
struct ChunkKeys {
    private(set) var first: [(start: Int64, meter: Int64)] = []
    private(set) var last: [(start: Int64, meter: Int64)] = []

    mutating func add(position: Int, start: Int64, meter: Int64) {
        let chunk = position / BatchChunks.size
        if chunk == first.count {
            first.append((start, meter))
            last.append((start, meter))
        } else {
            if (start, meter) < first[chunk] { first[chunk] = (start, meter) }
            if (start, meter) > last[chunk] { last[chunk] = (start, meter) }
        }
    }

    func chunks(roots: [Hash256]) -> [StoredChunk] {
        roots.indices.map { StoredChunk(root: roots[$0], first: first[$0], last: last[$0]) }
    }
}
