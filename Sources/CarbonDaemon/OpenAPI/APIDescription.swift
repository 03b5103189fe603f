import CarbonConfig
import CarbonModel
import Hummingbird

/// The socket API as an OpenAPI 3.1 document, served at `GET /v1/openapi.json`.
///
/// Each operation names the roles that may call it (`x-roles`) and every problem it
/// may answer; the daemon refuses to start when these operations are not exactly the
/// routes its router has, so the document cannot drift from the daemon.
enum APIDescription {
    /// One operation: a method on a path.
    struct Operation {
        var method: String
        /// The OpenAPI path (`{name}` for a path parameter; `{path}` for a tile path).
        var path: String
        var roles: [Role]
        var summary: String
        var parameters: [Parameter] = []
        /// Media types the body may have (empty: no body).
        var bodyTypes: [String] = []
        /// The schema of a JSON body (others are free-form).
        var bodySchema: JSONValue? = nil
        /// Media type and schema of the 200 answer.
        var answer: (type: String, schema: JSONValue)
        /// Problem statuses besides those every operation may answer.
        var problems: [Int] = []
    }

    /// A query or path parameter.
    struct Parameter {
        var name: String
        var location = "query"
        var required = false
        var schema: JSONValue
        var description: String
    }

    /// Problems any operation may answer: no grant or wrong role (403), too many
    /// connections or costly requests (503).
    static let everyProblem = [403, 503]

    static var roles: [Role] { Role.allCases }
    static var granted: [Role] { Role.allCases.filter { $0 != .metrics } }
    static let readsConsumers: [Role] = [.utility, .consumer, .reader, .auditor, .admin]

