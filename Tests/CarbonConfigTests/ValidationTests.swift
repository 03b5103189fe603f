import CarbonConfig
import Foundation
import Testing

/// One bad config: the TOML, the key the error must name, and words its message must hold.
struct BadConfig: Sendable, CustomTestStringConvertible {
    var toml: String
    var key: String
    var says: String

    init(_ toml: String, _ key: String, _ says: String) {
        self.toml = toml
        self.key = key
        self.says = says
    }

    var testDescription: String { "\(key): \(says)" }
}

/// A valid grant to put before a bad one, so indexes other than 0 are exercised.
private let okGrant = "[[access.grant]]\nuid = 1\nrole = \"reader\"\n"

@Suite("Validation")
struct ValidationTests {
    static let unknownKeys: [BadConfig] = [
        .init("[daemn]\nsocket = \"x\"", "daemn", "unknown table (did you mean \"daemon\"?)"),
        .init("socket = \"x\"", "socket", "unknown key"),
        .init("[limits]\nidle_timout = \"5s\"", "limits.idle_timout", "unknown key (did you mean \"idle_timeout\"?)"),
        .init("[limits]\nfoo = 1", "limits.foo", "limits has max_body_bytes, max_records_per_batch"),
        .init("[daemon]\nsocket_gruop = \"x\"", "daemon.socket_gruop", "did you mean \"socket_group\"?"),
        .init("[ledger]\norigin_name = \"x\"", "ledger.origin_name", "unknown key"),
        .init("[program]\nweights = { peer = 1, reduction = 1, timing = 1, green = 1, blue = 1 }", "program.weights.blue", "unknown key"),
        .init("[program]\nstatic_benchmarks = []", "program.static_benchmarks", "did you mean \"static_benchmark\"?"),
        .init("[[program.static_benchmark]]\nzone = \"CN\"\nclass = \"r\"\nug_per_day = 1\nugs = 2", "program.static_benchmark[0].ugs", "unknown key"),
        .init("[access]\ngrants = []", "access.grants", "did you mean \"grant\"?"),
        .init(okGrant + "[[access.grant]]\nuid = 2\nrol = \"admin\"", "access.grant[1].rol", "did you mean \"role\"?"),
    ]

    static let types: [BadConfig] = [
        .init("daemon = 5", "daemon", "expected a table, got integer 5"),
        .init("[daemon]\nsocket = 5", "daemon.socket", "expected a string, got integer 5"),
        .init("[daemon]\nsocket = \"\"", "daemon.socket", "must not be empty"),
        .init("[daemon]\ndatabase = \"\"", "daemon.database", "must not be empty"),
        .init("[daemon]\nwriter = 5", "daemon.writer", "expected a string, got integer 5"),
        .init("[daemon]\nwriter = \"a\\nb\"", "daemon.writer", "without control characters"),
        .init("[daemon]\nwriter = \"\(String(repeating: "w", count: 201))\"", "daemon.writer", "at most 200 characters"),
        .init("[ledger]\nvkey = \"\"", "ledger.vkey", "must not be empty"),
        .init("[ledger]\nvkey = 1", "ledger.vkey", "expected a string, got integer 1"),
        .init("[daemon]\nsocket_group = false", "daemon.socket_group", "expected a string, got false"),
        .init("[daemon]\nsocket_mode = 432", "daemon.socket_mode", "expected an octal string like \"0660\", got integer 432"),
        .init("[daemon]\nsocket_mode = \"0989\"", "daemon.socket_mode", "expected an octal mode like \"0660\", got \"0989\""),
        .init("[daemon]\nsocket_mode = \"rw-rw----\"", "daemon.socket_mode", "expected an octal mode"),
        .init("[daemon]\nsocket_mode = \"\"", "daemon.socket_mode", "expected an octal mode"),
        .init("[daemon]\nsocket_mode = \"01777\"", "daemon.socket_mode", "more than 0777"),
        .init("[daemon]\nsocket_mode = \"1000\"", "daemon.socket_mode", "more than 0777"),
        .init("[daemon]\nsynchronous = \"extra\"", "daemon.synchronous", "unknown level \"extra\" (expected full or normal)"),
        .init("[daemon]\nsynchronous = 2", "daemon.synchronous", "expected a string, got integer 2"),
        .init("[daemon]\nshutdown_timeout = \"0s\"", "daemon.shutdown_timeout", "must be positive"),
        .init("[daemon]\nshutdown_timeout = 30", "daemon.shutdown_timeout", "expected a duration string like \"30s\""),
        .init("[ledger]\norigin = \"\"", "ledger.origin", "must not be empty"),
        .init("[ledger]\norigin = \"carbon ledger\"", "ledger.origin", "contains a space"),
        .init("[ledger]\norigin = \"a\\tb\"", "ledger.origin", "contains a space or control character"),
        .init("[ledger]\norigin = \"a+b\"", "ledger.origin", "contains \"+\""),
        .init("[ledger]\nkey = \"\"", "ledger.key", "must not be empty"),
        .init("[ledger]\nkey = [\"a\"]", "ledger.key", "expected a string, got an array"),
    ]

