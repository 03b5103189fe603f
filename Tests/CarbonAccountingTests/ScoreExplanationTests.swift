import CarbonModel
import Testing

@testable import CarbonAccounting

/// A score in words: the sentences carry the consumer's own figures, and the best
/// change is the one that `cl-score/1` itself scores highest.
@Suite("Score explanation")
struct ScoreExplanationTests {
    let march = Period("2023-03")!
    let february = Period("2023-02")!

    /// Methodology section 9's inputs for c1 in March 2023.
    var workedInputs: ScoreInputs {
        ScoreInputs(
            consumer: "c1",
            totals: ConsumerTotals(energyWh: 100_000, locUg: 51_530_000_000, mktUg: 46_848_000_000, matchedWh: 20_000),
            normalizer: 1, benchmark: nil, baseline: BaselineFigures(energyWh: 95_000, locUg: 48_953_500_000),
            days: 31, baselineDays: 28, zoneFlatMg: 515_300, weights: ScoreWeights(), pointsPerKg: 1,
            provisional: false)
    }

    func basis(
        _ inputs: ScoreInputs?, peerGroupSize: Int? = 1, gridVaries: Bool = false, weights: ScoreWeights = ScoreWeights()
    ) -> ScoreBasis {
        ScoreBasis(
            inputs: inputs, period: march, baselinePeriod: february, zone: "CN-ZJ", consumerClass: .residential,
            weights: weights, minPeers: 5, peerGroupSize: peerGroupSize, gridVaries: gridVaries)
    }

    func explain(
        _ inputs: ScoreInputs, gridVaries: Bool = false, peerGroupSize: Int? = 1,
        language: ExplanationLanguage = .english
    ) throws -> (ScoreFigures, ScoreExplanation) {
        let figures = try ScoreFigures(inputs)
        return (
            figures,
            ScoreExplanation(
                figures: figures, basis: basis(inputs, peerGroupSize: peerGroupSize, gridVaries: gridVaries,
                weights: inputs.weights), language: language)
        )
    }