    static let operations: [Operation] = [
        Operation(
            method: "get", path: "/v1/health", roles: roles, summary: "Liveness, ledger size, and what is wrong if anything",
            answer: json(object(
                ["status": enumeration(["ok", "degraded"]), "version": string, "size": unsigned,
                 "last_checkpoint": nullable(string), "problems": array(string)],
                required: ["status", "version", "size"]))),
        Operation(
            method: "get", path: "/v1/whoami", roles: granted, summary: "The peer's credentials and the grant it matched",
            answer: json(object(
                ["uid": unsigned, "gid": unsigned, "pid": integer, "role": string, "utility": string,
                 "consumers": array(string), "grant": integer],
                required: ["role", "grant"]))),
        Operation(
            method: "get", path: "/v1/openapi.json", roles: granted, summary: "This document",
            answer: json(object([:], required: ["openapi", "paths"]))),
        Operation(
            method: "post", path: "/v1/consumers", roles: [.utility, .admin], summary: "Register consumers",
            bodyTypes: bulkTypes, answer: json(ref("IngestAnswer")), problems: writeProblems),
        Operation(
            method: "get", path: "/v1/consumers/{id}", roles: readsConsumers, summary: "A consumer's record",
            parameters: [pathParameter("id", "the consumer id")],
            answer: json(object(
                ["consumer": string, "utility": string, "zone": string, "class": string, "normalizer": integer,
                 "entry": unsigned],
                required: ["consumer", "utility", "zone", "class", "normalizer", "entry"])),
            problems: [400, 404]),
        Operation(
            method: "post", path: "/v1/readings", roles: [.utility, .admin], summary: "Push interval readings",
            parameters: [
                Parameter(name: "batch", schema: string, description: "a batch id (or the Batch-Id header)"),
                Parameter(
                    name: "correct", schema: boolean,
                    description: "true: each record (with a `reason`) replaces the stored reading of its meter and start"),
                Parameter(name: "partial", schema: boolean, description: "true: store the good records, list the bad"),
                Parameter(name: "consumer", schema: string, description: "a Green Button feed's consumer"),
                Parameter(name: "meter", schema: string, description: "a Green Button feed's meter"),
                Parameter(name: "utility", schema: string, description: "a Green Button feed's utility (administrators)"),
                Parameter(name: "reason", schema: string, description: "why a Green Button feed's readings are corrected"),
            ],
            bodyTypes: bulkTypes + ["application/atom+xml"], answer: json(ref("IngestAnswer")), problems: writeProblems),
        Operation(
            method: "get", path: "/v1/readings/{utility}/{meter}/{start}/proof", roles: readsConsumers,
            summary: "The two-level proof of one reading",
            parameters: [
                pathParameter("utility", "the utility"), pathParameter("meter", "the meter"),
                pathParameter("start", "the reading's start: Unix seconds or RFC 3339 with an offset"),
            ],
            answer: json(object(
                ["reading": string, "replaces": nullable(object(["entry": unsigned, "position": integer])),
                 "reason": nullable(string), "position": integer, "batch_size": integer, "batch_path": array(string),
                 "entry_index": unsigned, "entry": string, "entry_path": array(string), "checkpoint": string],
                required: ["reading", "position", "batch_size", "batch_path", "entry_index", "entry", "entry_path",
                           "checkpoint"])),
            problems: [400, 404]),
        Operation(
            method: "post", path: "/v1/certificates", roles: [.utility, .admin], summary: "Register certificates",
            bodyTypes: ["application/json", "application/x-ndjson"], answer: json(ref("IngestAnswer")),
            problems: writeProblems),
        Operation(
            method: "get", path: "/v1/factors", roles: granted, summary: "The emission factor that applies, and why",
            parameters: [
                Parameter(name: "zone", required: true, schema: string, description: "a zone of the tree"),
                Parameter(name: "at", required: true, schema: string, description: "Unix seconds or RFC 3339"),
                Parameter(name: "kind", schema: enumeration(["average", "residual"]), description: "default average"),
            ],
            answer: json(object([:], required: ["zone", "at", "kind", "mg_per_kwh", "dataset", "row", "path"])),
            problems: [400, 404]),
        Operation(
            method: "post", path: "/v1/factors", roles: [.admin], summary: "Load a factor dataset",
            parameters: [
                Parameter(name: "dataset", required: true, schema: string, description: "the dataset's name"),
                Parameter(name: "zone", schema: string, description: "the zone of an Electricity Maps file"),
            ],
            bodyTypes: ["text/csv", "application/x-ndjson"], answer: json(ref("IngestAnswer")),
            problems: writeProblems),
        Operation(
            method: "get", path: "/v1/consumers/{id}/score", roles: readsConsumers, summary: "A consumer's score",
            parameters: [
                pathParameter("id", "the consumer id"), periodParameter("period", required: true),
                Parameter(
                    name: "Accept-Language", location: "header", schema: string,
                    description: "the explanation's language: zh-CN, zh-Hans or zh for Simplified Chinese, else English"),
            ],
            answer: json(object(
                [
                    "consumer": string, "period": string, "method": string, "provisional": boolean,
                    "benchmark_as_of": string, "benchmark_size": unsigned, "explanation": explanation,
                    "restatement": object(["entry": unsigned, "reason": string], required: ["entry", "reason"]),
                ],
                required: ["consumer", "period", "method", "provisional", "explanation"])),
            problems: [400, 404, 409]),
        Operation(
            method: "get", path: "/v1/consumers/{id}/emissions", roles: readsConsumers,
            summary: "A consumer's emissions series",
            parameters: [
                pathParameter("id", "the consumer id"),
                Parameter(name: "from", required: true, schema: string, description: "a period or an instant"),
                Parameter(name: "to", required: true, schema: string, description: "a period (included) or an instant"),
                Parameter(name: "step", schema: enumeration(["hour", "day", "month"]), description: "default day"),
            ],
            answer: json(object(
                ["consumer": string, "from": string, "to": string, "step": string, "steps": array(object([:]))],
                required: ["consumer", "from", "to", "step", "steps"])),
            problems: [400, 404, 409]),
        Operation(
            method: "get", path: "/v1/incentives", roles: [.reader, .auditor, .admin], summary: "The incentive directory",
            parameters: [
                periodParameter("period", required: true),
                Parameter(name: "zone", schema: string, description: "a zone, sub-zones included"),
                Parameter(name: "class", schema: string, description: "a consumer class"),
                limitParameter,
                Parameter(name: "cursor", schema: string, description: "from the previous page"),
            ],
            answer: json(object(
                ["period": string, "provisional": boolean, "consumers": array(object([:])), "cursor": nullable(string)],
                required: ["period", "provisional", "consumers"])),
            problems: [400, 409]),
        Operation(
            method: "get", path: "/v1/zones/{zone}/inventory", roles: [.planner, .reader, .auditor, .admin],
            summary: "A zone's emission inventory",
            parameters: [
                pathParameter("zone", "a zone of the tree"), periodParameter("from", required: true),
                periodParameter("to", required: false),
            ],
            answer: json(object(["zone": string, "periods": array(object([:]))], required: ["zone", "periods"])),
            problems: [400, 404, 409]),
        Operation(
            method: "post", path: "/v1/periods/{period}/close", roles: [.admin], summary: "Close a period",
            parameters: [pathParameter("period", "YYYY-MM or YYYY-MM-DD")],
            answer: json(object(
                ["period": string, "entry": unsigned, "consumers": integer, "already_closed": boolean,
                 "checkpoint": nullable(string), "restates": nullable(unsigned)],
                required: ["period", "entry", "consumers", "already_closed"])),
            problems: [400, 409, 507]),
        Operation(
            method: "post", path: "/v1/periods/{period}/restate", roles: [.admin],
            summary: "Open a closed period again for corrections",
            parameters: [pathParameter("period", "YYYY-MM or YYYY-MM-DD")],
            bodyTypes: ["application/json"],
            bodySchema: object(["reason": string], required: ["reason"]),
            answer: json(object(
                ["period": string, "entry": unsigned, "restates": unsigned, "reason": string,
                 "later_periods": array(string), "baseline_of": array(string), "detail": string,
                 "checkpoint": nullable(string)],
                required: ["period", "entry", "restates", "reason", "later_periods", "baseline_of", "detail"])),
            problems: [400, 409, 413, 422, 507]),
        Operation(
            method: "get", path: "/v1/ledger/checkpoint", roles: granted, summary: "The latest signed checkpoint",
            answer: (type: "text/plain", schema: string), problems: [404]),
        Operation(
            method: "get", path: "/v1/ledger/checkpoint/cosigned", roles: granted,
            summary: "The latest checkpoint whose witness cosignatures meet the witness policy",
            answer: (type: "text/plain", schema: string), problems: [404]),
        Operation(
            method: "get", path: "/v1/ledger/key", roles: granted, summary: "Every key the ledger was signed with",
            answer: json(object(["origin": string, "keys": array(string)], required: ["origin", "keys"]))),
        Operation(
            method: "post", path: "/v1/ledger/key/rotate", roles: [.admin], summary: "Rotate the signing key",
            bodyTypes: ["application/json"],
            bodySchema: object(["key": string], required: ["key"]),
            answer: json(object([:], required: ["entry", "vkey", "previous", "overlap_s"])),
            problems: [400, 422, 507]),
        Operation(
            method: "get", path: "/v1/ledger/entries", roles: [.auditor, .admin], summary: "Entries with their signatures",
            parameters: [
                Parameter(name: "start", schema: unsigned, description: "the first index"),
                Parameter(name: "end", schema: unsigned, description: "the index past the last"),
                limitParameter,
            ],
            answer: json(object(["entries": array(object([:])), "size": unsigned], required: ["entries", "size"])),
            problems: [400]),
        Operation(
            method: "get", path: "/v1/ledger/proof/inclusion", roles: granted, summary: "RFC 6962 inclusion proof",
            parameters: [
                Parameter(name: "index", required: true, schema: unsigned, description: "the entry"),
                Parameter(name: "size", schema: unsigned, description: "the tree size (default: latest)"),
            ],
            answer: json(object(
                ["index": unsigned, "size": unsigned, "root": string, "hashes": array(string)],
                required: ["index", "size", "root", "hashes"])),
            problems: [400]),
        Operation(
            method: "get", path: "/v1/ledger/proof/consistency", roles: granted, summary: "RFC 6962 consistency proof",
            parameters: [
                Parameter(name: "from", required: true, schema: unsigned, description: "the older tree size"),
                Parameter(name: "to", schema: unsigned, description: "the newer tree size (default: latest)"),
            ],
            answer: json(object(
                ["from": unsigned, "to": unsigned, "hashes": array(string)], required: ["from", "to", "hashes"])),
            problems: [400]),
        Operation(
            method: "get", path: "/v1/ledger/tile/{path}", roles: [.auditor, .admin], summary: "A C2SP tlog-tiles tile",
            parameters: [pathParameter("path", "<L>/<N>[.p/<W>] or entries/<N>[.p/<W>]")],
            answer: (type: "application/octet-stream", schema: binary), problems: [400, 404]),
        Operation(
            method: "get", path: "/v1/ledger/signatures/{path}", roles: [.auditor, .admin],
            summary: "The entry signatures of an entries tile",
            parameters: [pathParameter("path", "<N>[.p/<W>]")],
            answer: (type: "application/octet-stream", schema: binary), problems: [400, 404]),
        Operation(
            method: "get", path: "/v1/ledger/data/{path}", roles: [.auditor, .admin],
            summary: "The leaves behind the entries of an entries tile",
            parameters: [pathParameter("path", "<N>[.p/<W>]")],
            answer: (type: "application/x-ndjson", schema: string), problems: [400, 404]),
        Operation(
            method: "get", path: "/metrics", roles: [.metrics, .admin], summary: "Prometheus metrics",
            answer: (type: "text/plain", schema: string)),
        Operation(
            method: "post", path: "/v1/admin/backup", roles: [.admin], summary: "A consistent copy of the database",
            answer: (type: "application/vnd.sqlite3", schema: binary), problems: [409, 500, 507]),
    ]

