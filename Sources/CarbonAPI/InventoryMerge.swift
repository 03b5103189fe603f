import CarbonAccounting

/// A province's inventory from the inventories its shards answer for the same zone
/// and periods (docs/scaling.md): each shard holds a part of the zone's consumers,
/// so the figures add up.
///
/// Sums are exact: the microgram sums (`loc_ug`, `mkt_ug`) are added as Int128 and
/// the grams and the intensity derived from the totals, as one daemon holding every
/// shard's consumers would. A period a shard withheld (`suppressed`) is withheld in
/// the merge too: its part cannot be added, and guessing it would misstate the total.
public enum InventoryMerge {
    /// Why shards' inventories cannot be merged.
    public struct Mismatch: Error, Sendable, CustomStringConvertible {
        public let description: String
    }

    public static func merge(_ shards: [InventoryAnswer]) throws(Mismatch) -> InventoryAnswer {
        guard let first = shards.first else { throw Mismatch(description: "no shard answered") }
        for shard in shards where shard.zone != first.zone || shard.periods.map(\.period) != first.periods.map(\.period) {
            throw Mismatch(description: "the shards answered for different zones or periods (\(first.zone), \(shard.zone))")
        }
        var periods: [InventoryPeriodAnswer] = []
        for (k, period) in first.periods.enumerated() {
            periods.append(try merge(shards.map { $0.periods[k] }, period: period.period))
        }
        return InventoryAnswer(zone: first.zone, periods: periods)
    }

    private static func merge(_ parts: [InventoryPeriodAnswer], period: String) throws(Mismatch) -> InventoryPeriodAnswer {
        let consumers = parts.reduce(0) { $0 + $1.consumers }
        let provisional = parts.contains(where: \.provisional)
        guard !parts.contains(where: \.suppressed) else {
            return InventoryPeriodAnswer(
                period: period, provisional: provisional, energy_wh: nil, loc_g: nil, mkt_g: nil, consumers: consumers,
                intensity_mg_per_kwh: nil, grades: nil, suppressed: true)
        }
        var energy: Int128 = 0
        var loc: Int128 = 0
        var mkt: Int128 = 0
        var grades: [String: Int] = [:]
        for part in parts {
            guard let partEnergy = part.energy_wh, let partLoc = part.loc_ug.flatMap(Int128.init),
                  let partMkt = part.mkt_ug.flatMap(Int128.init), let partGrades = part.grades
            else { throw Mismatch(description: "period \(period): a shard's answer lacks energy_wh, loc_ug, mkt_ug or grades") }
            energy += Int128(partEnergy)
            loc += partLoc
            mkt += partMkt
            grades.merge(partGrades, uniquingKeysWith: +)
        }
        let totals = ZoneInventory.Totals(energyWh: energy, locUg: loc, mktUg: mkt)
        return InventoryPeriodAnswer(
            period: period, provisional: provisional, energy_wh: totals.shownEnergyWh, loc_g: totals.locG,
            mkt_g: totals.mktG, loc_ug: String(loc), mkt_ug: String(mkt), consumers: consumers,
            intensity_mg_per_kwh: totals.intensityMgPerKWh, grades: grades, suppressed: false)
    }
}
