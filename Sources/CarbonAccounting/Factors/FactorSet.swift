import CarbonModel

/// Every loaded factor row, indexed for resolution (methodology section 3), with the
/// zone tree and the program time zone that give rows and resolution their meaning.
///
/// Where several rows answer one step (two datasets with an annual row for the same
/// zone, kind and year; overlapping sub-annual rows), the row of the dataset that
/// appears later in `rows` wins (pass datasets in the order they were loaded); within
/// one dataset, the row with the later start, then the earlier end. Two rows of one
/// dataset with the same zone, kind, start and end are refused.
public struct FactorSet: Sendable {
    /// The rows as given.
    public let rows: [FactorRow]
    /// The zone tree.
    public let zoneTree: ZoneTree
    /// The program time zone.
    public let calendar: any ProgramCalendar
    /// Dataset names in the order they first appear in `rows`.
    public let datasets: [String]

    /// Dense zone numbers, for the per-reading path.
    let zoneNumbers: [String: Int32]
    let zones: [ZoneFactors]
    /// The dataset number of every row.
    let rowDataset: [Int32]

    /// What one zone has: per kind its annual and sub-annual rows, and every instant
    /// where one of its sub-annual rows (either kind) starts or ends.
    struct ZoneFactors: Sendable {
        var name: String
        var parent: Int32
        var average = KindRows()
        var residual = KindRows()
        var cuts: [Int64] = []

        subscript(kind: FactorKind) -> KindRows {
            get { kind == .average ? average : residual }
            set { if kind == .average { average = newValue } else { residual = newValue } }
        }
    }

    /// One zone's rows of one kind.
    struct KindRows: Sendable {
        /// Annual rows by year (the winning row's index).
        var annual: [Int64: Int32] = [:]
        /// Sub-annual rows as elementary spans: `[bounds[i], bounds[i+1])` is covered by
        /// row `winners[i]`, or by none when it is -1.
        var bounds: [Int64] = []
        var winners: [Int32] = []

        /// The winning sub-annual row covering `t`, or -1.
        func subAnnualRow(at t: Int64) -> Int32 {
            // Last bound <= t.
            var lo = 0
            var hi = bounds.count
            while lo < hi {
                let mid = (lo &+ hi) >> 1
                if bounds[mid] <= t { lo = mid &+ 1 } else { hi = mid }
            }
            let i = lo - 1
            return i >= 0 && i < winners.count ? winners[i] : -1
        }
    }

    /// Indexes `rows` for `zoneTree` and `calendar`.
    public init(rows: [FactorRow], zoneTree: ZoneTree, calendar: some ProgramCalendar) throws(FactorSetError) {
        self.rows = rows
        self.zoneTree = zoneTree
        self.calendar = calendar

        var numbers: [String: Int32] = [:]
        for (i, zone) in zoneTree.zones.enumerated() { numbers[zone.zone] = Int32(i) }
        var zones = zoneTree.zones.map { ZoneFactors(name: $0.zone, parent: $0.parent.flatMap { numbers[$0] } ?? -1) }

        var datasetNumbers: [String: Int32] = [:]
        var datasets: [String] = []
        var rowDataset: [Int32] = []
        rowDataset.reserveCapacity(rows.count)
        var yearStarts: [Int64: Int64] = [:]
        func startOfYear(_ y: Int64) -> Int64 {
            if let s = yearStarts[y] { return s }
            let s = calendar.startOfYear(y)
            yearStarts[y] = s
            return s
        }
        // Sub-annual rows per zone and kind, gathered first, indexed below.
        var subAnnual: [[Int32]] = Array(repeating: [], count: zones.count * 2)
        var seen: Set<RowKey> = []

        for (i, row) in rows.enumerated() {
            guard let z = numbers[row.zone] else {
                throw FactorSetError(
                    row: i, dataset: row.dataset, message: "zone \"\(row.zone)\" is not in the zone tree")
            }
            guard row.end > row.start else {
                throw FactorSetError(
                    row: i, dataset: row.dataset, message: "end \(row.end) is not after start \(row.start)")
            }
            guard row.mgPerKWh >= 0 else {
                throw FactorSetError(row: i, dataset: row.dataset, message: "mg_per_kwh \(row.mgPerKWh) is negative")
            }
            let d: Int32
            if let known = datasetNumbers[row.dataset] {
                d = known
            } else {
                d = Int32(datasets.count)
                datasetNumbers[row.dataset] = d
                datasets.append(row.dataset)
            }
            rowDataset.append(d)
            guard seen.insert(RowKey(dataset: d, zone: z, kind: row.kind, start: row.start, end: row.end)).inserted
            else {
                throw FactorSetError(
                    row: i, dataset: row.dataset,
                    message:
                        "dataset \"\(row.dataset)\" has two \(row.kind.rawValue) rows for \(row.zone) over [\(row.start), \(row.end))"
                )
            }
            let year = calendar.year(of: row.start)
            if row.start == startOfYear(year) && row.end == startOfYear(year + 1) {
                // Later datasets win; within a dataset a year has one row (checked above).
                zones[Int(z)][row.kind].annual[year] = Int32(i)
            } else {
                subAnnual[Int(z) * 2 + (row.kind == .average ? 0 : 1)].append(Int32(i))
            }
        }

        for z in zones.indices {
            var cuts: [Int64] = []
            for kind in FactorKind.allCases {
                let members = subAnnual[z * 2 + (kind == .average ? 0 : 1)]
                guard !members.isEmpty else { continue }
                let indexed = Self.indexSubAnnual(members, rows: rows, rowDataset: rowDataset)
                zones[z][kind].bounds = indexed.bounds
                zones[z][kind].winners = indexed.winners
                cuts.append(contentsOf: indexed.bounds)
            }
            cuts.sort()
            zones[z].cuts = cuts.uniqued()
        }

        self.zoneNumbers = numbers
        self.zones = zones
        self.datasets = datasets
        self.rowDataset = rowDataset
    }