    // MARK: The document

    /// The whole document.
    static var document: JSONValue {
        var paths: [String: JSONValue] = [:]
        for operation in operations {
            var item = paths[operation.path]?.objectValue ?? [:]
            item[operation.method] = Self.operation(operation)
            paths[operation.path] = .object(item)
        }
        return .object([
            "openapi": .string("3.1.0"),
            "info": .object([
                "title": .string("carbonledger socket API"), "version": .string(Daemon.version),
                "description": .string(
                    "HTTP/1.1 + JSON on a Unix socket; who may call what is decided from the peer's kernel "
                        + "credentials. x-roles lists the roles that may call an operation; any other peer gets 403."),
            ]),
            "paths": .object(paths),
            "components": .object(["schemas": .object([
                "Problem": object(
                    ["type": string, "title": string, "status": integer, "detail": string,
                     "errors": array(object(["index": integer, "field": string, "message": string]))],
                    required: ["type", "title", "status", "detail"]),
                "IngestAnswer": object(
                    ["accepted": integer, "duplicates": integer, "entry": nullable(unsigned), "entries": array(unsigned),
                     "checkpoint": nullable(string)],
                    required: ["accepted"]),
            ])]),
        ])
    }

    private static func operation(_ o: Operation) -> JSONValue {
        var responses: [String: JSONValue] = [
            "200": .object([
                "description": .string("done"),
                "content": .object([o.answer.type: .object(["schema": o.answer.schema])]),
            ])
        ]
        for status in Set(everyProblem + o.problems + (o.parameters.isEmpty && o.bodyTypes.isEmpty ? [] : [400])) {
            responses[String(status)] = .object([
                "description": .string("a problem"),
                "content": .object(["application/problem+json": .object(["schema": ref("Problem")])]),
            ])
        }
        var fields: [String: JSONValue] = [
            "summary": .string(o.summary),
            "operationId": .string(o.method + o.path.replacingOccurrences(of: "/", with: "_")),
            "x-roles": .array(o.roles.map { .string($0.rawValue) }),
            "responses": .object(responses),
        ]
        if !o.parameters.isEmpty {
            fields["parameters"] = .array(o.parameters.map { p in
                .object([
                    "name": .string(p.name), "in": .string(p.location), "required": .bool(p.required),
                    "schema": p.schema, "description": .string(p.description),
                ])
            })
        }
        if !o.bodyTypes.isEmpty {
            let schema = o.bodySchema ?? .object([:])
            fields["requestBody"] = .object([
                "required": .bool(true),
                "content": .object(Dictionary(uniqueKeysWithValues: o.bodyTypes.map {
                    ($0, JSONValue.object(["schema": $0 == "application/json" ? schema : string]))
                })),
            ])
        }
        return .object(fields)
    }

