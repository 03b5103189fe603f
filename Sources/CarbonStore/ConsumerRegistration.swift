import CarbonLedger
import CarbonModel

/// Deciding and storing one batch of consumer registrations inside the writer's
/// transaction. Each new or changed consumer is one `consumer` entry.
struct ConsumerRegistration<Tables: RegistryTables> {
    let batch: ConsumerBatch
    let tables: Tables

    func run(cache: inout RegistryCache, appender: inout LedgerAppender, time: Int64) throws -> (BatchResult?, [Rejection]) {
        var rejections = batch.parseErrors.map { Rejection(.invalid, index: $0.index, field: $0.field, $0.message) }
        var changes: [Consumer] = []
        var seenInBatch: [String: (record: Consumer, index: Int)] = [:]
        var duplicates = 0

        for (k, consumer) in batch.consumers.enumerated() {
            let index = batch.recordIndex[k]
            if let allowed = batch.submitter.utility, consumer.utility != allowed {
                rejections.append(Rejection(.forbidden, index: index, field: "utility",
                                            "this peer may only register consumers of utility \"\(allowed)\""))
                continue
            }
            if let owner = cache.consumers[consumer.id]?.record.utility, owner != consumer.utility {
                rejections.append(Rejection(.forbidden, index: index, field: "consumer",
                                            "consumer \"\(consumer.id)\" is registered to another utility"))
                continue
            }
            guard cache.zones.contains(consumer.zone) else {
                rejections.append(Rejection(.invalid, index: index, field: "zone",
                                            "unknown zone \"\(consumer.zone)\" (not in the zone tree)"))
                continue
            }
            if let earlier = seenInBatch[consumer.id] {
                if earlier.record == consumer {
                    duplicates += 1
                } else {
                    rejections.append(Rejection(.conflict, index: index, field: "consumer",
                                                "consumer \"\(consumer.id)\" appears again with other content (record \(earlier.index))"))
                }
                continue
            }
            seenInBatch[consumer.id] = (consumer, index)
            if cache.consumers[consumer.id]?.record == consumer {
                duplicates += 1
            } else {
                changes.append(consumer)
            }
        }
        guard rejections.isEmpty || batch.partial else { return (nil, rejections) }

        var entries: [UInt64] = []
        for consumer in changes {
            let index = try StoreError.mapping { try appender.append(.consumer(consumer), time: time, to: tables) }
            let rowID = try tables.upsertConsumer(consumer, entry: index)
            cache.consumers[consumer.id] = ConsumerState(rowID: rowID, record: consumer)
            entries.append(index)
        }
        let result = BatchResult(
            accepted: changes.count, duplicates: duplicates, entry: entries.first, entries: entries,
            errors: rejections.summarized()?.errors ?? [])
        return (result, rejections)
    }
}
