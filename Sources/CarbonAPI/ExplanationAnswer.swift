/// The `explanation` of a score answer: the score in words, in the language the
/// request asked for (`Accept-Language`).
public struct ExplanationAnswer: Codable, Sendable, Equatable {
    /// One part of the score.
    public struct Component: Codable, Sendable, Equatable {
        /// `peer`, `reduction`, `timing` or `green`.
        public var component: String
        /// P, R, T or G, 0...1000.
        public var value: Int64
        public var weight: Int64
        /// What drove it, in the consumer's own figures.
        public var sentence: String

        public init(component: String, value: Int64, weight: Int64, sentence: String) {
            self.component = component
            self.value = value
            self.weight = weight
            self.sentence = sentence
        }
    }

    /// The change that would have raised the score most.
    public struct Change: Codable, Sendable, Equatable {
        /// `use_less`, `cleaner_hours` or `more_certificates`.
        public var change: String
        public var sentence: String
        /// The score and points the change would have given.
        public var score: Int64
        public var points: Int64
        public var score_gain: Int64
        public var points_gain: Int64

        public init(change: String, sentence: String, score: Int64, points: Int64, score_gain: Int64, points_gain: Int64) {
            self.change = change
            self.sentence = sentence
            self.score = score
            self.points = points
            self.score_gain = score_gain
            self.points_gain = points_gain
        }
    }

    /// A flag explained.
    public struct Note: Codable, Sendable, Equatable {
        public var flag: String
        public var sentence: String

        public init(flag: String, sentence: String) {
            self.flag = flag
            self.sentence = sentence
        }
    }

    /// `en` or `zh-CN`.
    public var language: String
    public var summary: String
    /// Peer, reduction, timing, green, in that order.
    public var components: [Component]
    /// Null when no change considered raises the score (the summary says so).
    public var best_change: Change?
    public var notes: [Note]

    public init(language: String, summary: String, components: [Component], best_change: Change?, notes: [Note]) {
        self.language = language
        self.summary = summary
        self.components = components
        self.best_change = best_change
        self.notes = notes
    }

    private enum Key: String, CodingKey { case language, summary, components, best_change, notes }

    /// `best_change` is written as `null` when there is none.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: Key.self)
        try c.encode(language, forKey: .language)
        try c.encode(summary, forKey: .summary)
        try c.encode(components, forKey: .components)
        try c.encode(best_change, forKey: .best_change)
        try c.encode(notes, forKey: .notes)
    }
}
