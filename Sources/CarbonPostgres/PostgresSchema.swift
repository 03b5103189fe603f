import PostgresNIO

/// The PostgreSQL layout, as numbered migrations applied in code.
///
/// The tables are the SQLite store's (docs/storage.md), in PostgreSQL's types: every
/// integer is a BIGINT, every blob a BYTEA. Readings stay time-major (`(start, meter)`
/// key) so a head-end's batch lands at the right edge of one index; consumer-major
/// reads go through `consumer_hours`, as in SQLite.
///
/// Migrations run in one transaction under an advisory lock, so two daemons starting
/// together apply each migration once; a database migrated by a newer daemon is
/// refused rather than written with an older idea of its tables.
public enum PostgresSchema {
    public struct Migration: Sendable {
        public let version: Int
        public let name: String
        /// One statement each: PostgreSQL's extended protocol runs one at a time.
        public let statements: [String]

        public init(version: Int, name: String, statements: [String]) {
            self.version = version
            self.name = name
            self.statements = statements
        }
    }

    /// The advisory lock key migrations take ("carbonledger schema" as an integer).
    static let migrationLockKey: Int64 = 0x636c_7363_6865_6d61

    public static let migrations: [Migration] = [
        Migration(version: 1, name: "ledger, registry, readings, factors, periods, corrections", statements: [
            "CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL)",

            // The ledger: entries, every perfect-subtree hash of the RFC 6962 tree over
            // them, and every checkpoint ever signed.
            "CREATE TABLE entries(idx BIGINT PRIMARY KEY, kind TEXT NOT NULL, body BYTEA NOT NULL, signature BYTEA NOT NULL)",
            // The key chain's entries, found without reading the others (VerifiedLedger).
            "CREATE INDEX entries_keys ON entries(idx) WHERE kind = 'key'",
            "CREATE TABLE tree(level INTEGER NOT NULL, idx BIGINT NOT NULL, hash BYTEA NOT NULL, PRIMARY KEY(level, idx))",
            "CREATE TABLE checkpoints(size BIGINT PRIMARY KEY, root BYTEA NOT NULL, note TEXT NOT NULL, time BIGINT NOT NULL)",

            "CREATE TABLE zones(zone TEXT PRIMARY KEY, parent TEXT, name TEXT NOT NULL)",
            """
            CREATE TABLE consumers(
                id BIGINT PRIMARY KEY, consumer TEXT NOT NULL UNIQUE, utility TEXT NOT NULL, zone TEXT NOT NULL,
                class TEXT NOT NULL, normalizer BIGINT NOT NULL, entry BIGINT NOT NULL)
            """,
            "CREATE TABLE meters(id BIGINT PRIMARY KEY, utility TEXT NOT NULL, meter TEXT NOT NULL, UNIQUE(utility, meter))",
            "CREATE TABLE meter_state(meter BIGINT PRIMARY KEY, last_end BIGINT NOT NULL, max_duration BIGINT NOT NULL)",

            // Time-major, as in SQLite: a batch of one hour's readings appends at the
            // right edge of the (start, meter) index.
            """
            CREATE TABLE readings(
                start BIGINT NOT NULL, meter BIGINT NOT NULL, consumer BIGINT NOT NULL, duration_s BIGINT NOT NULL,
                import_wh BIGINT NOT NULL, export_wh BIGINT NOT NULL, quality SMALLINT NOT NULL, ref TEXT,
                batch BIGINT NOT NULL, position BIGINT NOT NULL, PRIMARY KEY(start, meter))
            """,
            """
            CREATE TABLE reading_batches(
                entry BIGINT PRIMARY KEY, first_start BIGINT NOT NULL, last_start BIGINT NOT NULL, count BIGINT NOT NULL,
                chunks BYTEA)
            """,
            "CREATE TABLE batch_ids(scope TEXT NOT NULL, batch TEXT NOT NULL, response BYTEA NOT NULL, PRIMARY KEY(scope, batch))",

            "CREATE TABLE factor_datasets(dataset TEXT PRIMARY KEY, entry BIGINT NOT NULL, count BIGINT NOT NULL)",
            """
            CREATE TABLE factor_rows(
                dataset TEXT NOT NULL, position BIGINT NOT NULL, zone TEXT NOT NULL, kind TEXT NOT NULL,
                start BIGINT NOT NULL, "end" BIGINT NOT NULL, mg_per_kwh BIGINT NOT NULL, source TEXT NOT NULL,
                PRIMARY KEY(dataset, position))
            """,
            """
            CREATE TABLE certificates(
                id TEXT PRIMARY KEY, consumer BIGINT NOT NULL, start BIGINT NOT NULL, "end" BIGINT NOT NULL,
                wh BIGINT NOT NULL, technology TEXT NOT NULL, issuer TEXT NOT NULL, entry BIGINT NOT NULL)
            """,
            "CREATE INDEX certificates_by_consumer ON certificates(consumer, start)",

            """
            CREATE TABLE periods(
                period TEXT PRIMARY KEY, start BIGINT NOT NULL, "end" BIGINT NOT NULL, entry BIGINT NOT NULL,
                consumers BIGINT NOT NULL)
            """,
            """
            CREATE TABLE scores(
                period TEXT NOT NULL, consumer TEXT NOT NULL, entry BIGINT NOT NULL, zone TEXT NOT NULL,
                class TEXT NOT NULL, energy_wh BIGINT NOT NULL, export_wh BIGINT NOT NULL, loc_ug BIGINT NOT NULL,
                mkt_ug BIGINT NOT NULL, matched_wh BIGINT NOT NULL, estimated_wh BIGINT NOT NULL, k_milli BIGINT,
                p BIGINT NOT NULL, q_milli BIGINT, r BIGINT NOT NULL, zone_flat_mg BIGINT NOT NULL, s_milli BIGINT,
                t BIGINT NOT NULL, g BIGINT NOT NULL, score BIGINT NOT NULL, bench_ug BIGINT,
                avoided_ug BIGINT NOT NULL, points BIGINT NOT NULL, flags TEXT NOT NULL,
                PRIMARY KEY(period, consumer))
            """,
            "CREATE INDEX scores_by_rank ON scores(period, score DESC, consumer)",
            """
            CREATE TABLE certificate_use(
                id TEXT NOT NULL, through BIGINT NOT NULL, used_wh BIGINT NOT NULL, PRIMARY KEY(id, through))
            """,

            // Each consumer's readings summed per UTC hour, 64 consumers to a row.
            """
            CREATE TABLE consumer_hours(
                hour BIGINT NOT NULL, block BIGINT NOT NULL, sums BYTEA NOT NULL, PRIMARY KEY(hour, block))
            """,

            "CREATE TABLE correction_chunks(entry BIGINT NOT NULL, chunk BIGINT NOT NULL, versions BYTEA NOT NULL, PRIMARY KEY(entry, chunk))",
            "CREATE TABLE superseded_in(entry BIGINT NOT NULL, corrections BIGINT NOT NULL, PRIMARY KEY(entry, corrections))",
            """
            CREATE TABLE restatements(
                entry BIGINT PRIMARY KEY, period TEXT NOT NULL, reason TEXT NOT NULL, restates BIGINT NOT NULL,
                closed_by BIGINT)
            """,
            "CREATE INDEX restatements_by_period ON restatements(period)",
        ]),
    ]

