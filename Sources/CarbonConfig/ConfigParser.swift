import CarbonModel
import Foundation
import TOMLKit

#if canImport(Glibc)
import Glibc
#endif

extension Config {
    /// Reads and validates the TOML file at `path`; relative paths in it are
    /// resolved against the process's working directory.
    public static func load(path: String) throws(ConfigError) -> Config {
        try load(path: path, baseDirectory: currentDirectory())
    }

    /// Reads and validates the TOML file at `path`; relative paths in it are
    /// resolved against `baseDirectory`.
    public static func load(path: String, baseDirectory: String) throws(ConfigError) -> Config {
        let text = try readTextFile(path)
        return try parse(toml: text, baseDirectory: baseDirectory)
    }

    /// Parses and validates a TOML document; relative paths in it (and in the
    /// defaults it relies on) are resolved against `baseDirectory`.
    public static func parse(toml: String, baseDirectory: String) throws(ConfigError) -> Config {
        guard !toml.utf8.contains(0) else {
            // toml++ reads a C string: anything after a NUL would be silently dropped.
            throw ConfigError(key: "", message: "the file contains a NUL byte; it is not a TOML text file")
        }
        try checkBrackets(toml)
        let table: TOMLTable
        do {
            table = try TOMLTable(string: toml)
        } catch let error as TOMLParseError {
            let at = error.source.begin
            throw ConfigError(key: "", message: "line \(at.line), column \(at.column): \(error.description)")
        } catch {
            throw ConfigError(key: "", message: "not valid TOML: \(error)")
        }
        let root = try TOMLSection(table, path: "", allowedKeys: ["daemon", "ledger", "program", "limits", "access"])
        let paths = PathResolver(baseDirectory: baseDirectory)
        return Config(
            daemon: try readDaemon(root.section("daemon", allowedKeys: DaemonKeys.all), paths),
            ledger: try readLedger(root.section("ledger", allowedKeys: LedgerKeys.all), paths),
            program: try readProgram(root.section("program", allowedKeys: ProgramKeys.all), paths),
            limits: try readLimits(root.section("limits", allowedKeys: LimitsKeys.all)),
            grants: try readGrants(root.section("access", allowedKeys: ["grant"]))
        )
    }
}

// MARK: - Sections

private enum DaemonKeys {
    static let all = ["socket", "socket_mode", "socket_group", "database", "synchronous", "shutdown_timeout", "writer"]
}

private func readDaemon(_ section: TOMLSection?, _ paths: PathResolver) throws(ConfigError) -> Config.Daemon {
    var daemon = Config.Daemon()
    if let section {
        if let socket = try section.nonEmptyString("socket") { daemon.socket = socket }
        if let mode = try section.string("socket_mode", expected: "an octal string like \"0660\"") {
            daemon.socketMode = try parseMode(mode, section)
        }
        if let group = try section.string("socket_group") { daemon.socketGroup = group }
        if let database = try section.nonEmptyString("database") { daemon.database = database }
        if let level = try section.choice("synchronous", Config.Daemon.Synchronous.self, noun: "level") {
            daemon.synchronous = level
        }
        if let timeout = try section.duration("shutdown_timeout", atLeast: ConfigDuration(seconds: 1)) {
            daemon.shutdownTimeout = timeout
        }
        if let writer = try section.string("writer") {
            guard writer.count <= 200, !writer.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) else {
                throw section.error("writer", "expected at most 200 characters without control characters")
            }
            daemon.writer = writer
        }
    }
    daemon.socket = paths.resolve(daemon.socket)
    // A PostgreSQL URL is not a path (it is checked when the store opens, and by --check-config).
    if !daemon.isPostgreSQL { daemon.database = paths.resolve(daemon.database) }
    return daemon
}

/// `"0660"` -> 0o660: octal digits only (a TOML integer would be read as decimal).
private func parseMode(_ text: String, _ section: TOMLSection) throws(ConfigError) -> UInt16 {
    guard !text.isEmpty, text.count <= 6, text.allSatisfy({ ("0"..."7").contains($0) }),
          let mode = UInt16(text, radix: 8)
    else {
        throw section.error("socket_mode", "expected an octal mode like \"0660\", got \(quoted(text))")
    }
    guard mode <= 0o777 else {
        throw section.error("socket_mode", "\(quoted(text)) is more than 0777 (no setuid, setgid or sticky bits on a socket)")
    }
    return mode
}

