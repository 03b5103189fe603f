import TransparencyLog

/// RFC 6962 section 2.1 written as the RFC states it (recursive MTH and PATH), to
/// check the daemon's tree without the iterative code under test. Only SHA-256
/// itself is shared.
enum IndependentMerkle {
    static func leafHash(_ entry: [UInt8]) -> [UInt8] { SHA256.hash([0x00] + entry).bytes }

    static func nodeHash(_ left: [UInt8], _ right: [UInt8]) -> [UInt8] { SHA256.hash([0x01] + left + right).bytes }

    /// MTH(D[n]).
    static func root(_ leaves: ArraySlice<[UInt8]>) -> [UInt8] {
        switch leaves.count {
        case 0: return SHA256.hash([UInt8]()).bytes
        case 1: return leafHash(leaves.first!)
        default:
            let k = largestPowerOfTwo(below: leaves.count)
            let start = leaves.startIndex
            return nodeHash(root(leaves[start..<(start + k)]), root(leaves[(start + k)...]))
        }
    }

    /// PATH(m, D[n]).
    static func path(_ m: Int, _ leaves: ArraySlice<[UInt8]>) -> [[UInt8]] {
        guard leaves.count > 1 else { return [] }
        let k = largestPowerOfTwo(below: leaves.count)
        let start = leaves.startIndex
        if m < k {
            return path(m, leaves[start..<(start + k)]) + [root(leaves[(start + k)...])]
        }
        return path(m - k, leaves[(start + k)...]) + [root(leaves[start..<(start + k)])]
    }

    /// The largest power of two smaller than n (n > 1).
    private static func largestPowerOfTwo(below n: Int) -> Int {
        var k = 1
        while k << 1 < n { k <<= 1 }
        return k
    }
}
