import FuzzSupport
import TransparencyLog

/// Tile paths (the part after `tile/`, split at `/`): a parsed tile's `path` is exactly
/// the input and parses to the same tile; `first` and the partial width stay in range.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let text = fuzzText(data, size)
    let elements = text.split(separator: "/", omittingEmptySubsequences: false)
    guard let tile = Tile(elements: elements) else { return 0 }
    let path = tile.path
    check(path == "tile/" + text, "a tile path with a second spelling: \(text.debugDescription)")
    check(Tile(elements: path.split(separator: "/", omittingEmptySubsequences: false).dropFirst().map { $0 }) == tile,
          "a tile's path parses to another tile")
    check((1...Tile.width).contains(tile.width), "width \(tile.width) outside 1...\(Tile.width)")
    check(tile.first / UInt64(Tile.width) == tile.index, "first is not index * width")
    return 0
}
