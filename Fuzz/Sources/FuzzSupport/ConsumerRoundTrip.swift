import CarbonModel

/// Checks a parsed consumers body: its bookkeeping, and that every good consumer written
/// back as a JSON array and as CSV parses to itself.
public func checkConsumers(_ batch: ParsedBatch<Consumer>) {
    checkInvariants(batch)
    guard !batch.records.isEmpty else { return }
    let consumers = batch.records
    let json = Array(("[" + consumers.map(\.json.canonicalString).joined(separator: ",") + "]").utf8)
    let rows = consumers.map { c in csvRow([c.id, c.utility, c.zone, c.consumerClass.rawValue, String(c.normalizer)]) }
    let csv = Array((["consumer,utility,zone,class,normalizer"] + rows).joined(separator: "\n").utf8)
    for (format, body) in [(BodyFormat.json, json), (.csv, csv)] {
        let again = try? ConsumerParser.parse(body, format: format, maxRecords: consumers.count)
        check(again?.records == consumers && again?.isClean == true, "consumers do not survive a \(format) round trip")
        check(
            again?.records.map { $0.json.canonicalBytes() } == consumers.map { $0.json.canonicalBytes() },
            "consumer bytes change in a \(format) round trip")
    }
}