    static let program: [BadConfig] = [
        .init("[program]\ntimezone = \"Mars/Olympus_Mons\"", "program.timezone", "unknown time zone \"Mars/Olympus_Mons\""),
        .init("[program]\ntimezone = \"Asia/Shanghia\"", "program.timezone", "unknown time zone"),
        .init("[program]\ntimezone = \"../../etc/passwd\"", "program.timezone", "unknown time zone"),
        .init("[program]\ntimezone = \"\"", "program.timezone", "must not be empty"),
        .init("[program]\ntimezone = \"Asia\"", "program.timezone", "unknown time zone \"Asia\""),
        .init("[program]\ntimezone = \"zone.tab\"", "program.timezone", "unknown time zone"),
        .init("[program]\ntimezone = \"Asia/Shanghai \"", "program.timezone", "unknown time zone"),
        .init("[program]\nmin_peers = 0", "program.min_peers", "must be positive (got 0)"),
        .init("[program]\nmin_peers = 2.5", "program.min_peers", "expected an integer, got floating-point number 2.5"),
        .init("[program]\nmin_peers = \"5\"", "program.min_peers", "expected an integer, got string \"5\""),
        .init("[program]\nweights = { peer = -1, reduction = 30, timing = 15, green = 15 }", "program.weights.peer", "must be between 0 and 1000000 (got -1)"),
        .init("[program]\nweights = { peer = 0, reduction = 0, timing = 0, green = 0 }", "program.weights", "must not all be zero"),
        .init("[program]\nweights = { peer = 40, reduction = 30, timing = 15 }", "program.weights.green", "missing (give all four weights"),
        .init("[program]\nweights = 100", "program.weights", "expected a table, got integer 100"),
        .init("[program.weights]\npeer = 1\nreduction = 1\ntiming = 1\ngreen = 1.5", "program.weights.green", "expected an integer"),
        .init("[program]\npoints_per_kg = -1", "program.points_per_kg", "must not be negative (got -1)"),
        .init("[program]\neligible_max_grade = 0", "program.eligible_max_grade", "must be between 1 and 5 (got 0)"),
        .init("[program]\neligible_max_grade = 6", "program.eligible_max_grade", "must be between 1 and 5 (got 6)"),
        .init("[program]\nbaseline = \"last_year\"", "program.baseline", "unknown value \"last_year\" (expected previous or year_ago)"),
        .init("[program]\nbaseline = \"yearAgo\"", "program.baseline", "expected previous or year_ago"),
        .init("[program]\nclose_after = \"3w\"", "program.close_after", "\"3w\": unknown unit \"w\" (expected s, m, h or d)"),
        .init("[program]\nclose_after = \"-1h\"", "program.close_after", "expected an integer and a unit"),
        .init("[program]\nfactors = \"a.csv\"", "program.factors", "expected an array of strings, got string \"a.csv\""),
        .init("[program]\nfactors = [\"a.csv\", 1]", "program.factors[1]", "expected a string, got integer 1"),
        .init("[program]\nfactors = [\"\"]", "program.factors[0]", "must not be empty"),
        .init("[program]\nzones = \"\"", "program.zones", "must not be empty"),
        .init("[[program.static_benchmark]]\nzone = \"CN\"\nclass = \"residential\"", "program.static_benchmark[0].ug_per_day", "missing"),
        .init("[[program.static_benchmark]]\nzone = \"CN\"\nclass = \"residential\"\nug_per_day = 0", "program.static_benchmark[0].ug_per_day", "must be positive (got 0)"),
        .init("[[program.static_benchmark]]\nclass = \"residential\"\nug_per_day = 1", "program.static_benchmark[0].zone", "missing"),
        .init("[[program.static_benchmark]]\nzone = \"CN\"\nclass = \"\"\nug_per_day = 1", "program.static_benchmark[0].class", "must not be empty"),
        .init("[[program.static_benchmark]]\nzone = \"CN\"\nclass = \"r\"\nug_per_day = 1\n[[program.static_benchmark]]\nzone = \"CN\"\nclass = \"r\"\nug_per_day = 2",
              "program.static_benchmark[1]", "repeats static_benchmark[0] (zone \"CN\", class \"r\")"),
        .init("[program.static_benchmark]\nzone = \"CN\"", "program.static_benchmark", "expected an array of tables ([[program.static_benchmark]]), got a table"),
    ]

