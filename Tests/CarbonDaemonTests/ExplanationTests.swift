import CarbonAPI
import CarbonClient
import Foundation
import Testing

/// The `explanation` of `GET /v1/consumers/{id}/score`, in-process: its language from
/// `Accept-Language`, its sentences, and its best change, which a second daemon given
/// the changed data must score exactly so.
@Suite struct ExplanationTests {
    /// The score answer of `consumer` in `period`, asked in `language`.
    static func score(
        _ app: InProcessDaemon, _ consumer: String = "c1", period: String = "2023-03", language: [String] = []
    ) async throws -> (response: CarbonClient.HTTPResponse, answer: ScoreAnswer) {
        let response = try await app.request(
            "GET", "/v1/consumers/\(consumer)/score?period=\(period)", headers: language.map { ("Accept-Language", $0) })
        try #require(response.status == 200, "\(response.text)")
        return (response, try JSONDecoder().decode(ScoreAnswer.self, from: Data(response.body)))
    }

    /// The explanation's parts agree with the answer's figures, and its best change with its score.
    static func expectConsistent(_ answer: ScoreAnswer, _ what: String) throws {
        let e = try #require(answer.explanation, "\(what)")
        let f = answer.figures
        #expect(e.components.map(\.component) == ["peer", "reduction", "timing", "green"], "\(what)")
        #expect(e.components.map(\.value) == [f.p, f.r, f.t, f.g], "\(what)")
        #expect(e.components.allSatisfy { !$0.sentence.isEmpty }, "\(what)")
        if let best = e.best_change {
            #expect(best.score - best.score_gain == f.score && best.score_gain > 0, "\(what)")
            #expect(best.points - best.points_gain == f.points, "\(what)")
        }
    }

    static func hasChinese(_ text: String) -> Bool {
        text.unicodeScalars.contains { (0x4E00...0x9FFF).contains($0.value) }
    }

    @Test func theWorkedExampleIsExplainedInEnglishByDefaultAndItsBestChangeScoresSo() async throws {
        let app = try await AccountingTests.workedExampleInProcess()
        let (response, answer) = try await Self.score(app)
        #expect(response.header("Content-Language") == "en")
        #expect(response.header("Vary")?.contains("Accept-Language") == true)
        try Self.expectConsistent(answer, "provisional")
        let e = try #require(answer.explanation)
        #expect(e.language == "en")
        #expect(e.components.map(\.weight) == [40, 30, 15, 15])
        #expect(e.components[1].sentence.contains("3.23 kWh a day, against 3.39 kWh a day in 2023-02"))
        #expect(e.summary.hasPrefix("Score 470 of 1000"))
        #expect(e.notes.map(\.flag) == ["provisional"])
        let best = try #require(e.best_change)
        #expect(best.change == "use_less")
        #expect((best.score, best.score_gain, best.points, best.points_gain) == (501, 31, 7, 5))

        // The same month with 10 % less energy (and so 10 % less CO2e), scored by a daemon.
        let less = try await InProcessDaemon(extraConfig: AccountingTests.manualClose)
        try await AccountingTests.loadWorkedExample(less, marchWh: 90_000)
        let changed = try await Self.score(less).answer
        #expect(changed.figures.loc_ug == answer.figures.loc_ug - answer.figures.loc_ug / 10)
        #expect(changed.figures.score == best.score && changed.figures.points == best.points)

        // A day of the month program is explained too.
        try Self.expectConsistent(try await Self.score(app, period: "2023-03-01").answer, "a day")
    }