    private struct RowKey: Hashable {
        var dataset: Int32
        var zone: Int32
        var kind: FactorKind
        var start: Int64
        var end: Int64
    }

    /// Elementary spans of overlapping rows with the winner of each: rows are taken
    /// from the strongest down, each painting the spans no stronger row has painted
    /// (a skip list of unpainted spans keeps that linear in practice).
    private static func indexSubAnnual(_ members: [Int32], rows: [FactorRow], rowDataset: [Int32])
        -> (bounds: [Int64], winners: [Int32])
    {
        var bounds: [Int64] = []
        bounds.reserveCapacity(members.count * 2)
        for i in members {
            bounds.append(rows[Int(i)].start)
            bounds.append(rows[Int(i)].end)
        }
        bounds.sort()
        bounds = bounds.uniqued()
        let spans = bounds.count - 1
        var winners = [Int32](repeating: -1, count: spans)
        // Strongest first: later dataset, then later start, then earlier end.
        let ordered = members.sorted { a, b in
            let ra = rows[Int(a)]
            let rb = rows[Int(b)]
            if rowDataset[Int(a)] != rowDataset[Int(b)] { return rowDataset[Int(a)] > rowDataset[Int(b)] }
            if ra.start != rb.start { return ra.start > rb.start }
            return ra.end < rb.end
        }
        var nextUnpainted = Array(0...spans)
        func find(_ i: Int) -> Int {
            var root = i
            while nextUnpainted[root] != root { root = nextUnpainted[root] }
            var j = i
            while nextUnpainted[j] != root {
                let up = nextUnpainted[j]
                nextUnpainted[j] = root
                j = up
            }
            return root
        }
        for member in ordered {
            let row = rows[Int(member)]
            let first = bounds.lowerBound(of: row.start)
            let last = bounds.lowerBound(of: row.end)  // spans first..<last
            var i = find(first)
            while i < last {
                winners[i] = member
                nextUnpainted[i] = i + 1
                i = find(i + 1)
            }
        }
        return (bounds, winners)
    }

    // MARK: Resolution

    /// The factor of `kind` for `zone` at instant `t`, per methodology section 3:
    /// a sub-annual row of the zone, else its annual row for the year of `t` or the
    /// latest of the 5 years before, else the same for its parent and so on. A missing
    /// residual falls back to the average (`residualFallback`). Nil when nothing is
    /// found (or the zone is unknown).
    public func resolve(kind: FactorKind, zone: String, at t: Int64) -> FactorResolution? {
        guard let z = zoneNumbers[zone] else { return nil }
        var path: [FactorStep]? = []
        let year = calendar.year(of: t)
        var row = walk(kind: kind, zone: z, at: t, year: year, path: &path)
        var fallback = false
        if row < 0 && kind == .residual {
            row = walk(kind: .average, zone: z, at: t, year: year, path: &path)
            fallback = true
        }
        guard row >= 0 else { return nil }
        return FactorResolution(row: rows[Int(row)], rowIndex: Int(row), residualFallback: fallback, path: path ?? [])
    }

