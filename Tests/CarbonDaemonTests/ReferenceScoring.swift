import Foundation

/// cl-score/1 recomputed from methodology.md alone, as a second opinion on the
/// daemon's figures. Deliberately plain: linear passes, small dictionaries and the
/// spec's formulas written as the spec writes them.
///
/// The program time zone is taken as a fixed UTC offset (Asia/Shanghai has been
/// +08:00 since 1991), so a day is 86,400 s and an hour row is 3,600 s.
enum ReferenceScoring {
    // MARK: Inputs

    struct Consumer {
        var id: String
        var utility: String
        var zone: String
        var consumerClass: String
        var normalizer: Int64
    }

    struct Reading {
        var utility: String
        var meter: String
        var consumer: String
        var start: Int64
        var durationS: Int64
        var importWh: Int64
        var exportWh: Int64
        var estimated: Bool
        var id: String?

        /// The reading leaf of ledger.md section 1, as canonical JSON.
        var leaf: String {
            let id = self.id.map { "\"\(ReferenceScoring.escaped($0))\"" } ?? "null"
            return #"{"consumer":"\#(ReferenceScoring.escaped(consumer))","duration_s":\#(durationS),"export_wh":\#(exportWh),"#
                + #""id":\#(id),"import_wh":\#(importWh),"meter":"\#(ReferenceScoring.escaped(meter))","#
                + #""quality":"\#(estimated ? "estimated" : "actual")","start":\#(start),"utility":"\#(ReferenceScoring.escaped(utility))"}"#
        }
    }

    struct Certificate {
        var id: String
        var consumer: String
        var start: Int64
        var end: Int64
        var wh: Int64
    }

    /// A factor row; `year` is set for annual rows (which cover that calendar year).
    struct FactorRow {
        var dataset: String
        var zone: String
        var kind: String
        var start: Int64
        var end: Int64
        var mgPerKWh: Int64
        var year: Int?
    }

    struct StaticBenchmark {
        var zone: String
        var consumerClass: String
        var ugPerDay: Int64
    }

    struct Program {
        var utcOffset: Int64 = 8 * 3600
        var weights: (peer: Int64, reduction: Int64, timing: Int64, green: Int64) = (40, 30, 15, 15)
        var minPeers = 5
        var pointsPerKg: Int64 = 1
        var staticBenchmarks: [StaticBenchmark] = []
    }

    /// A calendar month in the program time zone, `[start, end)`.
    struct Period: Hashable {
        var name: String
        var start: Int64
        var end: Int64
        var days: Int64 { (end - start) / 86_400 }
        var hours: Int64 { (end - start) / 3_600 }
    }

    // MARK: Calendar (fixed offset)

    static func floorDiv(_ a: Int64, _ b: Int64) -> Int64 {
        let q = a / b
        return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q
    }

    static func clamp(_ x: Int64, _ lo: Int64, _ hi: Int64) -> Int64 { min(max(x, lo), hi) }

    /// Days since 1970-01-01 of a proleptic Gregorian date.
    static func daysFromCivil(_ year: Int, _ month: Int, _ day: Int) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let doy = (153 * ((month + 9) % 12) + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return Int64(era * 146_097 + doe - 719_468)
    }

    /// The calendar year of a day count since 1970-01-01.
    static func year(ofDay days: Int64) -> Int {
        // Walk from an estimate: plain and obviously right.
        var year = 1970 + Int(days / 366)
        while daysFromCivil(year + 1, 1, 1) <= days { year += 1 }
        while daysFromCivil(year, 1, 1) > days { year -= 1 }
        return year
    }

    static func localTime(_ program: Program, _ year: Int, _ month: Int, _ day: Int, _ hour: Int = 0, _ minute: Int = 0) -> Int64 {
        daysFromCivil(year, month, day) * 86_400 + Int64(hour * 3_600 + minute * 60) - program.utcOffset
    }

    static func year(_ program: Program, of t: Int64) -> Int { year(ofDay: floorDiv(t + program.utcOffset, 86_400)) }

    static func yearStart(_ program: Program, _ year: Int) -> Int64 { localTime(program, year, 1, 1) }

    static func month(_ program: Program, _ year: Int, _ month: Int) -> Period {
        let next = month == 12 ? (year + 1, 1) : (year, month + 1)
        return Period(
            name: String(format: "%04d-%02d", year, month), start: localTime(program, year, month, 1),
            end: localTime(program, next.0, next.1, 1))
    }

