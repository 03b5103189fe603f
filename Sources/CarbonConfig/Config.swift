/// The daemon's configuration, as read from its TOML file (interface.md section 6).
///
/// Every value has been validated and every relative path resolved against the
/// daemon's working directory by the time a `Config` exists. `Config()` holds the
/// defaults a file gets for the keys it leaves out.
public struct Config: Sendable, Equatable {
    /// `[daemon]`: the socket and the database.
    public var daemon: Daemon
    /// `[ledger]`: the log's origin and signing key.
    public var ledger: LedgerSettings
    /// `[program]`: the parameters of method `cl-score/1`.
    public var program: Program
    /// `[limits]`: what one peer may cost the daemon.
    public var limits: Limits
    /// `[[access.grant]]`, in file order: the first that matches a peer decides its role.
    public var grants: [Grant]

    /// A config of defaults, with no grants (every peer gets 403).
    public init(
        daemon: Daemon = Daemon(),
        ledger: LedgerSettings = LedgerSettings(),
        program: Program = Program(),
        limits: Limits = Limits(),
        grants: [Grant] = []
    ) {
        self.daemon = daemon
        self.ledger = ledger
        self.program = program
        self.limits = limits
        self.grants = grants
    }

    /// `[daemon]`.
    public struct Daemon: Sendable, Equatable {
        /// SQLite's `synchronous` level: `full` syncs the WAL on every commit, `normal` only at checkpoints.
        public enum Synchronous: String, Sendable, CaseIterable {
            case full, normal
        }

        /// Path of the Unix socket (`socket`).
        public var socket: String
        /// Permission bits of the socket file (`socket_mode`, an octal string like `"0660"`).
        public var socketMode: UInt16
        /// Group of the socket file (`socket_group`); empty: the daemon's own group.
        public var socketGroup: String
        /// Where the store is (`database`): the path of the SQLite database, or a
        /// `postgresql://` URL for the PostgreSQL store (docs/storage.md).
        public var database: String
        /// `synchronous`; `full` by default, so a commit survives a power cut.
        public var synchronous: Synchronous
        /// How long SIGTERM waits for in-flight requests (`shutdown_timeout`).
        public var shutdownTimeout: ConfigDuration
        /// Where writes go, as a read-only daemon names it in its refusals (`writer`):
        /// free text such as the writer's host and socket.
        public var writer: String

        /// Whether `database` names a PostgreSQL server rather than an SQLite file.
        public var isPostgreSQL: Bool {
            database.hasPrefix("postgresql://") || database.hasPrefix("postgres://")
        }

        /// `[daemon]` with its defaults.
        public init(
            socket: String = "var/run/carbonledger.sock",
            socketMode: UInt16 = 0o660,
            socketGroup: String = "",
            database: String = "var/lib/carbonledger.db",
            synchronous: Synchronous = .full,
            shutdownTimeout: ConfigDuration = ConfigDuration(seconds: 30),
            writer: String = ""
        ) {
            self.socket = socket
            self.socketMode = socketMode
            self.socketGroup = socketGroup
            self.database = database
            self.synchronous = synchronous
            self.shutdownTimeout = shutdownTimeout
            self.writer = writer
        }
    }

    /// `[ledger]`.
    public struct LedgerSettings: Sendable, Equatable {
        /// Checkpoint origin and key name (`origin`): no spaces, no `+`.
        public var origin: String
        /// Path of the private key file (`key`, ledger.md section 4).
        public var key: String
        /// How long a key replaced by `carbonctl rotate-key` keeps co-signing checkpoints (`key_overlap`).
        public var keyOverlap: ConfigDuration
        /// The C2SP tlog-policy file naming the witnesses checkpoints are pushed to and
        /// the quorum a cosigned checkpoint needs (`witness_policy`); nil: no witnesses.
        public var witnessPolicy: String?
        /// The ledger's published verifier key (`vkey`, a signed-note key): what a
        /// read-only daemon verifies checkpoints against, holding no private key.
        public var vkey: String?

        /// `[ledger]` with its defaults.
        public init(
            origin: String = "carbonledger.local/demo", key: String = "var/lib/carbonledger.key",
            keyOverlap: ConfigDuration = ConfigDuration(seconds: 30 * 86_400), witnessPolicy: String? = nil,
            vkey: String? = nil
        ) {
            self.origin = origin
            self.key = key
            self.keyOverlap = keyOverlap
            self.witnessPolicy = witnessPolicy
            self.vkey = vkey
        }
    }

    /// `[program]`: methodology.md's parameters.
    public struct Program: Sendable, Equatable {
        /// Which earlier period a consumer's reduction is measured against (`baseline`).
        public enum Baseline: String, Sendable, CaseIterable {
            /// The previous period of the same kind (`"previous"`).
            case previous
            /// The same period one year earlier (`"year_ago"`).
            case yearAgo = "year_ago"
        }

        /// The periods the program scores and closes (`period`, a project addition).
        public enum PeriodKind: String, Sendable, CaseIterable {
            /// Calendar months (the default).
            case month
            /// Calendar days.
            case day
        }

