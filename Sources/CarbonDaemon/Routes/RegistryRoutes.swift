import CarbonAPI
import CarbonConfig
import CarbonModel
import CarbonStore
import Foundation
import Hummingbird

/// Who am I, is the daemon alive, what is registered, and reading proofs.
struct RegistryRoutes {
    let store: CarbonStore
    let version: String
    let health: DaemonHealth
    let costly: CostlyWork

    func register(on router: Router<DaemonContext>) {
        router.get("/v1/health") { _, context in
            try context.require(.utility, .consumer, .reader, .auditor, .planner, .metrics, .admin)
            let checkpoint = try await store.durableCheckpoint()
            let problems = health.problems(of: store)
            return try JSONResponse.encode(HealthAnswer(
                status: problems.isEmpty ? "ok" : "degraded", version: version, size: checkpoint?.size ?? 0,
                last_checkpoint: checkpoint.map { Timestamp.format($0.time) }, problems: problems.isEmpty ? nil : problems))
        }
        router.get("/v1/whoami") { _, context in
            let authorization = try context.requireGranted()
            return try JSONResponse.encode(WhoamiAnswer(
                uid: context.peer?.uid, gid: context.peer?.gid, pid: context.peer?.pid,
                role: authorization.role.rawValue, utility: authorization.utility,
                consumers: authorization.role == .consumer ? authorization.consumers.sorted() : nil,
                grant: authorization.grantIndex))
        }
        router.get("/v1/consumers/{id}") { _, context in
            let found = try await readableConsumer(context, store: store)
            let record = found.consumer
            return try JSONResponse.encode(ConsumerAnswer(
                consumer: record.id, utility: record.utility, zone: record.zone, class: record.consumerClass.rawValue,
                normalizer: record.normalizer, entry: found.entry))
        }
        router.get("/v1/readings/{utility}/{meter}/{start}/proof") { _, context in
            try context.require(.utility, .consumer, .reader, .auditor, .admin)
            let utility = try context.pathParameter("utility")
            let meter = try context.pathParameter("meter")
            let startText = try context.pathParameter("start")
            guard let start = Timestamp.parse(startText) else {
                throw Problem.badParameter("start", "must be Unix seconds or RFC 3339 with an offset, got \"\(startText)\"")
            }
            // Who owns the reading decides first: building the proof reads its whole batch.
            let what = "reading of meter \"\(meter)\" of utility \"\(utility)\" starting at \(Timestamp.format(start))"
            let owner = try await store.reader.readingOwner(utility: utility, meter: meter, start: start)
            guard let owner, context.mayRead(consumer: owner, ofUtility: utility) else {
                throw context.unreadable(what, ofUtility: utility, missing: owner == nil)
            }
            let found = try await costly.run(context) {
                try await store.reader.readingProof(utility: utility, meter: meter, start: start)
            }
            guard let proof = found else { throw Problem.notFound("no \(what)") }
            return try JSONResponse.encode(ReadingProofAnswer(
                reading: proof.reading, replaces: proof.replaces.map { VersionAnswer(entry: $0.entry, position: $0.position) },
                reason: proof.reason, position: proof.position, batch_size: proof.batchSize,
                batch_path: proof.batchPath.map(\.base64), entry_index: proof.entryIndex, entry: proof.entry,
                entry_path: proof.entryPath.map(\.base64), checkpoint: proof.checkpoint))
        }
    }
}

/// The consumer of the path, if this peer may read it; a peer that may not read every
/// consumer gets the same 403 whether the id exists or not.
func readableConsumer(_ context: DaemonContext, store: CarbonStore) async throws -> (consumer: Consumer, entry: UInt64) {
    try context.require(.utility, .consumer, .reader, .auditor, .admin)
    let id = try context.pathParameter("id")
    if context.authorization?.role == .consumer, context.authorization?.consumers.contains(id) != true {
        throw context.unreadable("consumer \"\(id)\"", ofUtility: nil, missing: false)
    }
    let found = try await store.reader.consumer(id)
    guard let found, context.mayRead(consumer: id, ofUtility: found.consumer.utility) else {
        throw context.unreadable("consumer \"\(id)\"", ofUtility: found?.consumer.utility, missing: found == nil)
    }
    return found
}
