import CarbonClient
import Foundation
import Testing

/// A score people understand, over the API: each component in words, the best change
/// scored by the method, in the language the peer asks for.
@Suite struct ExplanationTests {
    static func explanation(
        _ app: InProcessDaemon, period: String = "2023-03", language: String? = nil
    ) async throws -> (explanation: [String: Any], contentLanguage: String?, score: Int?) {
        let answer = try await app.request(
            "GET", "/v1/consumers/c1/score?period=\(period)", headers: language.map { [("Accept-Language", $0)] } ?? [])
        #expect(answer.status == 200, "\(answer.text)")
        let json = try answer.json()
        return (json["explanation"] as? [String: Any] ?? [:], answer.header("Content-Language"), json["score"] as? Int)
    }

    @Test func theWorkedExampleIsExplainedOpenAndClosedInTheAskedLanguage() async throws {
        let app = try await AccountingTests.workedExampleInProcess()
        let (open, language, score) = try await Self.explanation(app)
        #expect(language == "en" && open["language"] as? String == "en" && score == 470)
        let components = open["components"] as? [[String: Any]] ?? []
        #expect(components.map { $0["component"] as? String } == ["peer", "reduction", "timing", "green"])
        #expect(components.map { $0["value"] as? Int } == [500, 550, 500, 200])
        #expect(components.map { $0["weight"] as? Int } == [40, 30, 15, 15])
        let best = try #require(open["best_change"] as? [String: Any])
        #expect(best["change"] as? String == "use_cleaner_hours" && best["score"] as? Int == 507 && best["score_gain"] as? Int == 37)

        for (header, expected) in [
            ("zh-CN,zh;q=0.9,en;q=0.8", "zh-CN"), ("zh", "zh-CN"), ("zh-Hans-CN", "zh-CN"), ("en-US,en;q=0.9", "en"),
            ("en;q=0.5, zh-CN;q=0.8", "zh-CN"), ("zh-CN;q=0, en", "en"), ("fr-FR", "en"), ("%%%;q=abc,,", "en"),
            (String(repeating: "zh-CN;q=0.1,", count: 500), "zh-CN"),
        ] {
            let (e, contentLanguage, _) = try await Self.explanation(app, language: header)
            #expect(e["language"] as? String == expected && contentLanguage == expected, "\(header.prefix(40))")
        }
        let zh = try await Self.explanation(app, language: "zh-CN").explanation
        let sentence = (zh["best_change"] as? [String: Any])?["sentence"] as? String ?? ""
        #expect(sentence.contains("得分将提高37分"), "\(sentence)")

        // Closed: the inputs are read back from the ledger and give the signed figures again.
        #expect(try await app.post("/v1/periods/2023-02/close", "").status == 200)
        #expect(try await app.post("/v1/periods/2023-03/close", "").status == 200)
        let (closed, _, closedScore) = try await Self.explanation(app)
        #expect(closedScore == 470)
        let closedBest = try #require(closed["best_change"] as? [String: Any])
        #expect(closedBest["score"] as? Int == 507, "\(closed)")
        #expect(closed["components"] as? NSArray == open["components"] as? NSArray)
    }
}
