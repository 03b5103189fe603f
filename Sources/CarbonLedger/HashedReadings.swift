import CarbonModel
import TransparencyLog

/// Readings of one request with their leaf hashes, hashed where the request is
/// handled so the single ledger writer only decides and stores.
public struct HashedReadings: Sendable {
    /// The readings that passed field validation, in body order.
    public var readings: [Reading]
    /// The 0-based position in the body of each reading (for error reports).
    public var recordIndex: [Int]
    /// `RFC6962.leafHash` of each reading's leaf bytes.
    public var leafHashes: [Hash256]
    /// The RFC 6962 root over all `leafHashes`: the batch root when every reading is accepted.
    public var rootOfAll: Hash256
    /// `BatchChunks.roots` of all `leafHashes`: the batch's chunk roots when every
    /// reading is accepted.
    public var chunkRootsOfAll: [Hash256]

    public init(readings: [Reading], recordIndex: [Int]) {
        self.readings = readings
        self.recordIndex = recordIndex
        var leaf: [UInt8] = []
        leaf.reserveCapacity(256)
        var hashes: [Hash256] = []
        hashes.reserveCapacity(readings.count)
        for reading in readings {
            leaf.removeAll(keepingCapacity: true)
            reading.writeLeaf(into: &leaf)
            hashes.append(RFC6962.leafHash(leaf))
        }
        self.leafHashes = hashes
        self.chunkRootsOfAll = BatchChunks.roots(of: hashes)
        self.rootOfAll = BatchChunks.batchRoot(ofChunkRoots: chunkRootsOfAll)
    }
}
