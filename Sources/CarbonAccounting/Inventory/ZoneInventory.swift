import CarbonModel

/// How many consumers have each grade.
public struct GradeCounts: Sendable, Hashable {
    /// Count per grade 1...5.
    public var byGrade: [PeerGrade: Int] = Dictionary(uniqueKeysWithValues: PeerGrade.allCases.map { ($0, 0) })
    /// Consumers without a grade (no benchmark): `"none"`.
    public var none = 0

    /// No consumers yet.
    public init() {}

    /// The count of `grade`, or of `none` for nil.
    public subscript(grade: PeerGrade?) -> Int {
        get { grade.map { byGrade[$0] ?? 0 } ?? none }
        set { if let grade { byGrade[grade] = newValue } else { none = newValue } }
    }
}

/// One period of a zone's consumption-side emission inventory (methodology section 8).
public struct InventoryPeriod: Sendable, Hashable {
    /// The period.
    public var period: Period
    /// Energy imported, Wh.
    public var energyWh: Int64
    /// Location-based emissions, g (rounded down from the ug sum).
    public var locG: Int64
    /// Market-based emissions, g (rounded down from the ug sum).
    public var mktG: Int64
    /// The exact location-based sum, ug: what shards' inventories add up from.
    public var locUg: Int128
    /// The exact market-based sum, ug.
    public var mktUg: Int128
    /// Consumers with a score.
    public var consumers: Int
    /// `floor(loc_ug / energy_wh)` mg/kWh; nil when no energy was imported.
    public var intensityMgPerKWh: Int64?
    /// Consumers per grade, and without one.
    public var grades: GradeCounts
    /// The figures would tell those of fewer than `min_peers` consumers (alone, or as
    /// the difference to a published sub-zone): a publisher shows the count only.
    public var suppressed: Bool
}

/// The zone inventory for regional planners (methodology section 8).
public enum ZoneInventory {
    /// The inventory of `zone` (its sub-zones included) from one period's scores;
    /// `suppressed` when publishing it would reveal fewer than `minPeers` consumers.
    public static func period(
        _ period: Period, zone: String, scores: [ConsumerScore], zoneTree: ZoneTree, minPeers: Int = 1
    ) -> InventoryPeriod {
        var energy: Int128 = 0
        var loc: Int128 = 0
        var mkt: Int128 = 0
        var consumers = 0
        var grades = GradeCounts()
        var within: [String: Bool] = [:]
        for s in scores where s.period == period {
            let inside = within[s.consumer.zone] ?? zoneTree.chain(from: s.consumer.zone).contains(zone)
            within[s.consumer.zone] = inside
            guard inside else { continue }
            energy += Int128(s.figures.energyWh)
            loc += Int128(s.figures.locUg)
            mkt += Int128(s.figures.mktUg)
            consumers += 1
            grades[s.figures.grade] += 1
        }
        let totals = Totals(energyWh: energy, locUg: loc, mktUg: mkt)
        return InventoryPeriod(
            period: period, energyWh: totals.shownEnergyWh, locG: totals.locG, mktG: totals.mktG, locUg: loc, mktUg: mkt,
            consumers: consumers, intensityMgPerKWh: totals.intensityMgPerKWh, grades: grades,
            suppressed: SmallGroups(period, scores: scores, zoneTree: zoneTree, minPeers: minPeers).reveal(zone))
    }

    /// A zone's exact sums and the figures published from them (methodology section 8):
    /// grams rounded down from the microgram sums, intensity `floor(loc_ug / energy_wh)`.
    /// One daemon's inventory and the merge of shards' inventories derive them alike.
    public struct Totals: Sendable {
        public var energyWh: Int128
        public var locUg: Int128
        public var mktUg: Int128

        public init(energyWh: Int128, locUg: Int128, mktUg: Int128) {
            self.energyWh = energyWh
            self.locUg = locUg
            self.mktUg = mktUg
        }

        public var shownEnergyWh: Int64 { IntegerMath.saturating(energyWh) }
        public var locG: Int64 { IntegerMath.saturating(IntegerMath.floorDiv(locUg, 1_000_000)) }
        public var mktG: Int64 { IntegerMath.saturating(IntegerMath.floorDiv(mktUg, 1_000_000)) }
        /// nil when no energy was imported.
        public var intensityMgPerKWh: Int64? {
            energyWh == 0 ? nil : IntegerMath.saturating(IntegerMath.floorDiv(locUg, energyWh))
        }
    }

    /// The inventory of `zone` for each of `periods`, from scores of any of them.
    public static func periods(
        _ periods: [Period], zone: String, scores: [ConsumerScore], zoneTree: ZoneTree, minPeers: Int = 1
    ) -> [InventoryPeriod] {
        periods.map { period($0, zone: zone, scores: scores, zoneTree: zoneTree, minPeers: minPeers) }
    }
}

/// Which zone rows would reveal the figures of fewer than `minPeers` consumers
/// (methodology section 8, "Small groups"). A row does when it covers 1 to
/// `minPeers - 1` consumers; when the consumers it holds outside its published
/// sub-zones (directly in it, or in sub-zones that are themselves suppressed) are 1 to
/// `minPeers - 1`; or when it differs from one of its sub-zones by 1 to `minPeers - 1`
/// consumers, since subtracting that sub-zone's row would give theirs.
struct SmallGroups {
    /// Consumers scored in each zone itself (not its sub-zones).
    private var direct: [String: Int] = [:]
    /// Consumers of each zone and its sub-zones, counted once for the period.
    private var total: [String: Int] = [:]
    private var children: [String: [String]] = [:]
    private let minPeers: Int

    init(_ period: Period, scores: [ConsumerScore], zoneTree: ZoneTree, minPeers: Int) {
        self.minPeers = minPeers
        for s in scores where s.period == period {
            direct[s.consumer.zone, default: 0] += 1
            for zone in zoneTree.chain(from: s.consumer.zone) { total[zone, default: 0] += 1 }
        }
        for zone in zoneTree.zones { if let parent = zone.parent { children[parent, default: []].append(zone.zone) } }
    }

    private func isSmall(_ n: Int) -> Bool { n > 0 && n < minPeers }

    /// Whether publishing `zone`'s figures reveals fewer than `minPeers` consumers'.
    func reveal(_ zone: String) -> Bool {
        let inZone = total[zone] ?? 0
        if isSmall(inZone) { return true }
        var hidden = direct[zone] ?? 0
        for child in children[zone] ?? [] {
            let inChild = total[child] ?? 0
            if isSmall(inZone - inChild) { return true }
            if reveal(child) { hidden += inChild }
        }
        return isSmall(hidden)
    }
}