    /// The newest version this daemon knows.
    public static var latestVersion: Int { migrations.last?.version ?? 0 }

    /// Brings the database up to `latestVersion`; returns the versions applied now.
    @discardableResult
    public static func migrate(_ session: PostgresSession, migrations: [Migration] = migrations) async throws -> [Int] {
        try await session.transaction { session in
            try await session.execute("SELECT pg_advisory_xact_lock(\(migrationLockKey))")
            try await session.execute("""
                CREATE TABLE IF NOT EXISTS schema_migrations(
                    version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())
                """)
            var applied: Set<Int> = []
            for row in try await session.rows("SELECT version FROM schema_migrations") {
                applied.insert(try row.decode(Int.self))
            }
            let known = Set(migrations.map(\.version))
            if let newer = applied.subtracting(known).max() {
                throw PostgresStoreError.schema(
                    "the database \(session.location.redacted) has schema version \(newer), newer than this daemon's "
                        + "\(migrations.last?.version ?? 0); run the daemon that migrated it, or a newer one")
            }
            var done: [Int] = []
            for migration in migrations where !applied.contains(migration.version) {
                for statement in migration.statements {
                    try await session.execute(PostgresQuery(unsafeSQL: statement))
                }
                try await session.execute(
                    "INSERT INTO schema_migrations(version, name) VALUES (\(migration.version), \(migration.name))")
                done.append(migration.version)
            }
            return done
        }
    }
}
