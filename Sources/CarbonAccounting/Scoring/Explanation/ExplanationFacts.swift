import CarbonModel

// What the sentences of an explanation say, with the consumer's figures already
// written as people read them: a wording table only puts them into words.

/// Which way a figure moved against what it is compared with, by how many percent.
enum Direction: Sendable, Hashable {
    case less(percent: String)
    case more(percent: String)
    case same

    /// From a ratio in thousandths (1000: the same).
    init(milli: Int64) {
        if milli < 1_000 {
            self = .less(percent: DisplayNumber.percent(1_000 - milli))
        } else if milli > 1_000 {
            let (over, overflow) = milli.subtractingReportingOverflow(1_000)
            self = .more(percent: DisplayNumber.percent(overflow ? .max : over))
        } else {
            self = .same
        }
    }
}

/// P: the consumer's emissions against its benchmark.
enum PeerFact: Sendable, Hashable {
    /// Against its peer group of `members` consumers of `consumerClass` in `zone`.
    case group(emissionsKg: String, ratio: String, benchmarkKg: String, members: Int, consumerClass: ConsumerClass,
               zone: String, grade: PeerGrade)
    /// Against the program's static benchmark for `consumerClass` in `zone`.
    case fixed(emissionsKg: String, ratio: String, benchmarkKg: String, consumerClass: ConsumerClass, zone: String,
               grade: PeerGrade)
    /// Against a benchmark of a kind not known here.
    case measured(emissionsKg: String, ratio: String, benchmarkKg: String, grade: PeerGrade)
    /// No energy: in no peer group, and no static benchmark.
    case noEnergy
    /// Fewer than `minPeers` in its group (`members`, when known), and no static benchmark.
    case tooFewPeers(members: Int?, minPeers: Int, consumerClass: ConsumerClass, zone: String)
}

/// The baseline period's energy as shown beside this period's.
struct BaselineShown: Sendable, Hashable {
    var energyKWh: String
    var days: Int64
    var perDayKWh: String
}

/// R: energy a day against the baseline period's.
enum ReductionFact: Sendable, Hashable {
    /// `baseline` is nil when its energy is not known here (only the ratio is).
    case compared(energyKWh: String, days: Int64, perDayKWh: String, baselinePeriod: String, baseline: BaselineShown?,
                  direction: Direction)
    case noBaseline(baselinePeriod: String)
}

/// T: the intensity of the consumer's energy against the zone's average hour.
enum TimingFact: Sendable, Hashable {
    /// `direction` `.less` is cleaner.
    case compared(gramsPerKWh: String, flatGramsPerKWh: String, zone: String, direction: Direction)
    /// The zone's factor was the same in every hour.
    case flatGrid(zone: String)
    /// The zone's factor was 0 throughout.
    case cleanGrid(zone: String)
    case noEnergy
}

/// G: the energy covered by certificates.
enum GreenFact: Sendable, Hashable {
    case covered(matchedKWh: String, energyKWh: String, percent: String)
    case uncovered(energyKWh: String)
    case noEnergy
}

/// The score as the weighted mean of its parts.
struct SummaryFact: Sendable, Hashable {
    var score: Int64
    var values: [Int64]
    var weights: [Int64]
}

/// Where the incentive points came from (section 6.6).
enum PointsFact: Sendable, Hashable {
    case belowBenchmark(points: Int64, avoidedKg: String)
    case belowBaseline(points: Int64, avoidedKg: String, baselinePeriod: String)
    case none(hasBenchmark: Bool, hasBaseline: Bool, baselinePeriod: String)
}

/// The change that would have raised the score most.
struct ChangeFact: Sendable, Hashable {
    var change: ScoreChange
    /// The quantity the change moves, before and after (kWh for `useLess`, kg CO2e for
    /// `cleanerHours`, kWh covered for `moreCertificates`).
    var before: String
    var after: String
    var scoreBefore: Int64
    var scoreAfter: Int64
    var pointsGain: Int64
}

/// A flag the component sentences do not already explain.
enum NoteFact: Sendable, Hashable {
    case provisional
    case estimated(estimatedKWh: String, energyKWh: String)
    case residualFallback
}