    @Test(arguments: [
        (["zh-CN,zh;q=0.9,en;q=0.8"], "zh-CN"), (["en-US"], "en"), (["%%;;q=2,,\u{7f}"], "en"), ([""], "en"),
        (["fr-FR, zh;q=0.5"], "zh-CN"), (["zh;q=0, en"], "en"), (["zh-TW, en;q=0.5"], "en"),
        (["en;q=0.2, zh-Hans;q=0.8"], "zh-CN"), (["zh-Hans-CN"], "zh-CN"), (["*"], "en"),
        (["zh-CN;q=abc, en;q=0.1"], "en"), (["ZH-cn"], "zh-CN"), (["en, zh-CN"], "en"), (["fr", "zh-CN;q=0.5"], "zh-CN"),
        (["zh-CN;q=1.0001"], "en"), (["de"], "en"),
    ])
    func theLanguageFollowsAcceptLanguage(header: [String], language: String) async throws {
        let app = try await AccountingTests.workedExampleInProcess()
        let english = try #require(try await Self.score(app).answer.explanation)
        let (response, answer) = try await Self.score(app, language: header)
        let e = try #require(answer.explanation)
        #expect(response.header("Content-Language") == language, "\(header)")
        #expect(e.language == language, "\(header)")
        try Self.expectConsistent(answer, "\(header)")
        let sentences = e.components.map(\.sentence) + [e.summary] + e.notes.map(\.sentence)
            + [e.best_change?.sentence ?? ""]
        if language == "zh-CN" {
            #expect(sentences.allSatisfy(Self.hasChinese), "\(sentences)")
            #expect(zip(e.components, english.components).allSatisfy { $0.sentence != $1.sentence })
            #expect(e.best_change?.sentence.hasPrefix("如果少用 10% 的电") == true, "\(e.best_change?.sentence ?? "")")
        } else {
            #expect(e == english, "\(header)")
        }
        // Only the words change.
        #expect(e.components.map(\.value) == english.components.map(\.value))
        #expect(e.best_change?.change == english.best_change?.change)
        #expect(e.best_change?.score == english.best_change?.score)
        #expect(e.best_change?.points_gain == english.best_change?.points_gain)
    }

    @Test func aClosedScoreIsExplainedFromItsLedgerEntriesAsTheOpenOneWas() async throws {
        let app = try await AccountingTests.workedExampleInProcess()
        let open = try #require(try await Self.score(app).answer.explanation)
        let openChinese = try #require(try await Self.score(app, language: ["zh-CN"]).answer.explanation)
        #expect(try await app.post("/v1/periods/2023-02/close", "").status == 200)
        #expect(try await app.post("/v1/periods/2023-03/close", "").status == 200)
        for (language, before) in [("en", open), ("zh-CN", openChinese)] {
            let (response, answer) = try await Self.score(app, language: [language])
            #expect(answer.provisional == false && answer.entry != nil)
            #expect(response.header("Content-Language") == language)
            try Self.expectConsistent(answer, "closed \(language)")
            let e = try #require(answer.explanation)
            #expect(e.components == before.components, "the same figures in the same words")
            #expect(e.best_change == before.best_change)
            #expect(e.best_change?.score == 501)
            #expect(e.notes.isEmpty, "no longer provisional")
        }
    }