        /// The score weights `wP, wR, wT, wG` (`weights`).
        public struct Weights: Sendable, Equatable {
            /// `wP`: the peer-benchmark grade.
            public var peer: Int
            /// `wR`: reduction against the consumer's own baseline.
            public var reduction: Int
            /// `wT`: consumption in cleaner hours.
            public var timing: Int
            /// `wG`: green-certificate coverage.
            public var green: Int

            /// Weights, 40 / 30 / 15 / 15 by default.
            public init(peer: Int = 40, reduction: Int = 30, timing: Int = 15, green: Int = 15) {
                self.peer = peer
                self.reduction = reduction
                self.timing = timing
                self.green = green
            }

            /// `wP + wR + wT + wG`, the score's divisor.
            public var sum: Int { peer + reduction + timing + green }
        }

        /// A fixed benchmark for a zone and class when a peer group is too small
        /// (`[[program.static_benchmark]]`).
        public struct StaticBenchmark: Sendable, Equatable {
            /// The zone; the benchmark applies to it and its sub-zones.
            public var zone: String
            /// The consumer class (`class`).
            public var `class`: String
            /// Micrograms CO2e per normalizer unit per day (`ug_per_day`).
            public var ugPerDay: Int64

            /// A benchmark of `ugPerDay` for consumers of `class` in `zone` and its sub-zones.
            public init(zone: String, class: String, ugPerDay: Int64) {
                self.zone = zone
                self.class = `class`
                self.ugPerDay = ugPerDay
            }
        }

        /// IANA time zone of periods and steps (`timezone`).
        public var timezone: String
        /// Smallest peer group that gives a grade (`min_peers`).
        public var minPeers: Int
        /// The score weights.
        public var weights: Weights
        /// Points per kg CO2e avoided (`points_per_kg`).
        public var pointsPerKg: Int
        /// The baseline mode.
        public var baseline: Baseline
        /// Worst grade still eligible for incentives (`eligible_max_grade`, 1...5).
        public var eligibleMaxGrade: Int
        /// How long after its end a period closes by itself (`close_after`).
        public var closeAfter: ConfigDuration
        /// How often, at most, an open period's peer groups are recomputed while
        /// readings arrive (`benchmark_refresh`; 0: before any answer after new data).
        public var benchmarkRefresh: ConfigDuration
        /// Months or days.
        public var period: PeriodKind
        /// Factor dataset files loaded once at first start (`factors`).
        public var factors: [String]
        /// Zone tree file loaded at first start (`zones`); `nil`: none.
        public var zones: String?
        /// Static benchmarks, in file order.
        public var staticBenchmarks: [StaticBenchmark]

        /// `[program]` with its defaults (no factor or zone files).
        public init(
            timezone: String = "Asia/Shanghai",
            minPeers: Int = 5,
            weights: Weights = Weights(),
            pointsPerKg: Int = 1,
            baseline: Baseline = .previous,
            eligibleMaxGrade: Int = 2,
            closeAfter: ConfigDuration = ConfigDuration(seconds: 72 * 3_600),
            benchmarkRefresh: ConfigDuration = ConfigDuration(seconds: 5),
            period: PeriodKind = .month,
            factors: [String] = [],
            zones: String? = nil,
            staticBenchmarks: [StaticBenchmark] = []
        ) {
            self.timezone = timezone
            self.minPeers = minPeers
            self.weights = weights
            self.pointsPerKg = pointsPerKg
            self.baseline = baseline
            self.eligibleMaxGrade = eligibleMaxGrade
            self.closeAfter = closeAfter
            self.benchmarkRefresh = benchmarkRefresh
            self.period = period
            self.factors = factors
            self.zones = zones
            self.staticBenchmarks = staticBenchmarks
        }
    }

    /// `[limits]`: past them a request gets 413 / 408 / 503 and the daemon carries on.
    public struct Limits: Sendable, Equatable {
        /// Largest request body (`max_body_bytes`).
        public var maxBodyBytes: Int
        /// Most records in one bulk request (`max_records_per_batch`).
        public var maxRecordsPerBatch: Int
        /// Most connections open at once (`max_connections`).
        public var maxConnections: Int
        /// How long a kept-alive connection may sit without a request (`idle_timeout`).
        public var idleTimeout: ConfigDuration
        /// Largest request line plus headers (`max_header_bytes`).
        public var maxHeaderBytes: Int
        /// How long a client may take to send one whole request (`request_timeout`).
        public var requestTimeout: ConfigDuration

        /// `[limits]` with its defaults.
        public init(
            maxBodyBytes: Int = 67_108_864,
            maxRecordsPerBatch: Int = 100_000,
            maxConnections: Int = 512,
            idleTimeout: ConfigDuration = ConfigDuration(seconds: 60),
            maxHeaderBytes: Int = 16_384,
            requestTimeout: ConfigDuration = ConfigDuration(seconds: 60)
        ) {
            self.maxBodyBytes = maxBodyBytes
            self.maxRecordsPerBatch = maxRecordsPerBatch
            self.maxConnections = maxConnections
            self.idleTimeout = idleTimeout
            self.maxHeaderBytes = maxHeaderBytes
            self.requestTimeout = requestTimeout
        }
    }
}
