import Foundation
import Testing

import TransparencyLog

/// Inputs `make fuzz` found crashing TransparencyLog, kept so they stay fixed.
@Suite("TransparencyLog fuzz regressions")
struct FuzzRegressionTests {
    /// FuzzTile: `Tile(elements:)` took an index up to UInt64.max, and `first`
    /// (`index * 256`) trapped for any index of 2^56 or more. A tile index past
    /// `Tile.maximumIndex` is now no tile, and every tile's positions fit Int64.
    @Test("a tile path whose first entry does not fit in UInt64")
    func tileFirstOverflow() throws {
        let url = try #require(Bundle.module.url(forResource: "FuzzRegressions/tile-first-overflow", withExtension: nil))
        let path = String(decoding: try Data(contentsOf: url), as: UTF8.self)
        #expect(path == "63/x072/x057/x594/x074/x927/935")
        #expect(Tile(elements: path.split(separator: "/", omittingEmptySubsequences: false)) == nil)
        let largest = try #require(Tile(elements: ["0"] + Tile.encode(Tile.maximumIndex).split(separator: "/")))
        #expect(largest.first + UInt64(largest.width) <= UInt64(Int64.max))
        #expect(Tile(elements: ["0"] + Tile.encode(Tile.maximumIndex + 1).split(separator: "/")) == nil)
    }
}