private enum LedgerKeys {
    static let all = ["origin", "key", "key_overlap", "witness_policy", "vkey"]
}

private func readLedger(_ section: TOMLSection?, _ paths: PathResolver) throws(ConfigError) -> Config.LedgerSettings {
    var ledger = Config.LedgerSettings()
    if let section {
        if let origin = try section.nonEmptyString("origin") {
            // The origin is the checkpoint's first line and the note key name.
            if origin.unicodeScalars.contains(where: { $0.properties.isWhitespace || $0.value < 0x20 || $0.value == 0x7F }) {
                throw section.error("origin", "\(quoted(origin)) contains a space or control character (it is a signed-note key name)")
            }
            if origin.contains("+") {
                throw section.error("origin", "\(quoted(origin)) contains \"+\" (it separates the parts of a note key)")
            }
            ledger.origin = origin
        }
        if let key = try section.nonEmptyString("key") { ledger.key = key }
        if let overlap = try section.duration("key_overlap", atLeast: ConfigDuration(seconds: 0)) { ledger.keyOverlap = overlap }
        if let policy = try section.string("witness_policy"), !policy.isEmpty { ledger.witnessPolicy = paths.resolve(policy) }
        if let vkey = try section.nonEmptyString("vkey") { ledger.vkey = vkey }
    }
    ledger.key = paths.resolve(ledger.key)
    return ledger
}

private enum ProgramKeys {
    static let all = [
        "timezone", "min_peers", "weights", "points_per_kg", "baseline", "eligible_max_grade",
        "close_after", "benchmark_refresh", "factors", "zones", "static_benchmark", "period",
    ]
    static let weights = ["peer", "reduction", "timing", "green"]
    static let benchmark = ["zone", "class", "ug_per_day"]
}

/// Largest single weight: keeps `sum(w * 1000)` far from overflow.
private let maxWeight = 1_000_000

private func readProgram(_ section: TOMLSection?, _ paths: PathResolver) throws(ConfigError) -> Config.Program {
    var program = Config.Program()
    guard let section else { return program }
    if let zone = try section.nonEmptyString("timezone") {
        if let problem = timeZoneProblem(zone) { throw section.error("timezone", problem) }
        program.timezone = zone
    }
    if let minPeers = try section.integer("min_peers", in: 1...Int.max) { program.minPeers = minPeers }
    if let weights = try section.section("weights", allowedKeys: ProgramKeys.weights) {
        program.weights = try readWeights(weights)
    }
    if let points = try section.integer("points_per_kg", in: 0...Int.max) { program.pointsPerKg = points }
    if let baseline = try section.choice("baseline", Config.Program.Baseline.self) { program.baseline = baseline }
    if let grade = try section.integer("eligible_max_grade", in: 1...5) { program.eligibleMaxGrade = grade }
    if let period = try section.choice("period", Config.Program.PeriodKind.self) { program.period = period }
    if let closeAfter = try section.duration("close_after", atLeast: ConfigDuration(seconds: 0)) {
        program.closeAfter = closeAfter
    }
    if let refresh = try section.duration("benchmark_refresh", atLeast: ConfigDuration(seconds: 0)) {
        program.benchmarkRefresh = refresh
    }
    if let factors = try section.stringArray("factors") { program.factors = factors.map(paths.resolve) }
    if let zones = try section.nonEmptyString("zones") { program.zones = paths.resolve(zones) }
    if let benchmarks = try section.sections("static_benchmark", allowedKeys: ProgramKeys.benchmark) {
        program.staticBenchmarks = try readBenchmarks(benchmarks)
    }
    return program
}

private func readWeights(_ section: TOMLSection) throws(ConfigError) -> Config.Program.Weights {
    // All four or none: a partial table would silently mix in default weights.
    func weight(_ key: String) throws(ConfigError) -> Int {
        guard let value = try section.integer(key, in: 0...maxWeight) else {
            throw section.error(key, "missing (give all four weights: peer, reduction, timing and green)")
        }
        return value
    }
    let weights = Config.Program.Weights(
        peer: try weight("peer"), reduction: try weight("reduction"),
        timing: try weight("timing"), green: try weight("green")
    )
    guard weights.sum > 0 else {
        throw section.error("the weights must not all be zero (the score divides by their sum)")
    }
    return weights
}

