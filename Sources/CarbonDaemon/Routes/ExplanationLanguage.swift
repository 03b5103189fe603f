import CarbonAPI
import CarbonAccounting

/// The language of a score's explanation, from `Accept-Language` (RFC 9110 section
/// 12.5.4): Simplified Chinese for `zh`, `zh-CN`, `zh-Hans` and their kin, English
/// otherwise; the highest weight wins, ties in the order given.
enum ExplanationLanguage {
    static func negotiate(_ header: String?) -> ScoreExplanation.Language {
        guard let header else { return .english }
        var best: (language: ScoreExplanation.Language, weight: Int)? = nil
        for range in header.split(separator: ",").prefix(32) {
            let parts = range.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
            guard let tag = parts.first?.lowercased(), !tag.isEmpty else { continue }
            // Weights in thousandths: q=1 (the default) to q=0 (not acceptable).
            var weight = 1000
            for parameter in parts.dropFirst() where parameter.lowercased().hasPrefix("q=") {
                weight = Self.thousandths(parameter.dropFirst(2)) ?? 0
            }
            guard weight > 0 else { continue }
            let language: ScoreExplanation.Language?
            if tag == "zh" || tag.hasPrefix("zh-cn") || tag.hasPrefix("zh-hans") || tag.hasPrefix("zh-sg") {
                language = .simplifiedChinese
            } else if tag == "en" || tag.hasPrefix("en-") || tag == "*" {
                language = .english
            } else {
                language = nil
            }
            if let language, weight > (best?.weight ?? 0) { best = (language, weight) }
        }
        return best?.language ?? .english
    }

    /// `0.8` as 800; nil when not a weight (0 to 1, at most three decimals).
    private static func thousandths(_ text: Substring) -> Int? {
        let parts = text.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        guard let whole = parts.first, whole == "0" || whole == "1" else { return nil }
        let decimals = parts.count > 1 ? parts[1] : ""
        guard decimals.count <= 3, decimals.allSatisfy(\.isASCII), decimals.allSatisfy(\.isNumber) else { return nil }
        let value = Int(whole)! * 1000 + (Int(decimals.padding(toLength: 3, withPad: "0", startingAt: 0)) ?? 0)
        return value <= 1000 ? value : nil
    }
}

extension ExplanationAnswer {
    init(_ e: ScoreExplanation) {
        self.init(
            language: e.language.rawValue,
            components: e.components.map {
                Component(component: $0.component, value: $0.value, weight: $0.weight, sentence: $0.sentence)
            },
            best_change: e.bestChange.map {
                Change(change: $0.change, sentence: $0.sentence, score: $0.score, score_gain: $0.scoreGain, points_gain: $0.pointsGain)
            })
    }
}