    // MARK: Schema pieces

    /// A score's `explanation`.
    static let explanation = object(
        [
            "language": enumeration(["en", "zh-CN"]), "summary": string,
            "components": array(object(
                ["component": enumeration(["peer", "reduction", "timing", "green"]), "value": integer,
                 "weight": integer, "sentence": string],
                required: ["component", "value", "weight", "sentence"])),
            "best_change": nullable(object(
                ["change": enumeration(["use_less", "cleaner_hours", "more_certificates"]), "sentence": string,
                 "score": integer, "points": integer, "score_gain": integer, "points_gain": integer],
                required: ["change", "sentence", "score", "points", "score_gain", "points_gain"])),
            "notes": array(object(["flag": string, "sentence": string], required: ["flag", "sentence"])),
        ],
        required: ["language", "summary", "components", "best_change", "notes"])

    static let bulkTypes = ["application/json", "application/x-ndjson", "text/csv"]
    /// What a write may answer besides 200: bad body, another's records, conflicts,
    /// too large, wrong media type, invalid records, a full disk.
    static let writeProblems = [400, 409, 413, 415, 422, 507]

    static let string: JSONValue = .object(["type": .string("string")])
    static let integer: JSONValue = .object(["type": .string("integer")])
    static let unsigned: JSONValue = .object(["type": .string("integer"), "minimum": .int(0)])
    static let boolean: JSONValue = .object(["type": .string("boolean")])
    static let binary: JSONValue = .object(["type": .string("string"), "format": .string("binary")])

