import CarbonModel

/// Every sentence of an explanation in English.
struct EnglishWording: ExplanationWording {
    func peer(_ fact: PeerFact) -> String {
        switch fact {
        case .group(let kg, let ratio, let bench, let members, let consumerClass, let zone, let grade):
            "Your emissions of \(kg) kg CO2e were \(ratio) times the benchmark of \(bench) kg: the average of "
                + "\(consumers(members, consumerClass)) in \(zone), scaled to your size. Grade \(grade.rawValue) "
                + "(\(grade.label))."
        case .fixed(let kg, let ratio, let bench, let consumerClass, let zone, let grade):
            "Your emissions of \(kg) kg CO2e were \(ratio) times the program's benchmark of \(bench) kg for a "
                + "\(consumerClass.rawValue) consumer of your size in \(zone). Grade \(grade.rawValue) (\(grade.label))."
        case .measured(let kg, let ratio, let bench, let grade):
            "Your emissions of \(kg) kg CO2e were \(ratio) times your benchmark of \(bench) kg. "
                + "Grade \(grade.rawValue) (\(grade.label))."
        case .noEnergy:
            "You used no energy this period, so you were compared with no one: this part is neutral (500)."
        case .tooFewPeers(let members, let minPeers, let consumerClass, let zone):
            (members.map { "Only \(consumers($0, consumerClass)) in \(zone) used energy this period, fewer than" }
                ?? "Fewer \(consumerClass.rawValue) consumers in \(zone) used energy this period than")
                + " the \(minPeers) a comparison needs, and the program sets no benchmark for them: "
                + "this part is neutral (500)."
        }
    }

    func reduction(_ fact: ReductionFact) -> String {
        switch fact {
        case .compared(let kWh, let days, let perDay, let period, let baseline, let direction):
            "You used \(kWh) kWh in \(days) days, \(perDay) kWh a day, "
                + (baseline.map { "against \($0.perDayKWh) kWh a day in \(period) (\($0.energyKWh) kWh in \($0.days) days): " }
                    ?? "against your daily use in \(period): ")
                + change(direction, "less", "more", same: "the same") + "."
        case .noBaseline(let period):
            "You used no energy in \(period) to compare with: this part is neutral (500)."
        }
    }

    func timing(_ fact: TimingFact) -> String {
        switch fact {
        case .compared(let grams, let flat, let zone, let direction):
            "Your energy carried \(grams) g CO2e per kWh, against \(flat) g in the average hour of the grid in "
                + "\(zone): " + change(direction, "cleaner", "dirtier", same: "no cleaner and no dirtier") + "."
        case .flatGrid(let zone):
            "The grid's emission factor in \(zone) was the same in every hour of the period, so when you used "
                + "energy made no difference: this part is neutral (500)."
        case .cleanGrid(let zone):
            "The grid in \(zone) emitted nothing this period: this part is neutral (500)."
        case .noEnergy:
            "You used no energy this period: this part is neutral (500)."
        }
    }

    func green(_ fact: GreenFact) -> String {
        switch fact {
        case .covered(let matched, let energy, let percent):
            "Green certificates covered \(matched) of your \(energy) kWh (\(percent) %)."
        case .uncovered(let energy):
            "No green certificate covered your \(energy) kWh."
        case .noEnergy:
            "You used no energy this period, so there was nothing to cover."
        }
    }

    func summary(_ fact: SummaryFact) -> String {
        let names = ["peer", "reduction", "timing", "green"]
        let parts = zip(names, zip(fact.values, fact.weights)).map { "\($0) \($1.0) x \($1.1)" }
        return "Score \(fact.score) of 1000: the weighted mean of \(parts.joined(separator: ", ")) "
            + "(divided by \(fact.weights.reduce(0, +)))."
    }

    func points(_ fact: PointsFact) -> String {
        switch fact {
        case .belowBenchmark(let points, let kg):
            "\(count(points, "point")) for \(kg) kg CO2e below your benchmark."
        case .belowBaseline(let points, let kg, let period):
            "\(count(points, "point")) for \(kg) kg CO2e below your emissions of \(period), "
                + "scaled to this period's length."
        case .none(let hasBenchmark, let hasBaseline, let period):
            switch (hasBenchmark, hasBaseline) {
            case (true, true): "No points: your emissions were not below your benchmark or your emissions of \(period)."
            case (true, false): "No points: your emissions were not below your benchmark."
            case (false, true): "No points: your emissions were not below your emissions of \(period)."
            case (false, false): "No points: there was neither a benchmark nor a baseline to measure savings against."
            }
        }
    }

    func change(_ fact: ChangeFact) -> String {
        let what =
            switch fact.change {
            case .useLess:
                "Using 10 % less energy (\(fact.after) instead of \(fact.before) kWh)"
            case .cleanerHours:
                "Using your energy in cleaner hours, so that the same amount carried 10 % less CO2e "
                    + "(\(fact.after) instead of \(fact.before) kg)"
            case .moreCertificates:
                "Green certificates for another 10 % of your energy (\(fact.after) instead of \(fact.before) kWh covered)"
            }
        let points = fact.pointsGain > 0 ? " and earned \(count(fact.pointsGain, "more point"))" : ""
        return "\(what) would have raised your score from \(fact.scoreBefore) to \(fact.scoreAfter) "
            + "(+\(fact.scoreAfter - fact.scoreBefore))\(points)."
    }

    func noChange(atMaximum: Bool) -> String {
        atMaximum
            ? "Your score is the highest there is: no change can raise it."
            : "None of the changes weighed (10 % less energy, cleaner hours, certificates for 10 % more of your "
                + "energy) would have raised your score."
    }

    func note(_ fact: NoteFact) -> String {
        switch fact {
        case .provisional:
            "The period is still open: these figures may change until it closes."
        case .estimated(let estimated, let energy):
            "\(estimated) of your \(energy) kWh were estimated by your utility, not metered."
        case .residualFallback:
            "Where your zone has no residual-mix factor, your market-based emissions use the grid average."
        }
    }

    // MARK: Pieces

    /// "3 residential consumers", "1 residential consumer".
    private func consumers(_ n: Int, _ consumerClass: ConsumerClass) -> String {
        "\(n) \(consumerClass.rawValue) consumer\(n == 1 ? "" : "s")"
    }

    /// "1 point", "2 points".
    private func count(_ n: Int64, _ noun: String) -> String { "\(n) \(noun)\(n == 1 ? "" : "s")" }

    private func change(_ direction: Direction, _ less: String, _ more: String, same: String) -> String {
        switch direction {
        case .less(let percent): "\(percent) % \(less)"
        case .more(let percent): "\(percent) % \(more)"
        case .same: same
        }
    }
}
