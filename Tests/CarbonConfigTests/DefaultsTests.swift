import CarbonConfig
import Testing

@Suite("Defaults")
struct DefaultsTests {
    @Test func emptyFileGetsInterfaceDefaults() throws {
        let config = try parse("")
        #expect(config.daemon.socket == "\(base)/var/run/carbonledger.sock")
        #expect(config.daemon.socketMode == 0o660)
        #expect(config.daemon.socketGroup == "")
        #expect(config.daemon.database == "\(base)/var/lib/carbonledger.db")
        #expect(config.daemon.synchronous == .full)
        #expect(config.daemon.shutdownTimeout == ConfigDuration(seconds: 30))
        #expect(config.ledger.origin == "carbonledger.local/demo")
        #expect(config.ledger.key == "\(base)/var/lib/carbonledger.key")
        #expect(config.program.timezone == "Asia/Shanghai")
        #expect(config.program.minPeers == 5)
        #expect(config.program.weights == .init(peer: 40, reduction: 30, timing: 15, green: 15))
        #expect(config.program.pointsPerKg == 1)
        #expect(config.program.baseline == .previous)
        #expect(config.program.eligibleMaxGrade == 2)
        #expect(config.program.closeAfter == ConfigDuration(seconds: 72 * 3600))
        #expect(config.program.factors == [])
        #expect(config.program.zones == nil)
        #expect(config.program.staticBenchmarks == [])
        #expect(config.limits.maxBodyBytes == 67_108_864)
        #expect(config.limits.maxRecordsPerBatch == 100_000)
        #expect(config.limits.maxConnections == 512)
        #expect(config.limits.idleTimeout == ConfigDuration(seconds: 60))
        #expect(config.limits.maxHeaderBytes == 16_384)
        #expect(config.limits.requestTimeout == ConfigDuration(seconds: 60))
        #expect(config.grants == [])
    }

    @Test func aPostgreSQLDatabaseIsAURLNotAPath() throws {
        let config = try parse("""
            [daemon]
            database = "postgresql://carbon@/ledger?host=/run/postgresql"
            writer = "carbonledgerd on db-primary"
            [ledger]
            vkey = "carbonledger.local/demo+01234567+AAAA"
            """)
        #expect(config.daemon.database == "postgresql://carbon@/ledger?host=/run/postgresql")
        #expect(config.daemon.isPostgreSQL)
        #expect(config.daemon.writer == "carbonledgerd on db-primary")
        #expect(config.ledger.vkey == "carbonledger.local/demo+01234567+AAAA")
        let file = try parse("[daemon]\ndatabase = \"postgresql.db\"")
        #expect(!file.daemon.isPostgreSQL && file.daemon.database == base + "/postgresql.db")
    }

    @Test func emptySectionsAreDefaultsToo() throws {
        let config = try parse("[daemon]\n[ledger]\n[program]\n[limits]\n[access]\n")
        #expect(config == (try parse("")))
    }

    @Test func defaultInitializerMatchesAnEmptyFileBeforeResolution() throws {
        var parsed = try Config.parse(toml: "", baseDirectory: ".")
        parsed.daemon.socket = "var/run/carbonledger.sock"
        parsed.daemon.database = "var/lib/carbonledger.db"
        parsed.ledger.key = "var/lib/carbonledger.key"
        #expect(parsed == Config())
    }

    @Test func absentKeysKeepTheirDefaultsBesideGivenOnes() throws {
        let config = try parse("""
            [limits]
            max_connections = 64
            [program]
            baseline = "year_ago"
            """)
        #expect(config.limits.maxConnections == 64)
        #expect(config.limits.maxBodyBytes == 67_108_864)
        #expect(config.program.baseline == .yearAgo)
        #expect(config.program.minPeers == 5)
    }

    @Test func everyKeyIsRead() throws {
        let config = try parse("""
            [daemon]
            socket = "/run/x.sock"
            socket_mode = "0600"
            socket_group = "staff"
            database = "data/x.db"
            synchronous = "normal"
            shutdown_timeout = "5m"
            [ledger]
            origin = "ledger.example.org/zhejiang"
            key = "./keys/ledger.key"
            [program]
            timezone = "UTC"
            min_peers = 3
            points_per_kg = 10
            baseline = "year_ago"
            eligible_max_grade = 5
            close_after = "7d"
            factors = ["a.csv", "/abs/b.csv"]
            zones = "z.csv"
            [program.weights]
            peer = 1
            reduction = 0
            timing = 0
            green = 0
            [[program.static_benchmark]]
            zone = "CN"
            class = "residential"
            ug_per_day = 2500000000
            [[program.static_benchmark]]
            zone = "CN-ZJ"
            class = "residential"
            ug_per_day = 1
            [limits]
            max_body_bytes = 1024
            max_records_per_batch = 10
            max_connections = 2
            idle_timeout = "1s"
            max_header_bytes = 512
            request_timeout = "2h"
            """)
        #expect(config.daemon == .init(
            socket: "/run/x.sock", socketMode: 0o600, socketGroup: "staff", database: "\(base)/data/x.db",
            synchronous: .normal, shutdownTimeout: .init(seconds: 300)))
        #expect(config.ledger == .init(origin: "ledger.example.org/zhejiang", key: "\(base)/keys/ledger.key"))
        #expect(config.program == .init(
            timezone: "UTC", minPeers: 3, weights: .init(peer: 1, reduction: 0, timing: 0, green: 0),
            pointsPerKg: 10, baseline: .yearAgo, eligibleMaxGrade: 5, closeAfter: .init(seconds: 7 * 86_400),
            factors: ["\(base)/a.csv", "/abs/b.csv"], zones: "\(base)/z.csv",
            staticBenchmarks: [
                .init(zone: "CN", class: "residential", ugPerDay: 2_500_000_000),
                .init(zone: "CN-ZJ", class: "residential", ugPerDay: 1),
            ]))
        #expect(config.limits == .init(
            maxBodyBytes: 1024, maxRecordsPerBatch: 10, maxConnections: 2, idleTimeout: .init(seconds: 1),
            maxHeaderBytes: 512, requestTimeout: .init(seconds: 7200)))
    }

    @Test(arguments: [
        ("/srv/x", "a.db", "/srv/x/a.db"),
        ("/srv/x/", "a.db", "/srv/x/a.db"),
        ("/", "a.db", "/a.db"),
        ("/srv/x", "./a.db", "/srv/x/a.db"),
        ("/srv/x", "../a.db", "/srv/x/../a.db"),
        ("/srv/x", "/abs/a.db", "/abs/a.db"),
    ])
    func relativePathsResolveAgainstTheBaseDirectory(baseDirectory: String, path: String, expected: String) throws {
        let config = try Config.parse(toml: "[daemon]\ndatabase = \"\(path)\"", baseDirectory: baseDirectory)
        #expect(config.daemon.database == expected)
    }

    @Test func socketModeForms() throws {
        #expect(try parse("[daemon]\nsocket_mode = \"660\"").daemon.socketMode == 0o660)
        #expect(try parse("[daemon]\nsocket_mode = \"0777\"").daemon.socketMode == 0o777)
        #expect(try parse("[daemon]\nsocket_mode = \"0\"").daemon.socketMode == 0)
    }
}
