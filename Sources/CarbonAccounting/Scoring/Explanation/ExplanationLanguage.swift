import CarbonModel

/// A language explanations are written in.
public enum ExplanationLanguage: String, Sendable, Hashable, CaseIterable {
    /// English (`en`), the default.
    case english = "en"
    /// Simplified Chinese (`zh-CN`).
    case simplifiedChinese = "zh-CN"

    /// The language's sentences.
    var wording: any ExplanationWording {
        switch self {
        case .english: EnglishWording()
        case .simplifiedChinese: ChineseWording()
        }
    }
}

/// Every sentence of an explanation in one language: one conforming type per
/// language holds all of its text.
protocol ExplanationWording: Sendable {
    func peer(_ fact: PeerFact) -> String
    func reduction(_ fact: ReductionFact) -> String
    func timing(_ fact: TimingFact) -> String
    func green(_ fact: GreenFact) -> String
    func summary(_ fact: SummaryFact) -> String
    func points(_ fact: PointsFact) -> String
    func change(_ fact: ChangeFact) -> String
    /// No change considered raises the score; `atMaximum`: it is 1000 already.
    func noChange(atMaximum: Bool) -> String
    func note(_ fact: NoteFact) -> String
}
