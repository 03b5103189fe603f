import CarbonModel

/// What drove a consumer's score, in words with its own figures, and the one change
/// that would have raised it most, scored by `cl-score/1` itself (never estimated).
public struct ScoreExplanation: Sendable, Equatable {
    /// The languages sentences are written in.
    public enum Language: String, Sendable, CaseIterable {
        case english = "en"
        case simplifiedChinese = "zh-CN"
    }

    /// One of the four parts of the score (methodology section 6.5).
    public struct Component: Sendable, Equatable {
        /// `peer`, `reduction`, `timing` or `green`.
        public var component: String
        /// P, R, T or G, 0...1000.
        public var value: Int64
        /// Its weight in the program.
        public var weight: Int64
        public var sentence: String
    }

    /// A change of the consumer's own use, and what `cl-score/1` gives with it.
    public struct Change: Sendable, Equatable {
        /// `use_less_energy`, `use_cleaner_hours` or `more_green_certificates`.
        public var change: String
        public var sentence: String
        /// The score the method gives with the change.
        public var score: Int64
        public var scoreGain: Int64
        public var pointsGain: Int64
    }

    public var language: Language
    public var components: [Component]
    /// The change that raises the score most; nil when none of them raises it, or when
    /// the inputs are not known exactly (they must give back the figures explained).
    public var bestChange: Change?

    /// The explanation of `figures`, computed from `inputs` by the method.
    ///
    /// - Parameters:
    ///   - consumer: whose score it is (its zone and class name its peers).
    ///   - inputs: what the figures were computed from; the best change is given only
    ///     when they give back exactly `figures`.
    ///   - weights: the program's weights, shown beside each component.
    ///   - baselinePeriod: the period R compares with, named in its sentence.
    public init(
        figures f: ScoreFigures, inputs: ScoreInputs?, weights: ScoreWeights, consumer: Consumer, baselinePeriod: Period?,
        language: Language
    ) {
        self.language = language
        let text = Sentences(language: language, consumer: consumer, figures: f)
        components = [
            Component(component: "peer", value: f.p, weight: weights.peer, sentence: text.peer(inputs?.benchmark)),
            Component(component: "reduction", value: f.r, weight: weights.reduction, sentence: text.reduction(baselinePeriod)),
            Component(component: "timing", value: f.t, weight: weights.timing, sentence: text.timing),
            Component(component: "green", value: f.g, weight: weights.green, sentence: text.green),
        ]
        guard let inputs, (try? inputs.figures()) == f else {
            bestChange = nil
            return
        }
        var best: Change? = nil
        for candidate in Self.candidates(inputs) {
            guard let changed = try? candidate.inputs.figures(), changed.score > f.score else { continue }
            if let current = best, current.scoreGain >= changed.score - f.score { continue }
            best = Change(
                change: candidate.change,
                sentence: text.change(candidate.change, inputs: inputs, changed: candidate.inputs, figures: changed),
                score: changed.score, scoreGain: changed.score - f.score, pointsGain: changed.points - f.points)
        }
        bestChange = best
    }

    /// The changes considered, each a tenth of the consumer's own use: less energy,
    /// the same energy in cleaner hours, more of it covered by certificates.
    static func candidates(_ inputs: ScoreInputs) -> [(change: String, inputs: ScoreInputs)] {
        let t = inputs.totals
        func tenthLess(_ x: Int64) -> Int64 { x - x / 10 }
        /// The inputs with the consumer's `loc_ug` changed to `loc`: its peer group's sum changes with it.
        func withLoc(_ loc: Int64, _ base: ScoreInputs) -> ScoreInputs {
            var changed = base
            changed.totals.locUg = loc
            if case .peers(var group) = base.benchmark {
                group.sumLocUg += Int128(loc) - Int128(t.locUg)
                changed.benchmark = .peers(group)
            }
            return changed
        }
        var less = withLoc(tenthLess(t.locUg), inputs)
        less.totals.energyWh = tenthLess(t.energyWh)
        less.totals.mktUg = tenthLess(t.mktUg)
        less.totals.estimatedWh = min(t.estimatedWh, less.totals.energyWh)
        less.totals.matchedWh = min(t.matchedWh, less.totals.energyWh)
        let cleaner = withLoc(tenthLess(t.locUg), inputs)
        var green = inputs
        green.totals.matchedWh = min(t.energyWh, t.matchedWh + t.energyWh / 10)
        return [("use_less_energy", less), ("use_cleaner_hours", cleaner), ("more_green_certificates", green)]
    }
}

/// The sentences of one language, with the consumer's figures in them.
private struct Sentences {
    let language: ScoreExplanation.Language
    let consumer: Consumer
    let figures: ScoreFigures

    private var zh: Bool { language == .simplifiedChinese }

    /// `95.0 %` from a ratio in thousandths.
    private func percent(_ milli: Int64) -> String {
        let (whole, tenth) = (milli / 10, abs(milli % 10))
        return zh ? "\(whole).\(tenth)%" : "\(whole).\(tenth) %"
    }