private func readBenchmarks(_ sections: [TOMLSection]) throws(ConfigError) -> [Config.Program.StaticBenchmark] {
    var benchmarks: [Config.Program.StaticBenchmark] = []
    for section in sections {
        func required(_ key: String) throws(ConfigError) -> String {
            guard let value = try section.nonEmptyString(key) else { throw section.error(key, "missing") }
            return value
        }
        let zone = try required("zone")
        let consumerClass = try required("class")
        guard let ugPerDay = try section.integer("ug_per_day", in: 1...Int.max) else {
            throw section.error("ug_per_day", "missing (micrograms CO2e per normalizer unit per day)")
        }
        if let earlier = benchmarks.firstIndex(where: { $0.zone == zone && $0.class == consumerClass }) {
            throw section.error("repeats static_benchmark[\(earlier)] (zone \(quoted(zone)), class \(quoted(consumerClass)))")
        }
        benchmarks.append(.init(zone: zone, class: consumerClass, ugPerDay: Int64(ugPerDay)))
    }
    return benchmarks
}

/// Why `name` is not a time zone the daemon can compute periods in; nil when it is one.
///
/// Foundation's zone list decides which names are IANA zones; a name that only the
/// system zoneinfo has (`posix/...`, `right/...`, a zone newer than Foundation's list)
/// is refused with that said. The daemon computes with the system's TZif file of the
/// name (`SystemTimeZones`), and says so at start when tzdata lacks it.
private func timeZoneProblem(_ name: String) -> String? {
    if TimeZone(identifier: name) != nil { return nil }
    let example = "expected an IANA name like \"Asia/Shanghai\" or \"UTC\""
    return isZoneinfoFile(name)
        ? "time zone \(quoted(name)) is in /usr/share/zoneinfo but not in Foundation's zone data, which the daemon computes with (\(example))"
        : "unknown time zone \(quoted(name)) (\(example))"
}

