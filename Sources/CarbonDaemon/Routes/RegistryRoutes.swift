import CarbonConfig
import CarbonModel
import CarbonStore
import Foundation
import Hummingbird

/// Who am I, is the daemon alive, what is registered, and reading proofs.
struct RegistryRoutes {
    let store: CarbonStore
    let version: String

    func register(on router: Router<DaemonContext>) {
        router.get("/v1/health") { _, context in
            try context.require(.utility, .consumer, .reader, .auditor, .planner, .metrics, .admin)
            let checkpoint = try await store.reader.latestCheckpoint()
            return try JSONResponse.encode(HealthAnswer(
                status: "ok", version: version, size: checkpoint?.size ?? 0,
                last_checkpoint: checkpoint.map { Timestamp.format($0.time) }))
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
            try context.require(.utility, .consumer, .reader, .auditor, .admin)
            let id = try pathParameter(context, "id")
            guard let found = try await store.reader.consumer(id) else { throw Problem.notFound("no consumer \"\(id)\"") }
            guard context.mayRead(consumer: id, ofUtility: found.consumer.utility) else {
                throw Problem(.forbidden, "forbidden", "this peer may not read consumer \"\(id)\"")
            }
            return try JSONResponse.encode(ConsumerAnswer(found.consumer, entry: found.entry))
        }
        router.get("/v1/readings/{utility}/{meter}/{start}/proof") { _, context in
            try context.require(.utility, .consumer, .reader, .auditor, .admin)
            let utility = try pathParameter(context, "utility")
            let meter = try pathParameter(context, "meter")
            let startText = try pathParameter(context, "start")
            guard let start = Timestamp.parse(startText) else {
                throw Problem.badParameter("start", "must be Unix seconds or RFC 3339 with an offset, got \"\(startText)\"")
            }
            guard let proof = try await store.reader.readingProof(utility: utility, meter: meter, start: start) else {
                throw Problem.notFound("no reading of meter \"\(meter)\" of utility \"\(utility)\" starts at \(start)")
            }
            guard context.mayRead(consumer: proof.consumer, ofUtility: utility) else {
                throw Problem(.forbidden, "forbidden", "this peer may not read consumer \"\(proof.consumer)\"")
            }
            return try JSONResponse.encode(ReadingProofAnswer(proof))
        }
    }

    /// A path segment, percent-decoded (ids and RFC 3339 times may be escaped).
    private func pathParameter(_ context: DaemonContext, _ name: String) throws -> String {
        let raw = try context.parameters.require(name)
        guard let decoded = raw.removingPercentEncoding else { throw Problem.badParameter(name, "malformed percent-encoding") }
        return decoded
    }

    private struct HealthAnswer: Encodable {
        var status: String
        var version: String
        var size: UInt64
        var last_checkpoint: String?
    }

    private struct WhoamiAnswer: Encodable {
        var uid: UInt32?
        var gid: UInt32?
        var pid: Int32?
        var role: String
        var utility: String?
        var consumers: [String]?
        var grant: Int
    }

    private struct ConsumerAnswer: Encodable {
        var consumer: String
        var utility: String
        var zone: String
        var `class`: String
        var normalizer: Int64
        var entry: UInt64

        init(_ record: Consumer, entry: UInt64) {
            consumer = record.id
            utility = record.utility
            zone = record.zone
            `class` = record.consumerClass.rawValue
            normalizer = record.normalizer
            self.entry = entry
        }
    }

    private struct ReadingProofAnswer: Encodable {
        var reading: String
        var position: Int
        var batch_size: Int
        var batch_path: [String]
        var entry_index: UInt64
        var entry: String
        var entry_path: [String]
        var checkpoint: String

        init(_ proof: ReadingProof) {
            reading = proof.reading
            position = proof.position
            batch_size = proof.batchSize
            batch_path = proof.batchPath.map(\.base64)
            entry_index = proof.entryIndex
            entry = proof.entry
            entry_path = proof.entryPath.map(\.base64)
            checkpoint = proof.checkpoint
        }
    }
}
