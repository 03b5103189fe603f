import CarbonAPI
import CarbonStore

/// The writer's results as the API answers them (interface.md): the store keeps its
/// own types, and this is the one place they meet the wire.
extension IngestAnswer {
    init(_ result: BatchResult) {
        self.init(
            accepted: result.accepted, duplicates: result.duplicates, entry: result.entry, entries: result.entries,
            checkpoint: result.checkpoint, errors: result.errors, replayed: result.replayed)
    }
}

extension CloseAnswer {
    init(_ result: PeriodCloseResult) {
        self.init(
            period: result.period.description, entry: result.entry, consumers: result.consumers,
            already_closed: result.alreadyClosed, checkpoint: result.checkpoint, restates: result.restates)
    }
}
