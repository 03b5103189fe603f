import CarbonModel

/// A score in words: for each part (P, R, T, G) its value, its weight and what drove
/// it, in the consumer's own figures; the single change of those `ScoreChange` weighs
/// that would have raised the score most, scored with `cl-score/1`; and the flags that
/// matter. Values in, values out: the figures, their basis and a language.
public struct ScoreExplanation: Sendable, Hashable {
    /// A part of the score.
    public enum Part: String, Sendable, Hashable, CaseIterable {
        case peer, reduction, timing, green
    }

    /// One part: its value (0...1000), its weight, and a sentence.
    public struct Component: Sendable, Hashable {
        public var part: Part
        public var value: Int64
        public var weight: Int64
        public var sentence: String
    }

    /// The change that would have raised the score most, and what it would have given.
    public struct BestChange: Sendable, Hashable {
        public var change: ScoreChange
        public var sentence: String
        /// The score and points with the change.
        public var score: Int64
        public var points: Int64
        /// Over the score and points as they are.
        public var scoreGain: Int64
        public var pointsGain: Int64
    }

    /// A flag the components do not already explain, in a sentence.
    public struct Note: Sendable, Hashable {
        public var flag: ScoreFlag
        public var sentence: String
    }

    public var language: ExplanationLanguage
    /// The score as a weighted mean, the points, and when no change would raise the
    /// score, that.
    public var summary: String
    /// Peer, reduction, timing, green.
    public var components: [Component]
    /// Nil when no change raises the score, or when the basis has no inputs.
    public var bestChange: BestChange?
    public var notes: [Note]

