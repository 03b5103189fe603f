import CarbonModel
import Dispatch
import Synchronization
import TransparencyLog

/// Builds each consumer's `readings_root` on a serial dispatch queue while the scan
/// and the accounting go on in the caller's thread: writing and hashing a leaf costs
/// about as much as accounting it, so closing a month takes both cores.
///
/// The caller hands over readings in scan order, in chunks; the roots come back from
/// `finish`. Readings of one consumer stay in the order given.
final class LeafHasher: @unchecked Sendable {
    /// One reading's leaf fields as stored (strings by reference to the registry).
    private struct Row {
        var start: Int64
        var durationS: Int64
        var importWh: Int64
        var exportWh: Int64
        var meter: Int32
        var consumer: Int32
        var estimated: Bool
        /// The id's bytes in the chunk's `ids`, or -1 for none.
        var idStart: Int32
        var idCount: Int32
    }

    private struct Chunk {
        var rows: [Row] = []
        var ids: [UInt8] = []
    }

    private let registry: AccountingRegistry
    /// Serial, so each consumer's leaves are hashed in the order given.
    private let queue = DispatchQueue(label: "carbonledger.leaf-hasher")
    private let pending = DispatchGroup()
    /// Chunks handed over and not yet hashed, at most `maxQueued`.
    private let slots = DispatchSemaphore(value: LeafHasher.maxQueued)
    /// Touched only on `queue` (and read after `pending` is waited for).
    private var frontiers: [MerkleFrontier]
    private let cancelled = Atomic<Bool>(false)

    private var filling = Chunk()
    private static let chunkRows = 4_096
    private static let maxQueued = 4

    init(registry: AccountingRegistry) {
        self.registry = registry
        self.frontiers = Array(repeating: MerkleFrontier(), count: registry.consumers.count)
        filling.rows.reserveCapacity(Self.chunkRows)
    }

    /// Queues the leaf of a scanned reading.
    func add(_ scanned: ScannedReading) {
        let r = scanned.reading
        var idStart: Int32 = -1
        var idCount: Int32 = 0
        if let bytes = scanned.idUTF8 {
            idStart = Int32(filling.ids.count)
            idCount = Int32(bytes.count)
            filling.ids.append(contentsOf: bytes)
        } else if let id = r.id {
            idStart = Int32(filling.ids.count)
            idCount = Int32(id.utf8.count)
            filling.ids.append(contentsOf: id.utf8)
        }
        filling.rows.append(Row(
            start: r.start, durationS: r.durationS, importWh: r.importWh, exportWh: r.exportWh, meter: Int32(scanned.meter),
            consumer: Int32(scanned.consumer), estimated: r.quality == .estimated, idStart: idStart, idCount: idCount))
        if filling.rows.count == Self.chunkRows { handOver() }
    }

    /// Waits for every queued leaf; returns the root over each consumer's leaves
    /// (consumers without readings are absent).
    func finish() -> [String: Hash256] {
        handOver()
        pending.wait()
        var roots: [String: Hash256] = [:]
        for (position, frontier) in frontiers.enumerated() where frontier.size > 0 {
            roots[registry.consumers[position].id] = frontier.rootHash()
        }
        return roots
    }

    /// Drops what is queued and waits for the chunk being hashed (the computation failed).
    func cancel() {
        cancelled.store(true, ordering: .relaxed)
        pending.wait()
    }

    /// Queues the chunk being filled, waiting while `maxQueued` chunks are.
    private func handOver() {
        guard !filling.rows.isEmpty else { return }
        let chunk = filling
        filling = Chunk()
        filling.rows.reserveCapacity(Self.chunkRows)
        slots.wait()
        queue.async(group: pending) { [self] in
            defer { slots.signal() }
            guard !cancelled.load(ordering: .relaxed) else { return }
            hash(chunk)
        }
    }

    private func hash(_ chunk: Chunk) {
        var leaf: [UInt8] = []
        leaf.reserveCapacity(512)
        chunk.ids.withUnsafeBytes { ids in
            for row in chunk.rows {
                let meter = registry.meters[Int(row.meter)]
                let reading = Reading(
                    utility: meter.utility, meter: meter.meter, consumer: registry.consumers[Int(row.consumer)].id,
                    start: row.start, durationS: row.durationS, importWh: row.importWh, exportWh: row.exportWh,
                    quality: row.estimated ? .estimated : .actual, id: nil)
                leaf.removeAll(keepingCapacity: true)
                let id = row.idStart < 0 ? nil : UnsafeRawBufferPointer(rebasing: ids[Int(row.idStart)..<Int(row.idStart + row.idCount)])
                reading.writeLeaf(into: &leaf, idUTF8: id)
                frontiers[Int(row.consumer)].appendLeaf(RFC6962.leafHash(leaf))
            }
        }
    }
}
