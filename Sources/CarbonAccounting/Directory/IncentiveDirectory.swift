import CarbonModel

/// One line of the incentive directory (methodology section 7).
public struct DirectoryEntry: Sendable, Hashable {
    /// The consumer's id.
    public var consumer: String
    /// Its zone.
    public var zone: String
    /// Its class.
    public var consumerClass: ConsumerClass
    /// Its score.
    public var score: Int64
    /// Its grade; nil without a benchmark.
    public var grade: PeerGrade?
    /// Its incentive points.
    public var points: Int64
    /// `grade <= eligible_max_grade` or `points > 0`.
    public var eligible: Bool
}

/// The incentive directory of a period (methodology section 7).
public enum IncentiveDirectory {
    /// Every scored consumer, optionally only those of `zone` (its sub-zones included)
    /// and of `consumerClass`, ordered by score descending, then consumer id ascending
    /// (by UTF-8 bytes).
    public static func entries(
        _ scores: [ConsumerScore], zone: String? = nil, consumerClass: ConsumerClass? = nil, zoneTree: ZoneTree,
        eligibleMaxGrade: Int
    ) -> [DirectoryEntry] {
        var entries: [DirectoryEntry] = []
        var within: [String: Bool] = [:]
        for s in scores {
            if let consumerClass, s.consumer.consumerClass != consumerClass { continue }
            if let zone {
                let inside = within[s.consumer.zone] ?? zoneTree.chain(from: s.consumer.zone).contains(zone)
                within[s.consumer.zone] = inside
                if !inside { continue }
            }
            let f = s.figures
            entries.append(
                DirectoryEntry(
                    consumer: s.consumer.id, zone: s.consumer.zone, consumerClass: s.consumer.consumerClass,
                    score: f.score, grade: f.grade, points: f.points,
                    eligible: (f.grade.map { $0.rawValue <= eligibleMaxGrade } ?? false) || f.points > 0))
        }
        entries.sort { a, b in
            a.score != b.score ? a.score > b.score : a.consumer.utf8.lexicographicallyPrecedes(b.consumer.utf8)
        }
        return entries
    }
}
