import CarbonModel

/// Every sentence of an explanation in Simplified Chinese.
struct ChineseWording: ExplanationWording {
    func peer(_ fact: PeerFact) -> String {
        switch fact {
        case .group(let kg, let ratio, let bench, let members, let consumerClass, let zone, let grade):
            "您本期排放 \(kg) 千克二氧化碳当量，是基准值 \(bench) 千克的 \(ratio) 倍；"
                + "基准值为 \(zone) \(members) 户\(name(consumerClass))按您的规模折算的平均排放。"
                + "碳效等级为 \(grade.rawValue) 级（\(label(grade))）。"
        case .fixed(let kg, let ratio, let bench, let consumerClass, let zone, let grade):
            "您本期排放 \(kg) 千克二氧化碳当量，是本计划为 \(zone) 同等规模\(name(consumerClass))设定的基准值 "
                + "\(bench) 千克的 \(ratio) 倍。碳效等级为 \(grade.rawValue) 级（\(label(grade))）。"
        case .measured(let kg, let ratio, let bench, let grade):
            "您本期排放 \(kg) 千克二氧化碳当量，是您的基准值 \(bench) 千克的 \(ratio) 倍。"
                + "碳效等级为 \(grade.rawValue) 级（\(label(grade))）。"
        case .noEnergy:
            "您本期没有用电，无从与同类用户比较，此项按中性值 500 计。"
        case .tooFewPeers(let members, let minPeers, let consumerClass, let zone):
            (members.map { "本期 \(zone) 有用电的\(name(consumerClass))仅 \($0) 户，少于比较所需的 \(minPeers) 户，" }
                ?? "本期 \(zone) 有用电的\(name(consumerClass))少于比较所需的 \(minPeers) 户，")
                + "本计划也未为其设定基准值，此项按中性值 500 计。"
        }
    }

    func reduction(_ fact: ReductionFact) -> String {
        switch fact {
        case .compared(let kWh, let days, let perDay, let period, let baseline, let direction):
            "您本期 \(days) 天用电 \(kWh) 千瓦时，日均 \(perDay) 千瓦时；"
                + (baseline.map { "\(period) \($0.days) 天用电 \($0.energyKWh) 千瓦时，日均 \($0.perDayKWh) 千瓦时。" }
                    ?? "")
                + "日均用电比 \(period) " + change(direction, "减少", "增加", same: "持平") + "。"
        case .noBaseline(let period):
            "您在 \(period) 没有用电，无从比较，此项按中性值 500 计。"
        }
    }

    func timing(_ fact: TimingFact) -> String {
        switch fact {
        case .compared(let grams, let flat, let zone, let direction):
            "您所用电量的排放强度为每千瓦时 \(grams) 克二氧化碳当量，\(zone) 电网平均每小时为 \(flat) 克，"
                + "您的用电时段" + change(direction, "更清洁", "排放更高", same: "与电网平均持平") + "。"
        case .flatGrid(let zone):
            "本期 \(zone) 电网每小时的排放因子相同，何时用电不影响排放，此项按中性值 500 计。"
        case .cleanGrid(let zone):
            "本期 \(zone) 电网没有排放，此项按中性值 500 计。"
        case .noEnergy:
            "您本期没有用电，此项按中性值 500 计。"
        }
    }

    func green(_ fact: GreenFact) -> String {
        switch fact {
        case .covered(let matched, let energy, let percent):
            "绿色电力证书覆盖了您 \(energy) 千瓦时用电中的 \(matched) 千瓦时（\(percent)%）。"
        case .uncovered(let energy):
            "您本期 \(energy) 千瓦时用电没有绿色电力证书覆盖。"
        case .noEnergy:
            "您本期没有用电，无需证书覆盖。"
        }
    }

    func summary(_ fact: SummaryFact) -> String {
        let names = ["同类比较", "节约用电", "用电时段", "绿电覆盖"]
        let parts = zip(names, zip(fact.values, fact.weights)).map { "\($0) \($1.0) × \($1.1)" }
        return "得分 \(fact.score)（满分 1000）：\(parts.joined(separator: "、"))，"
            + "加总后除以 \(fact.weights.reduce(0, +))。"
    }

    func points(_ fact: PointsFact) -> String {
        switch fact {
        case .belowBenchmark(let points, let kg):
            "积分 \(points) 分：排放比您的基准值少 \(kg) 千克二氧化碳当量。"
        case .belowBaseline(let points, let kg, let period):
            "积分 \(points) 分：排放比您在 \(period) 的排放（按本期天数折算）少 \(kg) 千克二氧化碳当量。"
        case .none(let hasBenchmark, let hasBaseline, let period):
            switch (hasBenchmark, hasBaseline) {
            case (true, true): "没有积分：您的排放不低于基准值，也不低于您在 \(period) 的排放。"
            case (true, false): "没有积分：您的排放不低于基准值。"
            case (false, true): "没有积分：您的排放不低于您在 \(period) 的排放。"
            case (false, false): "没有积分：既没有基准值，也没有可比较的往期用电。"
            }
        }
    }

    func change(_ fact: ChangeFact) -> String {
        let what =
            switch fact.change {
            case .useLess:
                "如果少用 10% 的电（\(fact.after) 千瓦时而非 \(fact.before) 千瓦时）"
            case .cleanerHours:
                "如果把用电移到更清洁的时段，使同样的电量少排放 10%（\(fact.after) 千克而非 \(fact.before) 千克）"
            case .moreCertificates:
                "如果再用绿色电力证书覆盖用电量的 10%（覆盖 \(fact.after) 千瓦时而非 \(fact.before) 千瓦时）"
            }
        let points = fact.pointsGain > 0 ? "，积分多 \(fact.pointsGain) 分" : ""
        return "\(what)，得分将从 \(fact.scoreBefore) 升至 \(fact.scoreAfter)"
            + "（+\(fact.scoreAfter - fact.scoreBefore)）\(points)。"
    }

    func noChange(atMaximum: Bool) -> String {
        atMaximum
            ? "您的得分已是满分，无法再提高。"
            : "所考虑的改变（少用 10% 的电、在更清洁的时段用电、多用证书覆盖 10% 的用电）都不会提高您的得分。"
    }

    func note(_ fact: NoteFact) -> String {
        switch fact {
        case .provisional:
            "本期尚未结算，以上数字在结算前可能变化。"
        case .estimated(let estimated, let energy):
            "您的 \(energy) 千瓦时用电中有 \(estimated) 千瓦时是供电企业的估算值，并非实测。"
        case .residualFallback:
            "您所在区域缺少剩余电力排放因子时，市场法排放按电网平均排放因子计算。"
        }
    }

    // MARK: Pieces

    private func name(_ consumerClass: ConsumerClass) -> String {
        switch consumerClass {
        case .residential: "居民用户"
        case .commercial: "商业用户"
        case .industrial: "工业用户"
        case .public: "公共机构"
        }
    }

    private func label(_ grade: PeerGrade) -> String {
        switch grade {
        case .darkGreen: "深绿"
        case .lightGreen: "浅绿"
        case .yellow: "黄"
        case .orange: "橙"
        case .red: "红"
        }
    }

    private func change(_ direction: Direction, _ less: String, _ more: String, same: String) -> String {
        switch direction {
        case .less(let percent): "\(less) \(percent)%"
        case .more(let percent): "\(more) \(percent)%"
        case .same: same
        }
    }
}