/// Whether the system zoneinfo has a TZif file called `name` (it also holds folders
/// like `Asia` and tables like `zone.tab`).
private func isZoneinfoFile(_ name: String) -> Bool {
    guard !name.hasPrefix("/"), !name.split(separator: "/").contains("..") else { return false }
    let fd = open("/usr/share/zoneinfo/\(name)", O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { return false }
    defer { close(fd) }
    var magic = [UInt8](repeating: 0, count: 4)
    return read(fd, &magic, 4) == 4 && magic == Array("TZif".utf8)  // a folder fails with EISDIR
}

private enum LimitsKeys {
    static let all = [
        "max_body_bytes", "max_records_per_batch", "max_connections", "idle_timeout",
        "max_header_bytes", "request_timeout",
    ]
}

private func readLimits(_ section: TOMLSection?) throws(ConfigError) -> Config.Limits {
    var limits = Config.Limits()
    guard let section else { return limits }
    let oneSecond = ConfigDuration(seconds: 1)
    if let value = try section.integer("max_body_bytes", in: 1...Int.max) { limits.maxBodyBytes = value }
    if let value = try section.integer("max_records_per_batch", in: 1...Int.max) { limits.maxRecordsPerBatch = value }
    if let value = try section.integer("max_connections", in: 1...Int.max) { limits.maxConnections = value }
    if let value = try section.duration("idle_timeout", atLeast: oneSecond) { limits.idleTimeout = value }
    if let value = try section.integer("max_header_bytes", in: 1...Int.max) { limits.maxHeaderBytes = value }
    if let value = try section.duration("request_timeout", atLeast: oneSecond) { limits.requestTimeout = value }
    return limits
}

// MARK: - Grants

private enum GrantKeys {
    static let matchers = ["uid", "gid", "user", "group", "self"]
    static let all = matchers + ["role", "utility", "consumers"]
}

private func readGrants(_ access: TOMLSection?) throws(ConfigError) -> [Grant] {
    guard let sections = try access?.sections("grant", allowedKeys: GrantKeys.all) else { return [] }
    var grants: [Grant] = []
    for section in sections {
        let grant = try readGrant(section)
        if let earlier = grants.firstIndex(where: { $0.matcher == grant.matcher }) {
            throw section.error("never matches: access.grant[\(earlier)] has the same \(grant.matcher) and comes first")
        }
        grants.append(grant)
    }
    return grants
}

private func readGrant(_ section: TOMLSection) throws(ConfigError) -> Grant {
    let given = GrantKeys.matchers.filter(section.has)
    guard given.count == 1, let matcherKey = given.first else {
        let problem = given.isEmpty ? "no matcher" : "more than one matcher (\(list(given, or: false)))"
        throw section.error("\(problem): give exactly one of uid, gid, user, group or self")
    }
    let idRange = 0...Int(UInt32.max - 1)  // (uid_t)-1 means "no id"
    let matcher: Grant.Matcher
    switch matcherKey {
    case "uid": matcher = .uid(UInt32(try section.integer("uid", in: idRange)!))
    case "gid": matcher = .gid(UInt32(try section.integer("gid", in: idRange)!))
    case "user": matcher = .user(try section.nonEmptyString("user")!)
    case "group": matcher = .group(try section.nonEmptyString("group")!)
    default:
        guard try section.bool("self") == true else {
            throw section.error("self", "self = false matches nobody (write self = true, or another matcher)")
        }
        matcher = .daemonUser
    }
    guard let role = try section.choice("role", Role.self, noun: "role") else {
        throw section.error("role", "missing (expected \(list(Role.allCases.map(\.rawValue), or: true)))")
    }

    let utility = try section.nonEmptyString("utility")
    switch (role, utility) {
    case (.utility, nil):
        throw section.error("utility", "missing: a grant with role \"utility\" names the utility id it is bound to")
    case (.utility, _), (_, nil): break
    default:
        throw section.error("utility", "only a grant with role \"utility\" takes a utility (this one has role \(quoted(role.rawValue)))")
    }

    let consumers = try section.stringArray("consumers")
    switch (role, consumers) {
    case (.consumer, nil):
        throw section.error("consumers", "missing: a grant with role \"consumer\" lists the consumer ids it is bound to")
    case (.consumer, let list?) where list.isEmpty:
        throw section.error("consumers", "must list at least one consumer id")
    case (.consumer, _), (_, nil): break
    default:
        throw section.error("consumers", "only a grant with role \"consumer\" takes consumers (this one has role \(quoted(role.rawValue)))")
    }
    // The ids a grant binds follow the name rules of the records they match.
    if let utility, let problem = Identifier.nameProblem(utility) { throw section.error("utility", problem) }
    for consumer in consumers ?? [] {
        if let problem = Identifier.nameProblem(consumer) { throw section.error("consumers", "\(quoted(consumer)) \(problem)") }
    }
    return Grant(matcher: matcher, role: role, utility: utility, consumers: consumers ?? [])
}

// MARK: - Files and paths

/// Resolves config paths against the daemon's working directory.
private struct PathResolver {
    let baseDirectory: String

    func resolve(_ path: String) -> String {
        if path.hasPrefix("/") { return path }
        var relative = Substring(path)
        while relative.hasPrefix("./") { relative = relative.dropFirst(2).drop(while: { $0 == "/" }) }
        var base = Substring(baseDirectory)
        while base.count > 1 && base.hasSuffix("/") { base = base.dropLast() }
        if relative.isEmpty || relative == "." { return String(base) }
        return base == "/" ? "/\(relative)" : "\(base)/\(relative)"
    }
}

private func currentDirectory() -> String {
    guard let pointer = getcwd(nil, 0) else { return "." }
    defer { free(pointer) }
    return String(cString: pointer)
}

/// The whole file as UTF-8 text, with the OS's reason when it cannot be read.
private func readTextFile(_ path: String) throws(ConfigError) -> String {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else {
        throw ConfigError(key: "", message: "cannot read \(path): \(String(cString: strerror(errno)))")
    }
    defer { close(fd) }
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 64 * 1024)
    while true {
        let count = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        if count < 0 && errno == EINTR { continue }
        guard count >= 0 else {
            throw ConfigError(key: "", message: "cannot read \(path): \(String(cString: strerror(errno)))")
        }
        if count == 0 { break }
        bytes.append(contentsOf: chunk[0..<count])
        guard bytes.count <= 16 * 1024 * 1024 else {
            throw ConfigError(key: "", message: "\(path) is larger than 16 MiB; it is not a config file")
        }
    }
    guard let text = String(validating: bytes, as: UTF8.self) else {
        throw ConfigError(key: "", message: "\(path) is not UTF-8 text")
    }
    return text
}