    static func monthBefore(_ program: Program, _ period: Period) -> Period {
        let parts = period.name.split(separator: "-").map { Int($0)! }
        return parts[1] == 1 ? month(program, parts[0] - 1, 12) : month(program, parts[0], parts[1] - 1)
    }

    // MARK: Factors (methodology section 3)

    struct Resolved {
        var mgPerKWh: Int64
        var dataset: String
    }

    struct FactorBookError: Error, CustomStringConvertible { var description: String }

    /// The rows of every dataset, indexed for the resolution steps of section 3.
    struct FactorBook {
        let program: Program
        let parent: [String: String]
        private var annual: [String: Resolved] = [:]
        /// Sub-annual rows per "zone|kind", sorted by start, not overlapping.
        private var subAnnual: [String: [FactorRow]] = [:]
        /// Sorted start and end instants of the sub-annual rows of each zone and its ancestors.
        private var cutCache: [String: [Int64]] = [:]

        init(program: Program, parent: [String: String], rows: [FactorRow]) throws {
            self.program = program
            self.parent = parent
            for row in rows {
                if let year = row.year {
                    let key = "\(row.zone)|\(row.kind)|\(year)"
                    if annual[key] != nil { throw FactorBookError(description: "two annual rows \(key)") }
                    annual[key] = Resolved(mgPerKWh: row.mgPerKWh, dataset: row.dataset)
                } else {
                    subAnnual["\(row.zone)|\(row.kind)", default: []].append(row)
                }
            }
            for key in subAnnual.keys {
                subAnnual[key]!.sort { $0.start < $1.start }
                let list = subAnnual[key]!
                for i in list.indices.dropFirst() where list[i - 1].end > list[i].start {
                    throw FactorBookError(description: "overlapping sub-annual rows in \(key): this reference does not pick between them")
                }
            }
            var zones = Set(parent.keys)
            zones.formUnion(parent.values)
            for zone in zones {
                var instants = Set<Int64>()
                for ancestor in chain(zone) {
                    for kind in ["average", "residual"] {
                        for row in subAnnual["\(ancestor)|\(kind)"] ?? [] {
                            instants.insert(row.start)
                            instants.insert(row.end)
                        }
                    }
                }
                cutCache[zone] = instants.sorted()
            }
        }

        /// The zone, its parent, its parent's parent, ...
        func chain(_ zone: String) -> [String] {
            var zones = [zone]
            while let up = parent[zones.last!] { zones.append(up) }
            return zones
        }

        private func subAnnualRow(_ zone: String, _ kind: String, _ t: Int64) -> FactorRow? {
            guard let rows = subAnnual["\(zone)|\(kind)"] else { return nil }
            // The last row starting at or before t.
            var lo = 0
            var hi = rows.count
            while lo < hi {
                let mid = (lo + hi) / 2
                if rows[mid].start <= t { lo = mid + 1 } else { hi = mid }
            }
            guard lo > 0, t < rows[lo - 1].end else { return nil }
            return rows[lo - 1]
        }

        /// Steps 1 to 3 of section 3: sub-annual, annual this year or up to 5 back, then up the zone tree.
        func resolve(_ kind: String, _ zone: String, at t: Int64) -> Resolved? {
            let year = ReferenceScoring.year(program, of: t)
            for z in chain(zone) {
                if let row = subAnnualRow(z, kind, t) { return Resolved(mgPerKWh: row.mgPerKWh, dataset: row.dataset) }
                for y in stride(from: year, through: year - 5, by: -1) {
                    if let found = annual["\(z)|\(kind)|\(y)"] { return found }
                }
            }
            return nil
        }

        /// Section 4: `[start, start + duration)` cut at sub-annual row edges of the zone and
        /// its ancestors (either kind) and at every new year; the pieces' `[from, to)`.
        func pieces(_ zone: String, start: Int64, duration: Int64) -> [(from: Int64, to: Int64)] {
            let end = start + duration
            let instants = cutCache[zone] ?? []
            // The first instant after `start`, then every one before `end`.
            var lo = 0
            var hi = instants.count
            while lo < hi {
                let mid = (lo + hi) / 2
                if instants[mid] <= start { lo = mid + 1 } else { hi = mid }
            }
            var cuts: [Int64] = []
            while lo < instants.count && instants[lo] < end {
                cuts.append(instants[lo])
                lo += 1
            }
            var year = ReferenceScoring.year(program, of: start) + 1
            while ReferenceScoring.yearStart(program, year) < end {
                cuts.append(ReferenceScoring.yearStart(program, year))
                year += 1
            }
            let bounds = [start] + Set(cuts).sorted() + [end]
            return zip(bounds, bounds.dropFirst()).map { (from: $0, to: $1) }
        }
    }