    @Test("the worked example, part by part, and 10 % less energy as its best change")
    func workedExample() throws {
        let (f, e) = try explain(workedInputs)
        #expect(f.score == 470)
        #expect(e.language == .english)
        #expect(e.components.map(\.part) == [.peer, .reduction, .timing, .green])
        #expect(e.components.map(\.value) == [500, 550, 500, 200])
        #expect(e.components.map(\.weight) == [40, 30, 15, 15])
        #expect(
            e.components[0].sentence
                == "Only 1 residential consumer in CN-ZJ used energy this period, fewer than the 5 a comparison "
                + "needs, and the program sets no benchmark for them: this part is neutral (500).")
        #expect(
            e.components[1].sentence
                == "You used 100.00 kWh in 31 days, 3.23 kWh a day, against 3.39 kWh a day in 2023-02 "
                + "(95.00 kWh in 28 days): 5.0 % less.")
        #expect(e.components[2].sentence.contains("the same in every hour"), "\(e.components[2].sentence)")
        #expect(e.components[3].sentence == "Green certificates covered 20.00 of your 100.00 kWh (20.0 %).")
        #expect(
            e.summary
                == "Score 470 of 1000: the weighted mean of peer 500 x 40, reduction 550 x 30, timing 500 x 15, "
                + "green 200 x 15 (divided by 100). 2 points for 2.67 kg CO2e below your emissions of 2023-02, "
                + "scaled to this period's length.")

        // 90,000 Wh: q = floor(1000 x 90000 x 28 / (95000 x 31)) = 855, R = 645; G = floor(1000 x 20000 / 90000)
        // = 222; score = floor((20000 + 19350 + 7500 + 3330) / 100) = 501. Points: floor(54_198_517_857 -
        // 46_377_000_000) / 10^9 = 7.
        let best = try #require(e.bestChange)
        #expect(best.change == .useLess)
        #expect((best.score, best.scoreGain, best.points, best.pointsGain) == (501, 31, 7, 5))
        #expect(
            best.sentence
                == "Using 10 % less energy (90.00 instead of 100.00 kWh) would have raised your score from 470 to 501 "
                + "(+31) and earned 5 more points.")
        // The same as the worked example's own formulas give for 90,000 Wh and as much less CO2e.
        var less = workedInputs
        less.totals = ConsumerTotals(
            energyWh: 90_000, locUg: 90_000 * 515_300, mktUg: 46_848_000_000 - 4_684_800_000, matchedWh: 20_000)
        #expect(try ScoreFigures(less).score == best.score)
        #expect(e.notes.isEmpty, "no_benchmark and no_baseline are the components' to explain")
    }

    /// Scenarios where each change matters, with grids flat and varying.
    func scenarios() -> [(name: String, inputs: ScoreInputs, gridVaries: Bool)] {
        let group = PeerBenchmark(
            zone: "CN-ZJ", consumerClass: .residential, n: 6, sumLocUg: 6 * 40_000_000_000, sumNorm: 6)
        var peers = workedInputs
        peers.benchmark = .peers(group)
        var hourly = peers
        hourly.totals.locUg = 53_000_000_000  // s = 1028: dirtier hours than the flat profile
        var covered = workedInputs
        covered.baseline = nil
        var fixed = workedInputs
        fixed.benchmark = .fixed(StaticBenchmark(zone: "CN-EAST", consumerClass: .residential, ugPerDay: 1_500_000_000))
        var heavy = hourly
        heavy.weights = ScoreWeights(peer: 10, reduction: 10, timing: 10, green: 70)
        var idle = workedInputs
        idle.totals = ConsumerTotals(energyWh: 0)
        return [
            ("worked", workedInputs, false), ("peers", peers, false), ("peers, hourly grid", hourly, true),
            ("no baseline", covered, false), ("static benchmark", fixed, true), ("green-heavy weights", heavy, true),
            ("no energy", idle, true),
        ]
    }

    @Test("the best change is the greatest gain of every candidate scored again, ties to points then order")
    func bestIsTheMaximum() throws {
        var winners: Set<ScoreChange> = []
        for (name, inputs, gridVaries) in scenarios() {
            let (f, e) = try explain(inputs, gridVaries: gridVaries)
            var outcomes: [(ScoreChange, ScoreFigures)] = []
            for change in ScoreChange.allCases {
                guard let changed = change.applied(to: inputs, gridVaries: gridVaries) else { continue }
                outcomes.append((change, try ScoreFigures(changed)))
            }
            let raising = outcomes.filter { $0.1.score > f.score }
            guard let top = raising.map({ $0.1.score }).max() else {
                #expect(e.bestChange == nil, "\(name)")
                #expect(e.summary.contains("None of the changes weighed"), "\(name): \(e.summary)")
                continue
            }
            let best = try #require(e.bestChange, "\(name)")
            let topPoints = raising.filter { $0.1.score == top }.map { $0.1.points }.max()!
            let expected = raising.first { $0.1.score == top && $0.1.points == topPoints }!
            #expect(best.change == expected.0, "\(name)")
            #expect(best.score == top && best.scoreGain == top - f.score, "\(name)")
            #expect(best.points == topPoints && best.pointsGain == topPoints - f.points, "\(name)")
            winners.insert(best.change)
        }
        #expect(winners == Set(ScoreChange.allCases), "each change wins somewhere: \(winners)")
    }

    @Test("a change lowers the consumer's own part of its peer group's emissions, and nothing else of the group")
    func peerGroupContribution() throws {
        let group = PeerBenchmark(zone: "CN-ZJ", consumerClass: .residential, n: 6, sumLocUg: 300_000_000_000, sumNorm: 9)
        var inputs = workedInputs
        inputs.benchmark = .peers(group)
        for change in [ScoreChange.useLess, .cleanerHours] {
            let changed = try #require(change.applied(to: inputs, gridVaries: true))
            #expect(changed.totals.locUg == 51_530_000_000 - 5_153_000_000)
            #expect(changed.benchmark == .peers(PeerBenchmark(
                zone: "CN-ZJ", consumerClass: .residential, n: 6, sumLocUg: 300_000_000_000 - 5_153_000_000, sumNorm: 9)))
        }
        let less = try #require(ScoreChange.useLess.applied(to: inputs, gridVaries: false))
        #expect(less.totals.energyWh == 90_000 && less.totals.matchedWh == 20_000)
        let covered = try #require(ScoreChange.moreCertificates.applied(to: inputs, gridVaries: false))
        #expect(covered.totals.matchedWh == 30_000 && covered.totals.locUg == inputs.totals.locUg)
        #expect(covered.totals.mktUg == 46_848_000_000 * 70 / 80)
        #expect(covered.benchmark == inputs.benchmark)
        // A flat grid has no cleaner hours.
        #expect(ScoreChange.cleanerHours.applied(to: inputs, gridVaries: false) == nil)
    }

    @Test("a consumer at 1000 in every part is told no change can raise it")
    func atTheTop() throws {
        let inputs = ScoreInputs(
            consumer: "c", totals: ConsumerTotals(energyWh: 1_000, locUg: 400_000_000, matchedWh: 1_000), normalizer: 1,
            benchmark: .peers(PeerBenchmark(
                zone: "CN-ZJ", consumerClass: .residential, n: 5, sumLocUg: 10_000_000_000_000_000, sumNorm: 5)),
            baseline: BaselineFigures(energyWh: 10_000, locUg: 5_000_000_000), days: 31, baselineDays: 31,
            zoneFlatMg: 500_000, weights: ScoreWeights(), pointsPerKg: 1, provisional: false)
        for language in ExplanationLanguage.allCases {
            let (f, e) = try explain(inputs, gridVaries: true, peerGroupSize: 5, language: language)
            #expect([f.p, f.r, f.t, f.g, f.score] == [1000, 1000, 1000, 1000, 1000])
            #expect(e.bestChange == nil)
            #expect(e.summary.hasSuffix(language == .english
                ? "Your score is the highest there is: no change can raise it." : "您的得分已是满分，无法再提高。"))
            #expect(e.components[0].sentence.contains(language == .english ? "5 residential consumers" : "5 户居民用户"))
            #expect(e.components[2].sentence.contains("20.0"), "s = 800: 20 % cleaner")
        }
    }

    @Test("no benchmark and no baseline are neutral and said so; a static benchmark is named")
    func neutralParts() throws {
        var inputs = workedInputs
        inputs.baseline = nil
        let (f, e) = try explain(inputs, peerGroupSize: nil)
        #expect(f.p == 500 && f.r == 500 && f.flags == [.noBaseline, .noBenchmark])
        #expect(e.components[0].sentence.hasPrefix("Fewer residential consumers in CN-ZJ used energy this period than the 5"))
        #expect(e.components[1].sentence == "You used no energy in 2023-02 to compare with: this part is neutral (500).")
        #expect(e.summary.contains("No points: there was neither a benchmark nor a baseline"), "\(e.summary)")
        // Neither less energy nor cleaner hours move R, P or T here: certificates do.
        #expect(e.bestChange?.change == .moreCertificates)
        #expect(e.bestChange?.sentence.contains("30.00 instead of 20.00 kWh covered") == true, "\(e.bestChange?.sentence ?? "")")

        inputs.benchmark = .fixed(StaticBenchmark(zone: "CN-EAST", consumerClass: .residential, ugPerDay: 1_500_000_000))
        let (g, fixed) = try explain(inputs)
        #expect(g.kMilli == 1108 && g.benchUg == 46_500_000_000)
        #expect(
            fixed.components[0].sentence
                == "Your emissions of 51.53 kg CO2e were 1.108 times the program's benchmark of 46.50 kg for a "
                + "residential consumer of your size in CN-EAST. Grade 3 (yellow).")
    }

    @Test("estimated data, a provisional period and a residual fallback get a note each")
    func notes() throws {
        var inputs = workedInputs
        inputs.totals.estimatedWh = 12_500
        inputs.totals.residualFallback = true
        inputs.provisional = true
        let (f, e) = try explain(inputs)
        #expect(f.flags == [.estimatedData, .noBenchmark, .provisional, .residualFallback])
        #expect(e.notes.map(\.flag) == [.estimatedData, .provisional, .residualFallback])
        #expect(e.notes[0].sentence == "12.50 of your 100.00 kWh were estimated by your utility, not metered.")
        let (_, zh) = try explain(inputs, language: .simplifiedChinese)
        #expect(zh.notes[0].sentence == "您的 100.00 千瓦时用电中有 12.50 千瓦时是供电企业的估算值，并非实测。")
        #expect(zh.notes[1].sentence.contains("尚未结算"))
    }

    @Test("Simplified Chinese: every sentence in Chinese, with the same figures and the same change")
    func chinese() throws {
        let (_, en) = try explain(workedInputs)
        let (_, zh) = try explain(workedInputs, language: .simplifiedChinese)
        #expect(zh.language == .simplifiedChinese)
        #expect(zh.components.map(\.value) == en.components.map(\.value))
        for (a, b) in zip(zh.components, en.components) {
            #expect(a.sentence != b.sentence)
            #expect(a.sentence.unicodeScalars.contains { (0x4E00...0x9FFF).contains($0.value) }, "\(a.sentence)")
        }
        #expect(
            zh.components[1].sentence
                == "您本期 31 天用电 100.00 千瓦时，日均 3.23 千瓦时；2023-02 28 天用电 95.00 千瓦时，日均 3.39 千瓦时。"
                + "日均用电比 2023-02 减少 5.0%。")
        #expect(zh.components[3].sentence == "绿色电力证书覆盖了您 100.00 千瓦时用电中的 20.00 千瓦时（20.0%）。")
        #expect(zh.summary.hasPrefix("得分 470（满分 1000）：同类比较 500 × 40、节约用电 550 × 30、用电时段 500 × 15、绿电覆盖 200 × 15"))
        let best = try #require(zh.bestChange)
        #expect(best.change == en.bestChange?.change && best.scoreGain == en.bestChange?.scoreGain)
        #expect(best.sentence == "如果少用 10% 的电（90.00 千瓦时而非 100.00 千瓦时），得分将从 470 升至 501（+31），积分多 5 分。")
    }

    @Test("inputs that do not give the figures again propose no change")
    func unverifiedInputs() throws {
        let figures = try ScoreFigures(workedInputs)
        var wrong = workedInputs
        wrong.normalizer = 2
        wrong.benchmark = .fixed(StaticBenchmark(zone: "CN", consumerClass: .residential, ugPerDay: 1))
        for inputs in [wrong, nil] {
            let e = ScoreExplanation(figures: figures, basis: basis(inputs), language: .english)
            #expect(e.bestChange == nil)
            #expect(!e.summary.contains("None of the changes"))
            // What the figures alone say: the ratio, not the baseline's energy.
            #expect(e.components[1].sentence == "You used 100.00 kWh in 31 days, 3.23 kWh a day, against your daily use in 2023-02: 5.0 % less.")
        }
    }

    @Test("a computed period's scores are recovered from their figures, peer groups, baselines and parameters")
    func recoveredFromAComputation() throws {
        let hour = Period("2026-10")!.start(in: shanghai)
        let factors = try FactorSet(
            rows: [annual("CN-ZJ", .average, 2026, 500_000), span("CN-ZJ", .average, hour, hour + 3_600, 200_000)],
            zoneTree: testZones, calendar: shanghai)
        let period = Period("2026-10")!
        let parameters = ProgramParameters(staticBenchmarks: [
            StaticBenchmark(zone: "CN-EAST", consumerClass: .commercial, ugPerDay: 3_000_000_000)
        ])
        let consumers = (1...5).map { consumer("r\($0)", normalizer: Int64($0)) } + [consumer("shop", .commercial)]
        let readings = consumers.enumerated().map { k, c in
            reading(c.id, start: hour + Int64(k % 2) * 3_600, importWh: Int64(1_000 * (k + 1)))
        }
        let baseline = ["r1": BaselineFigures(energyWh: 2_000, locUg: 1_000_000_000)]
        let result = try PeriodComputation.compute(
            period: period, consumers: consumers, readings: readings, factors: factors, parameters: parameters,
            baseline: baseline, provisional: true)
        for score in result.scores {
            let recovered = ScoreBasis(
                recorded: score.figures, consumer: score.consumer, period: period, parameters: parameters,
                peerGroups: result.benchmarks, baseline: baseline[score.consumer.id], factors: factors)
            let inputs = try #require(recovered.inputs, "\(score.consumer.id)")
            #expect(try ScoreFigures(inputs) == score.figures)
            #expect(recovered.gridVaries)
            #expect(recovered.peerGroupSize == (score.consumer.consumerClass == .residential ? 5 : 1))
        }
        // Without the peer groups the residential benchmark cannot be recovered.
        let r1 = try #require(result.scores.first { $0.consumer.id == "r1" })
        let blind = ScoreBasis(
            recorded: r1.figures, consumer: r1.consumer, period: period, parameters: parameters, peerGroups: nil,
            baseline: baseline["r1"], factors: factors)
        #expect(blind.inputs == nil && blind.peerGroupSize == nil)
    }
}

@Suite("Display numbers")
struct DisplayNumberTests {
    @Test("fixed decimals from integers, halves away from zero")
    func rounding() {
        #expect(DisplayNumber.decimal(5, over: 1_000, places: 2) == "0.01")
        #expect(DisplayNumber.decimal(4, over: 1_000, places: 2) == "0.00")
        #expect(DisplayNumber.decimal(-5, over: 1_000, places: 2) == "-0.01")
        #expect(DisplayNumber.decimal(-4, over: 1_000, places: 2) == "0.00")
        #expect(DisplayNumber.decimal(1_234_567, over: 1, places: 0) == "1234567")
        #expect(DisplayNumber.kWh(100_000) == "100.00")
        #expect(DisplayNumber.kg(2_668_517_857) == "2.67")
        #expect(DisplayNumber.ratio(Int64.max) == "9223372036854775.807")
        #expect(DisplayNumber.percent(5) == "0.5")
        #expect(DisplayNumber.gramsPerKWh(515_350) == "515.4")
    }
}