    static func nullable(_ schema: JSONValue) -> JSONValue { .object(["anyOf": .array([schema, .object(["type": .string("null")])])]) }
    static func array(_ items: JSONValue) -> JSONValue { .object(["type": .string("array"), "items": items]) }
    static func enumeration(_ values: [String]) -> JSONValue {
        .object(["type": .string("string"), "enum": .array(values.map(JSONValue.string))])
    }
    static func ref(_ name: String) -> JSONValue { .object(["$ref": .string("#/components/schemas/\(name)")]) }
    static func json(_ schema: JSONValue) -> (type: String, schema: JSONValue) { ("application/json", schema) }

    static func object(_ properties: [String: JSONValue], required: [String] = []) -> JSONValue {
        var schema: [String: JSONValue] = ["type": .string("object"), "properties": .object(properties)]
        if !required.isEmpty { schema["required"] = .array(required.sorted().map(JSONValue.string)) }
        return .object(schema)
    }

    static func pathParameter(_ name: String, _ description: String) -> Parameter {
        Parameter(name: name, location: "path", required: true, schema: string, description: description)
    }

    static func periodParameter(_ name: String, required: Bool) -> Parameter {
        Parameter(name: name, required: required, schema: string, description: "a period: YYYY-MM or YYYY-MM-DD")
    }

    static let limitParameter = Parameter(
        name: "limit", schema: .object(["type": .string("integer"), "minimum": .int(1), "maximum": .int(10_000)]),
        description: "page size, default 100")

    // MARK: Agreement with the router

    /// The operations as the router spells its routes (`METHOD path`, `**` for a tile path).
    static var routeKeys: Set<String> {
        Set(operations.map { $0.method.uppercased() + " " + $0.path.replacingOccurrences(of: "{path}", with: "**") })
    }
}

extension APIDescription {
    /// `GET /v1/openapi.json` (any granted peer).
    static func register(on router: Router<DaemonContext>) {
        let body = ByteBuffer(bytes: document.canonicalBytes())
        router.get("/v1/openapi.json") { _, context in
            try context.requireGranted()
            return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: body))
        }
    }

    /// Throws unless the document's operations are exactly the router's routes.
    static func checkAgreement(with router: Router<DaemonContext>) throws {
        let routes = Set(router.routes.map { "\($0.method.rawValue) \($0.path)" })
        let described = routeKeys
        guard routes == described else {
            throw DaemonError(
                "the API description and the router disagree: routes not described "
                    + "\(routes.subtracting(described).sorted()), described but not routed \(described.subtracting(routes).sorted())")
        }
    }
}
