/// Links each IntervalBlock to its MeterReading by their `self` and `up` hrefs, and
/// the MeterReading to its ReadingType by a `related` one, whatever order the entries
/// came in (see `GreenButtonParser` for the rules).
enum FeedLinker {
    /// The ReadingType of an IntervalBlock's readings, or why there is none.
    enum BlockType {
        case readingType(Int)
        case unknown(field: String, message: String)
    }

    /// The ReadingType of each IntervalBlock (see `GreenButtonParser` for the rules).
    static func link(_ feed: FeedReader, lines: LineIndex) -> [BlockType] {
        let entries = feed.entries
        let meterReadings = entries.indices.filter { entries[$0].resource == .meterReading }
        var typeByKey: [[UInt8]: Int] = [:]
        for entry in entries where entry.resource == .readingType {
            if let href = entry.selfHref, let key = readingTypeKey(href), typeByKey[key] == nil {
                typeByKey[key] = entry.readingType
            }
        }
        let onlyType = feed.readingTypes.count == 1 ? 0 : nil
        let typeCount = feed.readingTypes.count

        func typeOf(meterReading m: Int) -> BlockType {
            let entry = entries[m]
            let link = entry.related.lazy.compactMap(readingTypeKey).first
            if let link, let type = typeByKey[link] { return .readingType(type) }
            if let onlyType { return .readingType(onlyType) }
            let place = "its MeterReading (\(lines.describe(entry.resourceOffset)))"
            if let link {
                return .unknown(
                    field: "MeterReading",
                    message: "\(place) names \(String(decoding: link, as: UTF8.self)), which the feed does not hold")
            }
            return .unknown(
                field: "MeterReading",
                message: "\(place) has no related link to a ReadingType, and the feed holds \(typeCount)")
        }

        guard typeCount > 0 else {
            let none = BlockType.unknown(
                field: "ReadingType",
                message: "the feed holds no ReadingType, so the unit and direction of its values are unknown")
            return feed.blocks.map { _ in none }
        }
        return feed.blocks.map { block in
            let entry = block.entry >= 0 ? entries[block.entry] : nil
            let hrefs = [entry?.selfHref, entry?.upHref].compactMap { $0 }
            // The longest `self` href that is one of the block's or a path prefix of one.
            var best: Int?
            var bestLength = 0
            for m in meterReadings {
                guard let own = entries[m].selfHref, own.count > bestLength else { continue }
                let owns = hrefs.contains {
                    $0 == own || ($0.count > own.count && $0.starts(with: own + [UInt8(ascii: "/")]))
                }
                if owns {
                    best = m
                    bestLength = own.count
                }
            }
            if let best { return typeOf(meterReading: best) }
            if meterReadings.count == 1 { return typeOf(meterReading: meterReadings[0]) }
            if let onlyType { return .readingType(onlyType) }
            let place = "its IntervalBlock (\(lines.describe(block.offset)))"
            return .unknown(
                field: "IntervalBlock",
                message: "\(place) belongs to none of the feed's \(meterReadings.count) MeterReadings "
                    + "(by its self and up links), and the feed holds \(typeCount) ReadingTypes")
        }
    }

    /// The last `ReadingType/<id>` of an href, the part a MeterReading's link and a
    /// ReadingType's own link are matched by (one may be absolute, the other relative).
    static func readingTypeKey(_ href: [UInt8]) -> [UInt8]? {
        let marker = Array("ReadingType/".utf8)
        var end = href.count
        while end > 0 && href[end - 1] == UInt8(ascii: "/") { end -= 1 }
        var i = end - marker.count - 1
        while i >= 0 {
            if (i == 0 || href[i - 1] == UInt8(ascii: "/")) && href[i..<i + marker.count].elementsEqual(marker) {
                return Array(href[i..<end])
            }
            i -= 1
        }
        return nil
    }
}
