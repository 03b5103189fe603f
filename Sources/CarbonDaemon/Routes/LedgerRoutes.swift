import CarbonAPI
import CarbonLedger
import CarbonModel
import CarbonStore
import Foundation
import Hummingbird
import TransparencyLog

/// The ledger itself: checkpoint, key, entries and proofs.
struct LedgerRoutes {
    let store: CarbonStore
    let origin: String
    /// How long a replaced key co-signs checkpoints (`ledger.key_overlap`).
    let keyOverlap: Int64
    let limits: LimitsInForce
    let costly: CostlyWork
    /// The witnesses' cosignatures, nil when no witness policy is set.
    let witnessing: Witnessing?

    func register(on router: Router<DaemonContext>) {
        let ledger = router.group("/v1/ledger")
        ledger.get("checkpoint/cosigned") { _, context in
            try context.requireGranted()
            guard let witnessing else { throw Problem.notFound("no witness policy is set (ledger.witness_policy)") }
            guard let note = witnessing.cosignedNote else {
                throw Problem.notFound(
                    "no checkpoint has met the witness policy (\(witnessing.policy.quorumDescription)) yet"
                        + (witnessing.problem.map { ": \($0)" } ?? ""))
            }
            return Response(
                status: .ok, headers: [.contentType: "text/plain; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(string: note)))
        }
        ledger.get("checkpoint") { _, context in
            try context.requireGranted()
            guard let checkpoint = try await store.reader.latestCheckpoint() else {
                throw Problem.notFound("no checkpoint has been signed yet")
            }
            return Response(
                status: .ok, headers: [.contentType: "text/plain; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(string: checkpoint.note)))
        }
        ledger.get("key") { _, context in
            try context.requireGranted()
            return try JSONResponse.encode(KeyAnswer(origin: origin, keys: try await store.reader.keys().map(\.vkey)))
        }
        ledger.post("key/rotate") { request, context in
            try context.require(.admin)
            let body = try await BodyReader.collect(request, limits: limits.current)
            guard let asked = try? JSONDecoder().decode(KeyRotationRequest.self, from: Data(buffer: body)) else {
                throw Problem(.badRequest, "bad-body", "the body must be {\"key\": \"<path of the new private key file>\"}")
            }
            return try await rotate(to: asked.key)
        }
        ledger.get("tile/**") { _, context in
            try context.require(.auditor, .admin)
            let tile = try Self.tile(context)
            guard let bytes = try await store.reader.tile(tile) else {
                throw Problem.notFound("the latest checkpoint's tree has no tile \(tile.path)")
            }
            return Self.octets(bytes)
        }
        ledger.get("signatures/**") { _, context in
            try context.require(.auditor, .admin)
            let tile = try Self.tile(context, under: "entries")
            guard let bytes = try await store.reader.signatures(tile) else {
                throw Problem.notFound("the latest checkpoint's tree has no entries \(tile.path)")
            }
            return Self.octets(bytes)
        }
        ledger.get("data/**") { _, context in
            try context.require(.auditor, .admin)
            let tile = try Self.tile(context, under: "entries")
            guard let entries = try await store.reader.dataEntries(tile) else {
                throw Problem.notFound("the latest checkpoint's tree has no entries \(tile.path)")
            }
            // Up to 256 entries of up to a batch of leaves each: written one entry at a time,
            // in a costly-work slot held until the body is written (or abandoned).
            let admission = try await costly.admit(context)
            let reader = store.reader
            return Response(
                status: .ok, headers: [.contentType: "application/x-ndjson"],
                body: ResponseBody { writer in
                    defer { admission.done() }
                    for entry in entries {
                        try await writer.write(ByteBuffer(bytes: try await reader.dataLines(ofEntry: entry.index, kind: entry.kind)))
                    }
                    try await writer.finish(nil)
                })
        }
        ledger.get("entries") { request, context in
            try context.require(.auditor, .admin)
            let start = try Query.uint(request, "start") ?? 0
            let limit = try Query.limit(request)
            let last = start.addingReportingOverflow(UInt64(limit))
            let pageEnd = last.overflow ? UInt64.max : last.partialValue
            let end = min(try Query.uint(request, "end") ?? pageEnd, pageEnd)
            let (entries, size) = try await store.reader.entries(start: start, end: end)
            return try JSONResponse.encode(EntriesAnswer(
                entries: entries.map {
                    EntryAnswer(
                        index: $0.index, entry: String(decoding: $0.body, as: UTF8.self),
                        signature: Base64.encode($0.signature), leaf_hash: $0.leafHash.base64)
                },
                size: size))
        }
        ledger.get("proof/inclusion") { request, context in
            try context.requireGranted()
            guard let index = try Query.uint(request, "index") else { throw Problem.badParameter("index", "is required") }
            let proof = try await queried { try await store.reader.inclusionProof(index: index, size: Query.uint(request, "size")) }
            return try JSONResponse.encode(
                InclusionAnswer(index: proof.index, size: proof.size, root: proof.root.base64, hashes: proof.hashes.map(\.base64)))
        }
        ledger.get("proof/consistency") { request, context in
            try context.requireGranted()
            guard let from = try Query.uint(request, "from") else { throw Problem.badParameter("from", "is required") }
            let proof = try await queried { try await store.reader.consistencyProof(from: from, to: Query.uint(request, "to")) }
            return try JSONResponse.encode(ConsistencyAnswer(from: proof.from, to: proof.to, hashes: proof.hashes.map(\.base64)))
        }
    }
}

extension LedgerRoutes {
    /// Loads the new key (same origin), has the writer append the `key` entry signed
    /// by the key in force, and answers with the new key and the checkpoint covering it.
    func rotate(to path: String) async throws -> Response {
        let signer: NoteSigner
        do {
            signer = try KeyFile.load(path: path)
        } catch {
            throw Problem(.unprocessableContent, "unusable-key", "\(error)")
        }
        guard signer.name == origin else {
            throw Problem(
                .unprocessableContent, "unusable-key",
                "the key in \(path) is for \"\(signer.name)\", not this ledger's origin \"\(origin)\" "
                    + "(make one with: carbonctl keygen --origin \(origin) --out FILE)")
        }
        let previous = try await store.reader.keys().first?.vkey ?? ""
        let outcome = try await store.writer.submit(
            .rotateKey(KeyRotation(signer: signer, path: path, overlapSeconds: keyOverlap)))
        switch outcome {
        case .committed(let answer):
            return try JSONResponse.encode(KeyRotationAnswer(
                entry: answer.entry ?? 0, vkey: signer.verifier.vkey, previous: previous,
                overlap_s: keyOverlap, checkpoint: answer.checkpoint))
        case .rejected(_, let errors):
            throw Problem(.unprocessableContent, "unusable-key", errors.first?.message ?? "the key was refused", errors: errors)
        }
    }

    /// The tile named by the path after `tile/` (or, with `under`, after `signatures/`).
    static func tile(_ context: DaemonContext, under prefix: Substring? = nil) throws -> Tile {
        let elements = context.parameters.getCatchAll()
        guard let tile = Tile(elements: prefix.map { [$0] + elements } ?? elements) else {
            throw Problem.badParameter("path", "not a tlog-tiles path: \(elements.joined(separator: "/"))")
        }
        return tile
    }

    static func octets(_ bytes: [UInt8]) -> Response {
        Response(
            status: .ok, headers: [.contentType: "application/octet-stream"],
            body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }
}

/// Runs a store query, turning its range errors into 400 problems.
func queried<T>(_ body: () async throws -> T) async throws -> T {
    do {
        return try await body()
    } catch let error as QueryError {
        switch error {
        case .outOfRange(let parameter, let message): throw Problem.badParameter(parameter, message)
        }
    }
}

/// Query-string parameters.
enum Query {
    static func uint(_ request: Request, _ name: String) throws -> UInt64? {
        guard let text = request.uri.queryParameters[Substring(name)] else { return nil }
        guard let value = UInt64(text) else { throw Problem.badParameter(name, "must be a non-negative integer, got \"\(text)\"") }
        return value
    }

    /// `limit`: default 100, at most 10,000 (interface.md section 2).
    static func limit(_ request: Request) throws -> Int {
        guard let value = try uint(request, "limit") else { return 100 }
        guard (1...10_000).contains(value) else { throw Problem.badParameter("limit", "must be between 1 and 10000") }
        return Int(value)
    }
}
