import CarbonAccounting
import CarbonLedger
import CarbonModel
import Foundation
import GRDB
import TransparencyLog

/// The ledger as static files (ledger.md section 6): tlog-tiles of the latest
/// checkpoint's tree, the entries' own signatures, and the data behind entries.
extension LedgerReader {
    /// The bytes of `tile`, nil when the latest checkpoint's tree does not hold it. A
    /// partial tile is served for any width the tree covers, so a client working from
    /// an older checkpoint still gets its tiles.
    public func tile(_ tile: Tile) async throws -> [UInt8]? {
        try await connections.read { db in try Self.tile(tile, size: db.latestCheckpoint()?.size ?? 0, db: db) }
    }

    /// The 64-byte Ed25519 signatures of the entries of an entries tile, concatenated.
    public func signatures(_ tile: Tile) async throws -> [UInt8]? {
        try await connections.read { db in try Self.signatures(tile, size: db.latestCheckpoint()?.size ?? 0, db: db) }
    }

    /// The entries of an entries tile that have data behind them (`readings`, `factors`
    /// and `zones` entries, with their kinds), nil when the tree does not hold the tile.
    ///
    /// The data tile (ledger.md section 6) is, for each of them, a line
    /// `{"entry":<index>,"leaves":<count>}` and then its leaves (`dataLeaves`), one
    /// canonical JSON object a line, in the order its `root` covers them (readings in
    /// batch order, factor rows by zone, kind, start, zones by zone). Served one entry
    /// at a time, an answer holds at most one entry's leaves, whatever the tile.
    public func dataEntries(_ tile: Tile) async throws -> [(index: Int64, kind: String)]? {
        try await connections.read { db in try Self.dataEntries(tile, size: db.latestCheckpoint()?.size ?? 0, db: db) }
    }

    /// One entry's part of a data tile: its header line and its leaves, a line each.
    public func dataLines(ofEntry index: Int64, kind: String) async throws -> [UInt8] {
        try await connections.read { db in
            var bytes: [UInt8] = []
            LedgerBundle.appendDataSection(entry: index, leaves: try Self.leaves(ofEntry: index, kind: kind, db: db), to: &bytes)
            return bytes
        }
    }

    // MARK: Within one read transaction

    /// `tile` of the tree of `size` entries, nil when that tree does not hold it.
    static func tile(_ tile: Tile, size: UInt64, db: some SQLConnection) throws -> [UInt8]? {
        let first = tile.first
        let end = first + UInt64(tile.width)
        switch tile.kind {
        case .entries:
            guard exists(tile, count: size) else { return nil }
            var bytes: [UInt8] = []
            var count = 0
            try db.forEachRow(
                "SELECT body FROM entries WHERE idx >= ? AND idx < ? ORDER BY idx", [Int64(first), Int64(end)].map(\.databaseValue)
            ) { row in
                LedgerBundle.appendEntry(row[0] as Data, to: &bytes)
                count += 1
            }
            guard count == tile.width else { throw StoreError.corrupt("entries \(first)..<\(end) are missing") }
            return bytes
        case .hashes(let level):
            guard level < 8, exists(tile, count: size >> UInt64(8 * level)) else { return nil }
            var bytes: [UInt8] = []
            bytes.reserveCapacity(32 * tile.width)
            try db.forEachRow(
                "SELECT hash FROM tree WHERE level = ? AND idx >= ? AND idx < ? ORDER BY idx",
                [Int64(8 * level), Int64(first), Int64(end)].map(\.databaseValue)
            ) { row in bytes.append(contentsOf: row[0] as Data) }
            guard bytes.count == 32 * tile.width else {
                throw StoreError.corrupt("tree level \(8 * level) lacks hashes \(first)..<\(end)")
            }
            return bytes
        }
    }

    /// Whether a level holding `count` hashes or entries covers `tile`.
    private static func exists(_ tile: Tile, count: UInt64) -> Bool {
        tile.first + UInt64(tile.width) <= count
    }

    static func signatures(_ tile: Tile, size: UInt64, db: some SQLConnection) throws -> [UInt8]? {
        guard case .entries = tile.kind, exists(tile, count: size) else { return nil }
        var bytes: [UInt8] = []
        try db.forEachRow(
            "SELECT signature FROM entries WHERE idx >= ? AND idx < ? ORDER BY idx",
            [Int64(tile.first), Int64(tile.first) + Int64(tile.width)].map(\.databaseValue)
        ) { row in bytes.append(contentsOf: row[0] as Data) }
        guard bytes.count == 64 * tile.width else { throw StoreError.corrupt("signatures of \(tile) are missing") }
        return bytes
    }

    static func dataEntries(_ tile: Tile, size: UInt64, db: some SQLConnection) throws -> [(index: Int64, kind: String)]? {
        guard case .entries = tile.kind, exists(tile, count: size) else { return nil }
        let kinds = LedgerBundle.kindsWithData.sorted().map { "'\($0)'" }.joined(separator: ", ")
        return try db.rows(
            "SELECT idx, kind FROM entries WHERE idx >= ? AND idx < ? AND kind IN (\(kinds)) ORDER BY idx",
            Int64(tile.first), Int64(tile.first) + Int64(tile.width)
        ).map { ($0[0], $0[1]) }
    }

    /// The data tile of `tile`, every entry's section in one answer.
    static func data(_ tile: Tile, size: UInt64, db: some SQLConnection) throws -> [UInt8]? {
        guard let entries = try dataEntries(tile, size: size, db: db) else { return nil }
        var bytes: [UInt8] = []
        for entry in entries {
            LedgerBundle.appendDataSection(entry: entry.index, leaves: try leaves(ofEntry: entry.index, kind: entry.kind, db: db), to: &bytes)
        }
        return bytes
    }

    private static func leaves(ofEntry index: Int64, kind: String, db: some SQLConnection) throws -> [[UInt8]] {
        switch kind {
        case "readings", "corrections":
            return try StoredVersions.versions(ofBatch: index, db: db).map(\.leafBytes)
        case "factors":
            guard let dataset = try db.value("SELECT dataset FROM factor_datasets WHERE entry = ?", index, as: String.self)
            else { throw StoreError.corrupt("factors entry \(index) has no dataset") }
            return try FactorDatasets.rows(of: dataset, db: db).map(\.leafBytes)
        default:
            return try zoneTree(db).zones.map(\.leafBytes)
        }
    }
}
