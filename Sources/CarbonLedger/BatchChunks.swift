import TransparencyLog

/// A `readings` entry's batch tree cut into chunks of 256 leaves: each chunk is a
/// node of the RFC 6962 tree over the batch (chunks start at multiples of a power of
/// two, and the tree splits at the largest power of two below its size), so the roots
/// of the chunks, taken as leaves, give the same tree above them.
///
/// The store keeps each batch's chunk roots, so a reading's proof is the path inside
/// its chunk (256 leaves rebuilt) followed by the path of the chunk among the roots.
public enum BatchChunks {
    /// Leaves per chunk.
    public static let size = 256

    /// The root of each chunk of `leafHashes`, in order.
    public static func roots(of leafHashes: [Hash256]) -> [Hash256] {
        stride(from: 0, to: leafHashes.count, by: size).map { start in
            RFC6962.rootHash(ofLeafHashes: Array(leafHashes[start..<min(start + size, leafHashes.count)]))
        }
    }

    /// The batch root from its chunk roots.
    public static func batchRoot(ofChunkRoots roots: [Hash256]) -> Hash256 {
        RFC6962.rootHash(ofLeafHashes: roots)
    }

    /// The inclusion path of the leaf at `position` in the batch tree, from the leaf
    /// hashes of its chunk and the roots of every chunk.
    public static func inclusionProof(position: Int, chunkLeaves: [Hash256], chunkRoots: [Hash256]) -> [Hash256] {
        let chunk = position / size
        return RFC6962.inclusionProof(index: position - chunk * size, leafHashes: chunkLeaves)
            + RFC6962.inclusionProof(index: chunk, leafHashes: chunkRoots)
    }
}