    /// Five residential consumers of CN-ZJ (CN-ZJ's 2023 average only), each with 10 kWh
    /// in February; in March c1 uses `c1Wh`, the others 20 kWh each.
    static func peers(c1Wh: Int) async throws -> InProcessDaemon {
        let app = try await InProcessDaemon(extraConfig: AccountingTests.manualClose)
        try await AccountingTests.loadOneAnnualFactor(app)
        let registry = (1...5).map { #"{"consumer":"c\#($0)","utility":"u1","zone":"CN-ZJ","class":"residential"}"# }
        #expect(try await app.post("/v1/consumers", registry.joined(separator: "\n")).status == 200)
        var lines: [String] = []
        for c in 1...5 {
            for (start, wh) in [("2023-02-01", 10_000), ("2023-03-01", c == 1 ? c1Wh : 20_000)] {
                lines.append(#"{"utility":"u1","meter":"m\#(c)","consumer":"c\#(c)","start":"\#(start)T00:00:00+08:00","duration_s":3600,"import_wh":\#(wh),"quality":"actual"}"#)
            }
        }
        let pushed = try await app.post("/v1/readings", lines.joined(separator: "\n"))
        #expect(pushed.status == 200, "\(pushed.text)")
        return app
    }

    @Test func aPeerGroupIsNamedAndTheChangeCountsTheConsumersOwnPartOfIt() async throws {
        let app = try await Self.peers(c1Wh: 10_000)
        let less = try await Self.peers(c1Wh: 9_000)
        let changed = try await Self.score(less).answer.figures
        for closed in [false, true] {
            if closed {
                for period in ["2023-02", "2023-03"] {
                    #expect(try await app.post("/v1/periods/\(period)/close", "").status == 200)
                }
            }
            let (_, answer) = try await Self.score(app)
            #expect(answer.provisional == !closed)
            try Self.expectConsistent(answer, "closed: \(closed)")
            let e = try #require(answer.explanation)
            // k = floor(1000 x 5 kg x 5 / 45 kg) = 555: grade 1.
            #expect(answer.figures.k_milli == 555 && answer.figures.score == 543)
            #expect(
                e.components[0].sentence
                    == "Your emissions of 5.00 kg CO2e were 0.555 times the benchmark of 9.00 kg: the average of 5 "
                    + "residential consumers in CN-ZJ, scaled to your size. Grade 1 (dark-green).")
            #expect(e.summary.contains("4 points for 4.00 kg CO2e below your benchmark."), "\(e.summary)")
            let best = try #require(e.best_change, "closed: \(closed)")
            #expect(best.change == "use_less")
            // With 9 kWh c1's part of the group's 45 kg is 4.5 kg: k = 505, P = 748, R = 688.
            #expect(changed.k_milli == 505 && changed.p == 748 && changed.r == 688)
            #expect((best.score, best.points) == (changed.score, changed.points), "closed: \(closed)")
            let chinese = try #require(try await Self.score(app, language: ["zh"]).answer.explanation)
            #expect(chinese.components[0].sentence.contains("CN-ZJ 5 户居民用户"), "\(chinese.components[0].sentence)")
        }
    }

    /// CN-ZJ's 2023 average with its first two hours of March at 600 and 480 g/kWh; c1's
    /// March readings: `hours` (Wh in each hour from the first).
    static func hourly(_ hours: [Int]) async throws -> InProcessDaemon {
        let app = try await InProcessDaemon(extraConfig: AccountingTests.manualClose)
        try await AccountingTests.loadOneAnnualFactor(app)
        let series = try await app.post("/v1/factors?dataset=hourly", """
            zone,kind,start,end,mg_per_kwh,source
            CN-ZJ,average,2023-03-01T00:00:00+08:00,2023-03-01T01:00:00+08:00,600000,test
            CN-ZJ,average,2023-03-01T01:00:00+08:00,2023-03-01T02:00:00+08:00,480000,test
            """, contentType: "text/csv")
        #expect(series.status == 200, "\(series.text)")
        #expect(try await app.post("/v1/consumers", #"{"consumer":"c1","utility":"u1","zone":"CN-ZJ","class":"residential"}"#).status == 200)
        let lines = hours.enumerated().map { k, wh in
            #"{"utility":"u1","meter":"m1","consumer":"c1","start":\#(1_677_600_000 + k * 3_600),"duration_s":3600,"import_wh":\#(wh),"quality":"actual"}"#
        }
        #expect(try await app.post("/v1/readings", lines.joined(separator: "\n")).status == 200)
        return app
    }

    @Test func useInCleanerHoursIsProposedWhereTheGridVariesAndScoresSo() async throws {
        let app = try await Self.hourly([1_000])
        let (_, answer) = try await Self.score(app)
        try Self.expectConsistent(answer, "hourly")
        let e = try #require(answer.explanation)
        // zone_flat_mg = floor((742 x 500000 + 600000 + 480000) / 744) = 500107; s = 1199, T = 2.
        #expect(answer.figures.zone_flat_mg == 500_107 && answer.figures.s_milli == 1_199 && answer.figures.t == 2)
        #expect(
            e.components[2].sentence
                == "Your energy carried 600.0 g CO2e per kWh, against 500.1 g in the average hour of the grid in "
                + "CN-ZJ: 19.9 % dirtier.")
        #expect(e.notes.map(\.flag) == ["provisional", "residual_fallback"])
        let best = try #require(e.best_change)
        #expect(best.change == "cleaner_hours")
        #expect(best.sentence.hasPrefix("Using your energy in cleaner hours, so that the same amount carried 10 % less CO2e (0.54 instead of 0.60 kg)"), "\(best.sentence)")
        // Half of it an hour later: 500 Wh at 600 and 500 at 480 g/kWh carry 10 % less CO2e.
        let shifted = try await Self.score(try await Self.hourly([500, 500])).answer.figures
        #expect(shifted.loc_ug == answer.figures.loc_ug - answer.figures.loc_ug / 10 && shifted.energy_wh == 1_000)
        #expect(shifted.score == best.score && shifted.points == best.points)

        // An annual factor alone has no cleaner hours: the same reading is told its timing did not matter.
        let flat = try await InProcessDaemon(extraConfig: AccountingTests.manualClose)
        try await AccountingTests.loadOneAnnualFactor(flat)
        #expect(try await flat.post("/v1/consumers", #"{"consumer":"c1","utility":"u1","zone":"CN-ZJ","class":"residential"}"#).status == 200)
        #expect(try await flat.post("/v1/readings", #"{"utility":"u1","meter":"m1","consumer":"c1","start":1677600000,"duration_s":3600,"import_wh":1000,"quality":"actual"}"#).status == 200)
        let plain = try #require(try await Self.score(flat).answer.explanation)
        #expect(plain.components[2].sentence.contains("the same in every hour"), "\(plain.components[2].sentence)")
        #expect(plain.best_change?.change == "more_certificates")
    }
}