    /// Explains `figures`. The best change is computed only from inputs that give
    /// `figures` again; a basis whose inputs do not is explained without one.
    public init(figures f: ScoreFigures, basis: ScoreBasis, language: ExplanationLanguage) {
        let inputs = basis.inputs.flatMap { (try? ScoreFigures($0)) == f ? $0 : nil }
        let words = language.wording
        let weights = basis.weights
        let baselinePeriod = basis.baselinePeriod.description

        // P
        let peer: PeerFact
        if let k = f.kMilli, let grade = f.grade, let bench = f.benchUg {
            let (loc, ratio, benchKg) = (DisplayNumber.kg(f.locUg), DisplayNumber.ratio(k), DisplayNumber.kg(bench))
            switch inputs?.benchmark {
            case .peers(let group)?:
                peer = .group(
                    emissionsKg: loc, ratio: ratio, benchmarkKg: benchKg, members: group.n,
                    consumerClass: basis.consumerClass, zone: basis.zone, grade: grade)
            case .fixed(let b)?:
                peer = .fixed(
                    emissionsKg: loc, ratio: ratio, benchmarkKg: benchKg, consumerClass: b.consumerClass, zone: b.zone,
                    grade: grade)
            case nil:
                peer = .measured(emissionsKg: loc, ratio: ratio, benchmarkKg: benchKg, grade: grade)
            }
        } else if f.energyWh == 0 {
            peer = .noEnergy
        } else {
            peer = .tooFewPeers(
                members: basis.peerGroupSize, minPeers: basis.minPeers, consumerClass: basis.consumerClass,
                zone: basis.zone)
        }

        // R
        let reduction: ReductionFact
        if let q = f.qMilli {
            var baseline: BaselineShown? = nil
            if let inputs, let b = inputs.baseline {
                baseline = BaselineShown(
                    energyKWh: DisplayNumber.kWh(b.energyWh), days: inputs.baselineDays,
                    perDayKWh: DisplayNumber.kWhPerDay(b.energyWh, days: inputs.baselineDays))
            }
            reduction = .compared(
                energyKWh: DisplayNumber.kWh(f.energyWh), days: basis.period.days,
                perDayKWh: DisplayNumber.kWhPerDay(f.energyWh, days: basis.period.days), baselinePeriod: baselinePeriod,
                baseline: baseline, direction: Direction(milli: q))
        } else {
            reduction = .noBaseline(baselinePeriod: baselinePeriod)
        }

        // T
        let timing: TimingFact
        if f.energyWh == 0 {
            timing = .noEnergy
        } else if f.zoneFlatMg == 0 {
            timing = .cleanGrid(zone: basis.zone)
        } else if let s = f.sMilli, s != 1_000 || basis.gridVaries {
            timing = .compared(
                gramsPerKWh: DisplayNumber.gramsPerKWh(Int128(f.locUg) / Int128(f.energyWh)),
                flatGramsPerKWh: DisplayNumber.gramsPerKWh(Int128(f.zoneFlatMg)), zone: basis.zone,
                direction: Direction(milli: s))
        } else {
            timing = .flatGrid(zone: basis.zone)
        }

        // G
        let green: GreenFact =
            f.energyWh == 0
            ? .noEnergy
            : f.matchedWh == 0
                ? .uncovered(energyKWh: DisplayNumber.kWh(f.energyWh))
                : .covered(
                    matchedKWh: DisplayNumber.kWh(f.matchedWh), energyKWh: DisplayNumber.kWh(f.energyWh),
                    percent: DisplayNumber.percent(f.g))

        self.language = language
        self.components = [
            Component(part: .peer, value: f.p, weight: weights.peer, sentence: words.peer(peer)),
            Component(part: .reduction, value: f.r, weight: weights.reduction, sentence: words.reduction(reduction)),
            Component(part: .timing, value: f.t, weight: weights.timing, sentence: words.timing(timing)),
            Component(part: .green, value: f.g, weight: weights.green, sentence: words.green(green)),
        ]

        // Points
        let points: PointsFact
        if let bench = f.benchUg, f.locUg < bench {
            points = .belowBenchmark(points: f.points, avoidedKg: DisplayNumber.kg(f.avoidedUg))
        } else if f.qMilli != nil, f.avoidedUg > 0 {
            points = .belowBaseline(
                points: f.points, avoidedKg: DisplayNumber.kg(f.avoidedUg), baselinePeriod: baselinePeriod)
        } else {
            points = .none(hasBenchmark: f.benchUg != nil, hasBaseline: f.qMilli != nil, baselinePeriod: baselinePeriod)
        }
        var summary = [
            words.summary(
                SummaryFact(
                    score: f.score, values: [f.p, f.r, f.t, f.g],
                    weights: [weights.peer, weights.reduction, weights.timing, weights.green])),
            words.points(points),
        ]

        // The best change
        self.bestChange = nil
        if let inputs, let best = ScoreChange.best(for: inputs, current: f, gridVaries: basis.gridVaries) {
            let after = best.figures
            let (before, changed): (String, String) =
                switch best.change {
                case .useLess: (DisplayNumber.kWh(f.energyWh), DisplayNumber.kWh(after.energyWh))
                case .cleanerHours: (DisplayNumber.kg(f.locUg), DisplayNumber.kg(after.locUg))
                case .moreCertificates: (DisplayNumber.kWh(f.matchedWh), DisplayNumber.kWh(after.matchedWh))
                }
            let fact = ChangeFact(
                change: best.change, before: before, after: changed, scoreBefore: f.score, scoreAfter: after.score,
                pointsGain: after.points - f.points)
            bestChange = BestChange(
                change: best.change, sentence: words.change(fact), score: after.score, points: after.points,
                scoreGain: after.score - f.score, pointsGain: after.points - f.points)
        } else if inputs != nil || f.score == 1_000 {
            summary.append(words.noChange(atMaximum: f.score == 1_000))
        }
        self.summary = summary.joined(separator: language == .english ? " " : "")

        // Notes
        var notes: [Note] = []
        for flag in f.flags {
            let fact: NoteFact
            switch flag {
            case .provisional: fact = .provisional
            case .estimatedData:
                fact = .estimated(estimatedKWh: DisplayNumber.kWh(f.estimatedWh), energyKWh: DisplayNumber.kWh(f.energyWh))
            case .residualFallback: fact = .residualFallback
            case .noBaseline, .noBenchmark: continue
            }
            notes.append(Note(flag: flag, sentence: words.note(fact)))
        }
        self.notes = notes
    }
}
