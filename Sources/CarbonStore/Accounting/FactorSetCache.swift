import CarbonAccounting
import CarbonModel
import GRDB
import Synchronization

/// The factor datasets and zone tree as one `FactorSet`, with the zone timelines
/// built over it, made again only when a dataset was added: a consumer's query then
/// reads none of the factor rows and resolves no factor its zone's timeline has.
final class FactorSetCache: Sendable {
    private let cached = Mutex<(version: [Int64], factors: FactorSet, timelines: ZoneTimelineCache)?>(nil)

    /// The factors of the snapshot `db` reads, and the timelines to share over them.
    func factors(db: some SQLConnection, calendar: any ProgramCalendar) throws -> (FactorSet, ZoneTimelineCache) {
        let version = try Self.version(db: db)
        if let hit = cached.withLock({ $0?.version == version ? $0 : nil }) { return (hit.factors, hit.timelines) }
        let factors = try Self.load(db: db, calendar: calendar)
        let timelines = ZoneTimelineCache()
        cached.withLock { $0 = (version, factors, timelines) }
        return (factors, timelines)
    }

    /// What changes whenever a dataset is added (datasets are never replaced; the
    /// zone tree is written once, with the ledger's first entry).
    private static func version(db: some SQLConnection) throws -> [Int64] {
        guard let row = try db.row("""
            SELECT (SELECT count(*) FROM factor_datasets), (SELECT coalesce(max(entry), -1) FROM factor_datasets),
                   (SELECT count(*) FROM zones)
            """)
        else { return [] }
        return [row[0], row[1], row[2]]
    }

    /// Reads every factor dataset and the zone tree.
    static func load(db: some SQLConnection, calendar: any ProgramCalendar) throws -> FactorSet {
        try FactorSet(rows: FactorDatasets.all(db: db), zoneTree: LedgerReader.zoneTree(db), calendar: calendar)
    }
}