    /// `amount` shared over pieces in proportion to their overlaps, largest remainder
    /// first (ties to the earlier piece): section 4.
    static func apportion(_ amount: Int64, overlaps: [Int64], duration: Int64) -> [Int64] {
        var shares = overlaps.map { amount * $0 / duration }
        let remainders = overlaps.map { amount * $0 % duration }
        var left = amount - shares.reduce(0, +)
        let order = remainders.indices.sorted { remainders[$0] != remainders[$1] ? remainders[$0] > remainders[$1] : $0 < $1 }
        for i in order where left > 0 {
            shares[i] += 1
            left -= 1
        }
        return shares
    }

    // MARK: Per reading (sections 4 and 5)

    struct ReadingAccount {
        var reading: Reading
        var matchedWh: Int64 = 0
        var locUg: Int64 = 0
        var mktUg: Int64 = 0
        var residualFallback = false
        var datasets: Set<String> = []
        /// Certificates that gave this reading more than 0 Wh.
        var certificates: [String] = []
        /// Piece starts for which no average factor resolves.
        var missingAverage: [Int64] = []
    }

    /// Section 5 then section 4, for every reading of every consumer, over all time.
    static func accountReadings(
        consumers: [String: Consumer], readings: [Reading], certificates: [Certificate], book: FactorBook
    ) -> [String: [ReadingAccount]] {
        var byConsumer: [String: [Reading]] = [:]
        for reading in readings { byConsumer[reading.consumer, default: []].append(reading) }
        var certificatesByConsumer: [String: [Certificate]] = [:]
        for certificate in certificates { certificatesByConsumer[certificate.consumer, default: []].append(certificate) }

        var result: [String: [ReadingAccount]] = [:]
        for (consumerId, list) in byConsumer {
            let zone = consumers[consumerId]!.zone
            let ordered = list.sorted { $0.start != $1.start ? $0.start < $1.start : bytesBefore($0.meter, $1.meter) }
            let certs = (certificatesByConsumer[consumerId] ?? []).sorted {
                $0.start != $1.start ? $0.start < $1.start : bytesBefore($0.id, $1.id)
            }
            var left = certs.map(\.wh)
            var accounts: [ReadingAccount] = []
            for reading in ordered {
                var account = ReadingAccount(reading: reading)
                var need = reading.importWh
                for (i, certificate) in certs.enumerated() where need > 0 {
                    guard certificate.start <= reading.start && reading.start < certificate.end, left[i] > 0 else { continue }
                    let take = min(need, left[i])
                    left[i] -= take
                    need -= take
                    account.matchedWh += take
                    account.certificates.append(certificate.id)
                }
                let pieces = book.pieces(zone, start: reading.start, duration: reading.durationS)
                let overlaps = pieces.map { $0.to - $0.from }
                let importShares = apportion(reading.importWh, overlaps: overlaps, duration: reading.durationS)
                let unmatchedShares = apportion(
                    reading.importWh - account.matchedWh, overlaps: overlaps, duration: reading.durationS)
                for (p, piece) in pieces.enumerated() {
                    guard let average = book.resolve("average", zone, at: piece.from) else {
                        account.missingAverage.append(piece.from)
                        continue
                    }
                    account.datasets.insert(average.dataset)
                    var residual = average
                    if let found = book.resolve("residual", zone, at: piece.from) {
                        residual = found
                        account.datasets.insert(found.dataset)
                    } else {
                        account.residualFallback = true
                    }
                    account.locUg += importShares[p] * average.mgPerKWh
                    account.mktUg += unmatchedShares[p] * residual.mgPerKWh
                }
                accounts.append(account)
            }
            result[consumerId] = accounts
        }
        return result
    }

    // MARK: Per consumer and period (section 6)

    struct Sums {
        var readings: [ReadingAccount] = []
        var energyWh: Int64 = 0
        var exportWh: Int64 = 0
        var locUg: Int64 = 0
        var mktUg: Int64 = 0
        var matchedWh: Int64 = 0
        var estimatedWh: Int64 = 0
        var residualFallback = false
        var datasets: Set<String> = []
        var certificates: Set<String> = []
    }

