import TransparencyLog

/// Where a verifier reads a ledger from, file by file of the bundle layout
/// (`LedgerBundle`): an exported folder, the daemon's tile routes, or the database.
/// Each answer is the bytes as that source holds them, unchecked.
public protocol LedgerSource {
    /// The signed checkpoint note.
    func checkpoint() -> Result<[UInt8], LedgerSourceError>
    /// The bytes of an entries or hash tile.
    func tile(_ tile: Tile) -> Result<[UInt8], LedgerSourceError>
    /// The signatures of the entries of an entries tile.
    func signatures(_ tile: Tile) -> Result<[UInt8], LedgerSourceError>
    /// The data tile of an entries tile; `.missing` when none of its entries has data.
    func data(_ tile: Tile) -> Result<[UInt8], LedgerSourceError>
}

/// Why a source could not give one of its files; `location` names it (a path, a URL).
public enum LedgerSourceError: Error, Equatable, CustomStringConvertible {
    case missing(String)
    case notAFile(String)
    case tooLarge(String, limit: Int, what: String)
    case unreadable(String, why: String)

    public var description: String {
        switch self {
        case .missing(let location): "\(location): missing"
        case .notAFile(let location): "\(location): not a regular file"
        case .tooLarge(let location, let limit, let what): "\(location): larger than the \(limit) bytes \(what) can hold"
        case .unreadable(let location, let why): "\(location): cannot be read (\(why))"
        }
    }
}