    /// Resolution without the path, for the per-reading and per-hour paths: the row
    /// index or -1.
    func resolveRow(kind: FactorKind, zone: Int32, at t: Int64, year: Int64) -> Int32 {
        var path: [FactorStep]? = nil
        return walk(kind: kind, zone: zone, at: t, year: year, path: &path)
    }

    /// The one implementation of the resolution order; records steps when `path` is
    /// non-nil.
    private func walk(kind: FactorKind, zone: Int32, at t: Int64, year: Int64, path: inout [FactorStep]?) -> Int32 {
        var z = zone
        while z >= 0 {
            let factors = zones[Int(z)]
            let rows = factors[kind]
            path?.append(FactorStep(zone: factors.name, kind: kind, year: nil))
            let sub = rows.subAnnualRow(at: t)
            if sub >= 0 { return sub }
            for y in stride(from: year, through: year - 5, by: -1) {
                path?.append(FactorStep(zone: factors.name, kind: kind, year: y))
                if let annual = rows.annual[y] { return annual }
            }
            z = factors.parent
        }
        return -1
    }

    // MARK: Cut points

    /// The instants strictly inside `(from, to)` where a resolved factor of `zone` may
    /// change (methodology section 4): every start and end of a sub-annual row of
    /// either kind of the zone or its ancestors, and every new year of the program
    /// time zone; ascending, without repeats.
    public func cutPoints(zone: String, from: Int64, to: Int64) -> [Int64] {
        guard let z = zoneNumbers[zone] else { return [] }
        return cutPoints(zone: z, from: from, to: to)
    }

    func cutPoints(zone: Int32, from: Int64, to: Int64) -> [Int64] {
        var cuts: [Int64] = []
        var z = zone
        while z >= 0 {
            let zoneCuts = zones[Int(z)].cuts
            var i = zoneCuts.upperBound(of: from)
            while i < zoneCuts.count && zoneCuts[i] < to {
                cuts.append(zoneCuts[i])
                i += 1
            }
            z = zones[Int(z)].parent
        }
        var year = calendar.year(of: from) + 1
        while true {
            let newYear = calendar.startOfYear(year)
            if newYear >= to { break }
            if newYear > from { cuts.append(newYear) }
            year += 1
        }
        cuts.sort()
        return cuts.uniqued()
    }

    /// The dense number of `zone`, if the tree has it.
    func zoneNumber(_ zone: String) -> Int32? { zoneNumbers[zone] }

    /// The zone's name and ancestors' names, nearest first.
    func chain(_ zone: Int32) -> [Int32] {
        var chain: [Int32] = []
        var z = zone
        while z >= 0 {
            chain.append(z)
            z = zones[Int(z)].parent
        }
        return chain
    }
}

/// A factor row the set cannot take; `row` is its position in the rows given.
public struct FactorSetError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Position of the row in the rows given.
    public var row: Int
    /// The row's dataset.
    public var dataset: String
    /// What is wrong.
    public var message: String
    public var description: String { "factor row \(row) of dataset \"\(dataset)\": \(message)" }
}

extension Array where Element: Comparable {
    /// The first index whose element is >= `value` (the array is ascending).
    func lowerBound(of value: Element) -> Int {
        var lo = 0
        var hi = count
        while lo < hi {
            let mid = (lo &+ hi) >> 1
            if self[mid] < value { lo = mid &+ 1 } else { hi = mid }
        }
        return lo
    }

    /// The first index whose element is > `value` (the array is ascending).
    func upperBound(of value: Element) -> Int {
        var lo = 0
        var hi = count
        while lo < hi {
            let mid = (lo &+ hi) >> 1
            if self[mid] <= value { lo = mid &+ 1 } else { hi = mid }
        }
        return lo
    }

    /// The array without adjacent repeats (all repeats when it is sorted).
    func uniqued() -> [Element] {
        var out: [Element] = []
        out.reserveCapacity(count)
        for x in self where out.last != x { out.append(x) }
        return out
    }
}