    static func sums(_ accounts: [ReadingAccount], in period: Period) -> Sums {
        var sums = Sums()
        for account in accounts where period.start <= account.reading.start && account.reading.start < period.end {
            let reading = account.reading
            sums.readings.append(account)
            sums.energyWh += reading.importWh
            sums.exportWh += reading.exportWh
            sums.locUg += account.locUg
            sums.mktUg += account.mktUg
            sums.matchedWh += account.matchedWh
            if reading.estimated { sums.estimatedWh += reading.importWh }
            sums.residualFallback = sums.residualFallback || account.residualFallback
            sums.datasets.formUnion(account.datasets)
            sums.certificates.formUnion(account.certificates)
        }
        return sums
    }

    struct Figures {
        var energyWh: Int64
        var exportWh: Int64
        var locUg: Int64
        var mktUg: Int64
        var matchedWh: Int64
        var estimatedWh: Int64
        var kMilli: Int64?
        var grade: Int64?
        var p: Int64
        var qMilli: Int64?
        var r: Int64
        var zoneFlatMg: Int64
        var sMilli: Int64?
        var t: Int64
        var g: Int64
        var score: Int64
        var benchUg: Int64?
        var avoidedUg: Int64
        var points: Int64
        /// Without `provisional` (added by whoever knows whether the period is closed).
        var flags: [String]

        /// Every figure under its API and ledger name.
        var fields: [String: Int64?] {
            [
                "energy_wh": energyWh, "export_wh": exportWh, "loc_ug": locUg, "mkt_ug": mktUg,
                "matched_wh": matchedWh, "estimated_wh": estimatedWh, "k_milli": kMilli, "grade": grade, "p": p,
                "q_milli": qMilli, "r": r, "zone_flat_mg": zoneFlatMg, "s_milli": sMilli, "t": t, "g": g,
                "score": score, "bench_ug": benchUg, "avoided_ug": avoidedUg, "points": points,
            ]
        }

        static let labels = [1: "dark-green", 2: "light-green", 3: "yellow", 4: "orange", 5: "red"]
    }

    struct Benchmark: Equatable {
        var zone: String
        var consumerClass: String
        var n: Int
        var sumLocUg: Int128
        var sumNorm: Int128
    }

    struct ConsumerPeriod {
        var figures: Figures
        var sums: Sums
    }

    struct PeriodOutcome {
        var period: Period
        /// Every peer group with at least one member, by zone (bytes) then class.
        var benchmarks: [Benchmark]
        /// Consumers with at least one reading in the period.
        var consumers: [String: ConsumerPeriod]
    }

    /// Section 6.3: the mean average factor of the zone at the start of every hour.
    static func zoneFlat(_ book: FactorBook, _ zone: String, _ period: Period) -> (mg: Int64, datasets: Set<String>) {
        var sum: Int64 = 0
        var datasets: Set<String> = []
        for h in 0..<period.hours {
            if let found = book.resolve("average", zone, at: period.start + 3_600 * h) {
                sum += found.mgPerKWh
                datasets.insert(found.dataset)
            }
        }
        return (sum / period.hours, datasets)
    }

