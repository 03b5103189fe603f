/// What `FeedReader` keeps of a feed for `FeedLinker` and `FeedRecords`: each entry
/// with its links, each ReadingType's fields, each IntervalBlock, and each
/// IntervalReading's numbers and problems, in feed order.
extension FeedReader {
    /// An Atom entry: its links and the resource its content holds.
    struct Entry {
        enum Resource { case none, usagePoint, meterReading, readingType, intervalBlocks }
        var offset: Int
        var resource = Resource.none
        /// The element of a MeterReading or ReadingType (for messages).
        var resourceOffset = 0
        /// `readingTypes` index of a ReadingType entry.
        var readingType = -1
        var selfHref: [UInt8]?
        var upHref: [UInt8]?
        var related: [[UInt8]] = []
    }

    /// One integer field of a ReadingType, as found.
    struct TypeField {
        var value: Int64?
        var offset = 0
        var problem: String?
        var seen = false
    }

    /// A ReadingType's fields, checked by `ReadingTypeRule`.
    struct ReadingTypeFields {
        var offset: Int
        var uom = TypeField()
        var powerOfTenMultiplier = TypeField()
        var flowDirection = TypeField()
        var accumulationBehaviour = TypeField()
    }

    struct Block {
        var offset: Int
        /// The entry holding it.
        var entry: Int
        var readings: Int32 = 0
    }

    /// One IntervalReading: its numbers and where it is. Problems found while reading
    /// it are in `problems` from `firstProblem` on.
    struct Interval {
        var start: Int64 = 0
        var durationS: Int64 = 0
        var value: Int64 = 0
        var offset = 0
        var block: Int32 = 0
        /// 1-based within its block.
        var ordinal: Int32 = 0
        var firstProblem: Int32 = -1
        var hasStart = false
        var hasDuration = false
        var hasValue = false
        /// Whether `durationS` is in `ReadingParser.durationRange` (so it can be compared).
        var durationIsValid = false
        var estimated = false
    }

    /// Something wrong with one IntervalReading that no link can change.
    struct Problem {
        var interval: Int32
        var field: String
        var message: String
        var offset: Int
    }
}