    static let limits: [BadConfig] = [
        .init("[limits]\nmax_body_bytes = 0", "limits.max_body_bytes", "must be positive (got 0)"),
        .init("[limits]\nmax_records_per_batch = -5", "limits.max_records_per_batch", "must be positive (got -5)"),
        .init("[limits]\nmax_records_per_batch = \"100\"", "limits.max_records_per_batch", "expected an integer, got string \"100\""),
        .init("[limits]\nmax_connections = 0", "limits.max_connections", "must be positive"),
        .init("[limits]\nmax_header_bytes = 0", "limits.max_header_bytes", "must be positive"),
        .init("[limits]\nidle_timeout = \"0s\"", "limits.idle_timeout", "must be positive (got \"0s\")"),
        .init("[limits]\nidle_timeout = 60", "limits.idle_timeout", "expected a duration string"),
        .init("[limits]\nrequest_timeout = \"1.5s\"", "limits.request_timeout", "expected an integer and a unit"),
        .init("[limits]\nrequest_timeout = \"0m\"", "limits.request_timeout", "must be positive"),
    ]

    static let grants: [BadConfig] = [
        .init("[access.grant]\nuid = 1\nrole = \"admin\"", "access.grant", "expected an array of tables ([[access.grant]]), got a table"),
        .init("[access]\ngrant = [1]", "access.grant[0]", "expected a table, got integer 1"),
        .init(okGrant + "[[access.grant]]\nrole = \"admin\"", "access.grant[1]", "no matcher: give exactly one of uid, gid, user, group or self"),
        .init(okGrant + "[[access.grant]]\nuid = 5\ngroup = \"ops\"\nrole = \"admin\"", "access.grant[1]", "more than one matcher (uid and group)"),
        .init(okGrant + okGrant.replacingOccurrences(of: "uid = 1", with: "uid = 2") + "[[access.grant]]\nuser = \"ops\"\nrole = \"admn\"",
              "access.grant[2].role", "unknown role \"admn\" (expected utility, consumer, reader, auditor, planner, metrics or admin)"),
        .init("[[access.grant]]\nuser = \"ops\"", "access.grant[0].role", "missing (expected utility, consumer"),
        .init("[[access.grant]]\nuser = \"ops\"\nrole = 1", "access.grant[0].role", "expected a string, got integer 1"),
        .init("[[access.grant]]\nuid = -1\nrole = \"admin\"", "access.grant[0].uid", "must be between 0 and 4294967294 (got -1)"),
        .init("[[access.grant]]\ngid = 4294967295\nrole = \"admin\"", "access.grant[0].gid", "must be between 0 and 4294967294"),
        .init("[[access.grant]]\nuid = \"1001\"\nrole = \"admin\"", "access.grant[0].uid", "expected an integer, got string \"1001\""),
        .init("[[access.grant]]\nuser = \"\"\nrole = \"admin\"", "access.grant[0].user", "must not be empty"),
        .init("[[access.grant]]\ngroup = \"\"\nrole = \"admin\"", "access.grant[0].group", "must not be empty"),
        .init("[[access.grant]]\nself = false\nrole = \"admin\"", "access.grant[0].self", "self = false matches nobody"),
        .init("[[access.grant]]\nself = \"yes\"\nrole = \"admin\"", "access.grant[0].self", "expected true or false"),
        .init("[[access.grant]]\nuid = 7\nrole = \"utility\"", "access.grant[0].utility", "missing: a grant with role \"utility\" names the utility id"),
        .init("[[access.grant]]\nuid = 7\nrole = \"utility\"\nutility = \"\"", "access.grant[0].utility", "must not be empty"),
        .init("[[access.grant]]\nuid = 7\nrole = \"reader\"\nutility = \"zj-grid\"", "access.grant[0].utility", "only a grant with role \"utility\" takes a utility (this one has role \"reader\")"),
        .init("[[access.grant]]\nuid = 7\nrole = \"consumer\"", "access.grant[0].consumers", "missing: a grant with role \"consumer\" lists the consumer ids"),
        .init("[[access.grant]]\nuid = 7\nrole = \"consumer\"\nconsumers = []", "access.grant[0].consumers", "must list at least one consumer id"),
        .init("[[access.grant]]\nuid = 7\nrole = \"consumer\"\nconsumers = [\"c-1\", \"\"]", "access.grant[0].consumers[1]", "must not be empty"),
        .init("[[access.grant]]\nuid = 7\nrole = \"consumer\"\nconsumers = \"c-1\"", "access.grant[0].consumers", "expected an array of strings"),
        .init("[[access.grant]]\nuid = 7\nrole = \"admin\"\nconsumers = [\"c-1\"]", "access.grant[0].consumers", "only a grant with role \"consumer\" takes consumers (this one has role \"admin\")"),
        .init("[[access.grant]]\nuid = 7\nrole = \"utility\"\nutility = \"u\"\nconsumers = [\"c-1\"]", "access.grant[0].consumers", "only a grant with role \"consumer\""),
        .init("[[access.grant]]\nuid = 7\nrole = \"consumer\"\nconsumers = [\"c\"]\nutility = \"u\"", "access.grant[0].utility", "only a grant with role \"utility\""),
        .init(okGrant + "[[access.grant]]\nuid = 1\nrole = \"admin\"", "access.grant[1]", "never matches: access.grant[0] has the same uid = 1"),
        // The ids a grant binds follow the name rules: NFC, no '/', no control characters.
        .init("[[access.grant]]\nuid = 7\nrole = \"utility\"\nutility = \"zj-grid-e\u{301}\"", "access.grant[0].utility", "normalization form C"),
        .init("[[access.grant]]\nuid = 7\nrole = \"utility\"\nutility = \"zj/grid\"", "access.grant[0].utility", "must not contain '/'"),
        .init("[[access.grant]]\nuid = 7\nrole = \"consumer\"\nconsumers = [\"c-e\u{301}\"]", "access.grant[0].consumers", "normalization form C"),
    ]