    static func outcome(
        period: Period, program: Program, consumers: [String: Consumer], accounts: [String: [ReadingAccount]],
        book: FactorBook
    ) -> PeriodOutcome {
        let baselinePeriod = monthBefore(program, period)
        var sums: [String: Sums] = [:]
        for (id, list) in accounts {
            let s = Self.sums(list, in: period)
            if !s.readings.isEmpty { sums[id] = s }
        }

        // 6.1 peer groups: same zone and class, energy_wh > 0.
        var groups: [String: Benchmark] = [:]
        for (id, s) in sums where s.energyWh > 0 {
            let c = consumers[id]!
            let key = "\(c.zone)|\(c.consumerClass)"
            var group = groups[key] ?? Benchmark(zone: c.zone, consumerClass: c.consumerClass, n: 0, sumLocUg: 0, sumNorm: 0)
            group.n += 1
            group.sumLocUg += Int128(s.locUg)
            group.sumNorm += Int128(c.normalizer)
            groups[key] = group
        }
        let benchmarks = groups.values.sorted {
            $0.zone != $1.zone ? bytesBefore($0.zone, $1.zone) : bytesBefore($0.consumerClass, $1.consumerClass)
        }

        var flats: [String: (mg: Int64, datasets: Set<String>)] = [:]
        var result: [String: ConsumerPeriod] = [:]
        for (id, var s) in sums {
            let c = consumers[id]!
            var flags: [String] = []
            let days = period.days

            // 6.1
            var kMilli: Int64?
            var benchUg: Int64?
            if s.energyWh > 0, let group = groups["\(c.zone)|\(c.consumerClass)"], group.n >= program.minPeers {
                let loc = Int128(s.locUg)
                let norm = Int128(c.normalizer)
                kMilli = group.sumLocUg == 0 ? 1_000 : Int64(1_000 * loc * group.sumNorm / (norm * group.sumLocUg))
                benchUg = Int64(norm * group.sumLocUg / group.sumNorm)
            } else if let b = book.chain(c.zone).lazy.compactMap({ zone in
                program.staticBenchmarks.first { $0.zone == zone && $0.consumerClass == c.consumerClass }
            }).first {
                let denominator = Int128(c.normalizer) * Int128(b.ugPerDay) * Int128(days)
                kMilli = Int64(1_000 * Int128(s.locUg) / denominator)
                benchUg = Int64(denominator)
            }
            var grade: Int64?
            var p: Int64 = 500
            if let k = kMilli {
                grade = k <= 600 ? 1 : k <= 800 ? 2 : k <= 1_200 ? 3 : k <= 2_000 ? 4 : 5
                p = clamp(1_000 - floorDiv(k, 2), 0, 1_000)
            } else {
                flags.append("no_benchmark")
            }

            // 6.2 against the previous month.
            let baseline = Self.sums(accounts[id] ?? [], in: baselinePeriod)
            var qMilli: Int64?
            var r: Int64 = 500
            if baseline.energyWh == 0 {
                flags.append("no_baseline")
            } else {
                let q = Int64(Int128(1_000) * Int128(s.energyWh) * Int128(baselinePeriod.days)
                    / (Int128(baseline.energyWh) * Int128(days)))
                qMilli = q
                r = clamp(500 + 1_000 - q, 0, 1_000)
            }

            // 6.3
            if flats[c.zone] == nil { flats[c.zone] = zoneFlat(book, c.zone, period) }
            let flat = flats[c.zone]!
            s.datasets.formUnion(flat.datasets)
            var sMilli: Int64?
            var t: Int64 = 500
            if s.energyWh != 0 && flat.mg != 0 {
                let sm = Int64(Int128(1_000) * Int128(s.locUg) / (Int128(s.energyWh) * Int128(flat.mg)))
                sMilli = sm
                t = clamp(500 + floorDiv(5 * (1_000 - sm), 2), 0, 1_000)
            }

            // 6.4, 6.5
            let g = s.energyWh == 0 ? 0 : Int64(Int128(1_000) * Int128(s.matchedWh) / Int128(s.energyWh))
            let w = program.weights
            let score = floorDiv(w.peer * p + w.reduction * r + w.timing * t + w.green * g,
                                 w.peer + w.reduction + w.timing + w.green)

            // 6.6
            var avoided: Int64 = 0
            if let bench = benchUg, s.locUg < bench {
                avoided = bench - s.locUg
            } else if baseline.energyWh > 0 {
                let scaled = Int64(Int128(baseline.locUg) * Int128(days) / Int128(baselinePeriod.days))
                avoided = max(0, scaled - s.locUg)
            }
            let points = Int64(Int128(avoided) * Int128(program.pointsPerKg) / 1_000_000_000)

            // 6.7
            if s.residualFallback { flags.append("residual_fallback") }
            if s.estimatedWh > 0 { flags.append("estimated_data") }

            let figures = Figures(
                energyWh: s.energyWh, exportWh: s.exportWh, locUg: s.locUg, mktUg: s.mktUg, matchedWh: s.matchedWh,
                estimatedWh: s.estimatedWh, kMilli: kMilli, grade: grade, p: p, qMilli: qMilli, r: r,
                zoneFlatMg: flat.mg, sMilli: sMilli, t: t, g: g, score: score, benchUg: benchUg, avoidedUg: avoided,
                points: points, flags: flags.sorted())
            result[id] = ConsumerPeriod(figures: figures, sums: s)
        }
        return PeriodOutcome(period: period, benchmarks: benchmarks, consumers: result)
    }

    // MARK: Small things

    /// Ordering by UTF-8 bytes, as canonical JSON orders keys.
    static func bytesBefore(_ a: String, _ b: String) -> Bool { a.utf8.lexicographicallyPrecedes(b.utf8) }

    /// Minimal JSON string escaping (ledger.md section 1).
    static func escaped(_ s: String) -> String {
        var out = ""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\u{08}": out += "\\b"
            case "\u{0C}": out += "\\f"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20: out += String(format: "\\u%04x", scalar.value)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }
}
