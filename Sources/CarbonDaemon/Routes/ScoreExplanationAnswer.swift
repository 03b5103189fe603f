import CarbonAPI
import CarbonAccounting

extension ExplanationAnswer {
    /// An explanation as the score answer carries it.
    init(_ e: ScoreExplanation) {
        self.init(
            language: e.language.rawValue, summary: e.summary,
            components: e.components.map {
                Component(component: $0.part.rawValue, value: $0.value, weight: $0.weight, sentence: $0.sentence)
            },
            best_change: e.bestChange.map {
                Change(
                    change: $0.change.rawValue, sentence: $0.sentence, score: $0.score, points: $0.points,
                    score_gain: $0.scoreGain, points_gain: $0.pointsGain)
            },
            notes: e.notes.map { Note(flag: $0.flag.rawValue, sentence: $0.sentence) })
    }
}
