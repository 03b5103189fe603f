/// A consumer as its utility registers it: where it is, what kind it is, and the size
/// by which its emissions are compared with its peers'.
public struct Consumer: Sendable, Equatable, Hashable {
    /// The consumer's id (JSON field `consumer`).
    public var id: String
    /// The utility that registered it.
    public var utility: String
    /// Its zone in the zone tree (e.g. `CN-ZJ`).
    public var zone: String
    /// Its peer class (JSON field `class`).
    public var consumerClass: ConsumerClass
    /// Persons, floor area in m2 or value added in 10k CNY: whatever makes peers of
    /// its class comparable; emissions are compared per normalizer unit.
    public var normalizer: Int64

    /// A consumer with the given fields.
    public init(id: String, utility: String, zone: String, consumerClass: ConsumerClass, normalizer: Int64 = 1) {
        self.id = id
        self.utility = utility
        self.zone = zone
        self.consumerClass = consumerClass
        self.normalizer = normalizer
    }

    /// The consumer as a JSON object with the interface's field names
    /// (`consumer`, `utility`, `zone`, `class`, `normalizer`).
    public var json: JSONValue {
        .object([
            "class": .string(consumerClass.rawValue), "consumer": .string(id), "normalizer": .int(normalizer),
            "utility": .string(utility), "zone": .string(zone),
        ])
    }
}

/// A consumer's peer class: consumers are compared within zone and class.
public enum ConsumerClass: String, Sendable, CaseIterable, Hashable {
    /// Households.
    case residential
    /// Shops, offices and other businesses.
    case commercial
    /// Factories and other industry.
    case industrial
    /// Public institutions and facilities.
    case `public`
}
