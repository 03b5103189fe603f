import CarbonModel
import Testing

@testable import CarbonAccounting

/// The explanation's sentences carry the consumer's figures, and its best change is
/// the largest gain `cl-score/1` gives among the changes it considers.
@Suite struct ScoreExplanationTests {
    static let consumer = Consumer(id: "c1", utility: "u1", zone: "CN-ZJ", consumerClass: .residential, normalizer: 1)

    /// Methodology section 9: no benchmark, February as baseline, 20 kWh of certificates.
    static let worked = ScoreInputs(
        consumer: "c1",
        totals: ConsumerTotals(energyWh: 100_000, locUg: 51_530_000_000, mktUg: 46_848_000_000, matchedWh: 20_000),
        normalizer: 1, benchmark: nil, baseline: BaselineFigures(energyWh: 95_000, locUg: 48_953_500_000), days: 31,
        baselineDays: 28, zoneFlatMg: 515_300, weights: ScoreWeights(), pointsPerKg: 1, provisional: false)

    static func explain(_ inputs: ScoreInputs, _ language: ScoreExplanation.Language = .english) throws -> ScoreExplanation {
        ScoreExplanation(
            figures: try inputs.figures(), inputs: inputs, weights: inputs.weights, consumer: consumer,
            baselinePeriod: Period("2023-02"), language: language)
    }

    @Test func theWorkedExampleIsExplainedWithItsOwnFigures() throws {
        let figures = try Self.worked.figures()
        #expect(figures.score == 470)
        let e = try Self.explain(Self.worked)
        #expect(e.components.map(\.component) == ["peer", "reduction", "timing", "green"])
        #expect(e.components.map(\.value) == [500, 550, 500, 200])
        #expect(e.components.map(\.weight) == [40, 30, 15, 15])
        #expect(e.components[0].sentence.contains("neutral (500)"))
        #expect(e.components[1].sentence.contains("95.0 %") && e.components[1].sentence.contains("2023-02"), "\(e.components[1])")
        #expect(e.components[2].sentence.contains("100.0 %"), "\(e.components[2])")
        #expect(e.components[3].sentence.contains("20.0 %") && e.components[3].sentence.contains("100.0 kWh"), "\(e.components[3])")
    }

    /// The best change, against each candidate scored here by hand-built inputs.
    @Test func theBestChangeIsTheLargestGainTheMethodGives() throws {
        let w = Self.worked
        var less = w
        less.totals = ConsumerTotals(energyWh: 90_000, locUg: 46_377_000_000, mktUg: 42_163_200_000, matchedWh: 20_000)
        var cleaner = w
        cleaner.totals.locUg = 46_377_000_000
        var green = w
        green.totals.matchedWh = 30_000
        let scores = try [less, cleaner, green].map { try $0.figures().score }
        #expect(scores == [501, 507, 485])
        let e = try Self.explain(w)
        let best = try #require(e.bestChange)
        #expect(best.change == "use_cleaner_hours" && best.score == 507 && best.scoreGain == 37)
        #expect(best.pointsGain == (try cleaner.figures().points) - 2)
        #expect(best.sentence.contains("raised the score by 37, to 507"), "\(best.sentence)")
    }

    @Test func aPeerGroupMovesWithTheConsumersOwnEmissions() throws {
        var inputs = Self.worked
        let group = PeerBenchmark(zone: "CN-ZJ", consumerClass: .residential, n: 6, sumLocUg: 6 * 51_530_000_000, sumNorm: 6)
        inputs.benchmark = .peers(group)
        let e = try Self.explain(inputs)
        #expect(e.components[0].sentence.contains("6 residential consumers"), "\(e.components[0])")
        // Less energy: the consumer's own emissions leave the group's sum too.
        var expected = inputs
        expected.totals = ConsumerTotals(energyWh: 90_000, locUg: 46_377_000_000, mktUg: 42_163_200_000, matchedWh: 20_000)
        expected.benchmark = .peers(PeerBenchmark(
            zone: "CN-ZJ", consumerClass: .residential, n: 6, sumLocUg: 6 * 51_530_000_000 - 5_153_000_000, sumNorm: 6))
        let candidates = ScoreExplanation.candidates(inputs)
        #expect(candidates[0].inputs == expected)
    }

    @Test func aScoreThatCannotRiseHasNoChangeAndUnknownInputsGiveNone() throws {
        var top = Self.worked
        top.totals = ConsumerTotals(energyWh: 100_000, locUg: 0, mktUg: 0, matchedWh: 100_000)
        top.benchmark = .fixed(StaticBenchmark(zone: "CN", consumerClass: .residential, ugPerDay: 1))
        top.baseline = BaselineFigures(energyWh: 1_000_000, locUg: 1)
        let figures = try top.figures()
        #expect(figures.score == 1000)
        #expect(try Self.explain(top).bestChange == nil)
        // Inputs that do not give back the figures explained: no change is offered.
        var other = Self.worked
        other.normalizer = 2
        other.benchmark = .fixed(StaticBenchmark(zone: "CN", consumerClass: .residential, ugPerDay: 1_000_000_000))
        let e = ScoreExplanation(
            figures: try Self.worked.figures(), inputs: other, weights: other.weights, consumer: Self.consumer,
            baselinePeriod: nil, language: .english)
        #expect(e.bestChange == nil && e.components.count == 4)
    }

    @Test func simplifiedChineseSaysTheSameFiguresInChinese() throws {
        let en = try Self.explain(Self.worked)
        let zh = try Self.explain(Self.worked, .simplifiedChinese)
        #expect(zh.language == .simplifiedChinese)
        for (a, b) in zip(en.components, zh.components) {
            #expect(a.value == b.value && a.sentence != b.sentence)
            #expect(b.sentence.unicodeScalars.contains { (0x4E00...0x9FFF).contains($0.value) }, "\(b.sentence)")
        }
        #expect(zh.components[1].sentence.contains("95.0%"))
        #expect(zh.bestChange?.scoreGain == en.bestChange?.scoreGain)
        #expect(zh.bestChange?.sentence.contains("得分将提高37分") == true, "\(zh.bestChange?.sentence ?? "")")
    }
}
