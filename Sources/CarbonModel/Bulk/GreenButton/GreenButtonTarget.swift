/// Whose readings a Green Button feed holds: ESPI carries no utility, consumer or meter
/// ids, so the request names them.
public struct GreenButtonTarget: Sendable, Equatable {
    /// The utility sending the feed.
    public var utility: String
    /// The consumer the meter belongs to.
    public var consumer: String
    /// The meter whose intervals the feed holds.
    public var meter: String

    /// The target with the given names; `problems` says whether they can be used.
    public init(utility: String, consumer: String, meter: String) {
        self.utility = utility
        self.consumer = consumer
        self.meter = meter
    }

    /// What is wrong with the names, one message each, under the rules of the
    /// `utility`, `meter` and `consumer` fields of the other formats; empty when all
    /// can be used. The parser refuses every reading of a target with problems.
    public var problems: [String] { fieldProblems.map(\.message) }

    var fieldProblems: [(field: String, message: String)] {
        [("utility", utility), ("meter", meter), ("consumer", consumer)].compactMap { field, name in
            Identifier.nameProblem(name).map {
                (field, "\(field) \($0), got \(MessageText.quoted(name)) (named by the request)")
            }
        }
    }
}