    @Test(arguments: unknownKeys) func unknownKeysAreErrors(_ bad: BadConfig) { check(bad) }
    @Test(arguments: types) func daemonAndLedgerKeys(_ bad: BadConfig) { check(bad) }
    @Test(arguments: program) func programKeys(_ bad: BadConfig) { check(bad) }
    @Test(arguments: limits) func limitKeys(_ bad: BadConfig) { check(bad) }
    @Test(arguments: grants) func grantKeys(_ bad: BadConfig) { check(bad) }

    private func check(_ bad: BadConfig) {
        guard let error = rejection(bad.toml) else { return }
        #expect(error.key == bad.key, "\(error)")
        #expect(error.message.contains(bad.says), "\(error)")
        #expect(error.description == "config: \(bad.key): \(error.message)")
    }

    @Test func unknownRoleDescriptionIsExact() {
        let toml = okGrant + okGrant.replacingOccurrences(of: "uid = 1", with: "uid = 2")
            + "[[access.grant]]\nuid = 3\nrole = \"admn\"\n"
        #expect(rejection(toml)?.description
            == "config: access.grant[2].role: unknown role \"admn\" (expected utility, consumer, reader, auditor, planner, metrics or admin)")
    }

    @Test func syntaxErrorsNameTheLine() {
        let error = rejection("[daemon]\nsocket = \"unterminated\n")
        #expect(error?.key == "")
        #expect(error?.message.hasPrefix("line 2, column") == true, "\(String(describing: error))")
        #expect(error?.description.hasPrefix("config: line 2") == true)
    }

    @Test func duplicateKeysAreSyntaxErrors() {
        #expect(rejection("[limits]\nmax_connections = 1\nmax_connections = 2")?.message.hasPrefix("line 3") == true)
    }

    @Test func nulBytesAreRefused() {
        #expect(rejection("[daemon]\nsocket = \"a\"\n\0[limits]\nmax_connections = 0")?.message.contains("NUL") == true)
    }

    @Test func unreadableFileSaysWhy() {
        let path = "/nonexistent-\(getpid())/carbonledger.toml"
        #expect(throws: ConfigError(key: "", message: "cannot read \(path): No such file or directory")) {
            try Config.load(path: path)
        }
    }

    @Test func nonUTF8FileIsRefused() throws {
        let path = NSTemporaryDirectory() + "carbonconfig-\(getpid())-latin1.toml"
        try Data([0x23, 0x20, 0xE9, 0x0A]).write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }
        #expect(throws: ConfigError(key: "", message: "\(path) is not UTF-8 text")) {
            try Config.load(path: path, baseDirectory: "/")
        }
    }

    @Test(.enabled(if: FileManager.default.fileExists(atPath: "/usr/share/zoneinfo/posix/Asia/Shanghai")))
    func zoneinfoOnlyNamesAreRefusedWithTheReason() {
        let error = rejection("[program]\ntimezone = \"posix/Asia/Shanghai\"")
        #expect(error?.key == "program.timezone")
        #expect(error?.message.contains("not in Foundation's zone data") == true, "\(String(describing: error))")
    }

    @Test func timeZonesFromFoundation() throws {
        for zone in ["UTC", "Asia/Shanghai", "Europe/Berlin", "America/Argentina/Buenos_Aires"] {
            #expect(try parse("[program]\ntimezone = \"\(zone)\"").program.timezone == zone)
        }
    }

    @Test func everyRoleIsAccepted() throws {
        for role in Role.allCases {
            let binding = role == .utility ? "utility = \"u\"\n" : role == .consumer ? "consumers = [\"c\"]\n" : ""
            let config = try parse("[[access.grant]]\nuid = 9\nrole = \"\(role)\"\n" + binding)
            #expect(config.grants.first?.role == role)
        }
    }
}