    /// `1.2 kWh` (rounded down to a tenth) from Wh.
    private func kWh(_ wh: Int64) -> String {
        "\(wh / 1000).\(wh % 1000 / 100)" + (zh ? "千瓦时" : " kWh")
    }

    private var className: String {
        guard zh else { return consumer.consumerClass.rawValue }
        switch consumer.consumerClass {
        case .residential: return "居民"
        case .commercial: return "商业"
        case .industrial: return "工业"
        case .public: return "公共机构"
        }
    }

    private func gradeName(_ grade: PeerGrade) -> String {
        guard zh else { return "\(grade.rawValue) (\(grade.label))" }
        let names = [PeerGrade.darkGreen: "深绿", .lightGreen: "浅绿", .yellow: "黄", .orange: "橙", .red: "红"]
        return "\(grade.rawValue)级（\(names[grade]!)）"
    }

    func peer(_ benchmark: Benchmark?) -> String {
        let f = figures
        guard let k = f.kMilli, let grade = f.grade else {
            return zh
                ? "同区域同类用户太少，且未设定基准值，此项按中性值500计。"
                : "Too few similar consumers to compare with and no benchmark set, so this part counts as neutral (500)."
        }
        switch benchmark {
        case .peers(let group)?:
            return zh
                ? "您按规模折算的排放量为\(consumer.zone)地区\(group.n)户\(className)用户平均水平的\(percent(k))，等级为\(gradeName(grade))。"
                : "Your emissions for your size were \(percent(k)) of the average of \(group.n) \(className) consumers "
                    + "in \(consumer.zone): grade \(gradeName(grade))."
        default:
            return zh
                ? "您按规模折算的排放量为\(consumer.zone)地区\(className)用户基准值的\(percent(k))，等级为\(gradeName(grade))。"
                : "Your emissions for your size were \(percent(k)) of the benchmark set for \(className) consumers "
                    + "in \(consumer.zone): grade \(gradeName(grade))."
        }
    }

    func reduction(_ baseline: Period?) -> String {
        guard let q = figures.qMilli else {
            return zh
                ? "没有可比较的基准期用电，此项按中性值500计。"
                : "There is no baseline period to compare with, so this part counts as neutral (500)."
        }
        let period = baseline.map { "\($0)" } ?? (zh ? "基准期" : "the baseline period")
        return zh
            ? "您的日均用电量为\(period)的\(percent(q))（本期共\(kWh(figures.energyWh))）；用得越少，此项越高。"
            : "You used \(percent(q)) of your daily electricity in \(period) (\(kWh(figures.energyWh)) this period); "
                + "using less raises this part."
    }

    var timing: String {
        guard let s = figures.sMilli else {
            return zh
                ? "本期没有用电（或所在区域没有排放因子），此项按中性值500计。"
                : "No electricity was used (or your zone has no factor), so this part counts as neutral (500)."
        }
        return zh
            ? "您用电的碳强度为所在区域平均小时的\(percent(s))；低于100%表示您更多在清洁时段用电。"
            : "Your electricity was \(percent(s)) as carbon-intensive as your zone's average hour; "
                + "under 100 % means you used more in cleaner hours."
    }

    var green: String {
        let f = figures
        return zh
            ? "绿色电力证书覆盖了您\(kWh(f.energyWh))用电中的\(percent(f.g))（\(kWh(f.matchedWh))）。"
            : "Green certificates covered \(percent(f.g)) of your \(kWh(f.energyWh)) (\(kWh(f.matchedWh)))."
    }

    func change(_ change: String, inputs: ScoreInputs, changed: ScoreInputs, figures new: ScoreFigures) -> String {
        let gain = new.score - figures.score
        let points = new.points - figures.points
        let result =
            zh
            ? "得分将提高\(gain)分，达到\(new.score)分" + (points > 0 ? "，激励积分增加\(points)分。" : "。")
            : "would have raised the score by \(gain), to \(new.score)"
                + (points > 0 ? ", and added \(points) incentive points." : ".")
        switch change {
        case "use_less_energy":
            return zh
                ? "如果少用10%的电（\(kWh(changed.totals.energyWh))而非\(kWh(inputs.totals.energyWh))），" + result
                : "Using 10 % less electricity (\(kWh(changed.totals.energyWh)) instead of \(kWh(inputs.totals.energyWh))) "
                    + result
        case "use_cleaner_hours":
            return zh
                ? "如果把用电移到更清洁的时段，使碳强度降低10%，" + result
                : "Moving use to cleaner hours, so that your electricity is 10 % less carbon-intensive, " + result
        default:
            let extra = changed.totals.matchedWh - inputs.totals.matchedWh
            return zh
                ? "如果再用绿色电力证书覆盖\(kWh(extra))用电，" + result
                : "Covering another \(kWh(extra)) of your electricity with green certificates " + result
        }
    }
}
