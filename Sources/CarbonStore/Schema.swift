import GRDB

/// The database layout, as versioned migrations.
///
/// Readings are stored time-major: a head-end pushes every meter's hour h, then
/// hour h+1, so a batch appends to the right edge of the one `(start, meter)`
/// B-tree. A meter-major key would make every batch rewrite nearly every page
/// (see docs/storage.md). Per-meter state answers the common "does this overlap
/// anything stored?" question without touching readings.
enum Schema {
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.execute(sql: """
                CREATE TABLE meta(
                    key TEXT PRIMARY KEY,
                    value TEXT NOT NULL
                ) WITHOUT ROWID;

                -- The ledger: entries, every perfect-subtree hash of the RFC 6962
                -- tree over them, and every checkpoint ever signed.
                CREATE TABLE entries(
                    idx INTEGER PRIMARY KEY,
                    kind TEXT NOT NULL,
                    body BLOB NOT NULL,
                    signature BLOB NOT NULL
                );
                CREATE TABLE tree(
                    level INTEGER NOT NULL,
                    idx INTEGER NOT NULL,
                    hash BLOB NOT NULL,
                    PRIMARY KEY(level, idx)
                ) WITHOUT ROWID;
                CREATE TABLE checkpoints(
                    size INTEGER PRIMARY KEY,
                    root BLOB NOT NULL,
                    note TEXT NOT NULL,
                    time INTEGER NOT NULL
                );

                CREATE TABLE zones(
                    zone TEXT PRIMARY KEY,
                    parent TEXT,
                    name TEXT NOT NULL
                ) WITHOUT ROWID;

                CREATE TABLE consumers(
                    id INTEGER PRIMARY KEY,
                    consumer TEXT NOT NULL UNIQUE,
                    utility TEXT NOT NULL,
                    zone TEXT NOT NULL,
                    class TEXT NOT NULL,
                    normalizer INTEGER NOT NULL,
                    entry INTEGER NOT NULL
                );

                -- Meter ids are per utility; `meter_state` is a snapshot of each
                -- meter's latest end, brought up to date at startup from the
                -- batches after it (meta `meter_state_as_of`), so a batch does not
                -- rewrite a row per meter.
                CREATE TABLE meters(
                    id INTEGER PRIMARY KEY,
                    utility TEXT NOT NULL,
                    meter TEXT NOT NULL,
                    UNIQUE(utility, meter)
                );
                CREATE TABLE meter_state(
                    meter INTEGER PRIMARY KEY,
                    last_end INTEGER NOT NULL,
                    max_duration INTEGER NOT NULL
                );

                -- One B-tree keyed by (start, meter): a head-end's batches append at
                -- its right edge. `batch` and `position` place the reading in its
                -- `readings` entry's tree.
                CREATE TABLE readings(
                    start INTEGER NOT NULL,
                    meter INTEGER NOT NULL,
                    consumer INTEGER NOT NULL,
                    duration_s INTEGER NOT NULL,
                    import_wh INTEGER NOT NULL,
                    export_wh INTEGER NOT NULL,
                    quality INTEGER NOT NULL,
                    ref TEXT,
                    batch INTEGER NOT NULL,
                    position INTEGER NOT NULL,
                    PRIMARY KEY(start, meter)
                ) WITHOUT ROWID;

                -- The time span of each `readings` entry's readings.
                CREATE TABLE reading_batches(
                    entry INTEGER PRIMARY KEY,
                    first_start INTEGER NOT NULL,
                    last_start INTEGER NOT NULL,
                    count INTEGER NOT NULL
                );

                -- Answers already given to batch ids, for idempotent retries.
                CREATE TABLE batch_ids(
                    scope TEXT NOT NULL,
                    batch TEXT NOT NULL,
                    response BLOB NOT NULL,
                    PRIMARY KEY(scope, batch)
                ) WITHOUT ROWID;
                """)
        }
        migrator.registerMigration("v2-factors") { db in
            try db.execute(sql: """
                -- Every factor dataset loaded, and its rows in the order of its
                -- `factors` entry's leaves (zone, kind, start).
                CREATE TABLE factor_datasets(
                    dataset TEXT PRIMARY KEY,
                    entry INTEGER NOT NULL,
                    count INTEGER NOT NULL
                ) WITHOUT ROWID;
                CREATE TABLE factor_rows(
                    dataset TEXT NOT NULL,
                    position INTEGER NOT NULL,
                    zone TEXT NOT NULL,
                    kind TEXT NOT NULL,
                    start INTEGER NOT NULL,
                    end INTEGER NOT NULL,
                    mg_per_kwh INTEGER NOT NULL,
                    source TEXT NOT NULL,
                    PRIMARY KEY(dataset, position)
                ) WITHOUT ROWID;
                """)
        }
        migrator.registerMigration("v3-certificates") { db in
            try db.execute(sql: """
                CREATE TABLE certificates(
                    id TEXT PRIMARY KEY,
                    consumer INTEGER NOT NULL,
                    start INTEGER NOT NULL,
                    end INTEGER NOT NULL,
                    wh INTEGER NOT NULL,
                    technology TEXT NOT NULL,
                    issuer TEXT NOT NULL,
                    entry INTEGER NOT NULL
                ) WITHOUT ROWID;
                CREATE INDEX certificates_by_consumer ON certificates(consumer, start);
                """)
        }
        migrator.registerMigration("v4-periods") { db in
            try db.execute(sql: """
                -- Closed periods, and each consumer's frozen figures (the columns of its
                -- `score` entry), for the directory and the inventory.
                CREATE TABLE periods(
                    period TEXT PRIMARY KEY,
                    start INTEGER NOT NULL,
                    end INTEGER NOT NULL,
                    entry INTEGER NOT NULL,
                    consumers INTEGER NOT NULL
                ) WITHOUT ROWID;
                CREATE TABLE scores(
                    period TEXT NOT NULL,
                    consumer TEXT NOT NULL,
                    entry INTEGER NOT NULL,
                    zone TEXT NOT NULL,
                    class TEXT NOT NULL,
                    energy_wh INTEGER NOT NULL,
                    export_wh INTEGER NOT NULL,
                    loc_ug INTEGER NOT NULL,
                    mkt_ug INTEGER NOT NULL,
                    matched_wh INTEGER NOT NULL,
                    estimated_wh INTEGER NOT NULL,
                    k_milli INTEGER,
                    p INTEGER NOT NULL,
                    q_milli INTEGER,
                    r INTEGER NOT NULL,
                    zone_flat_mg INTEGER NOT NULL,
                    s_milli INTEGER,
                    t INTEGER NOT NULL,
                    g INTEGER NOT NULL,
                    score INTEGER NOT NULL,
                    bench_ug INTEGER,
                    avoided_ug INTEGER NOT NULL,
                    points INTEGER NOT NULL,
                    flags TEXT NOT NULL,
                    PRIMARY KEY(period, consumer)
                ) WITHOUT ROWID;
                CREATE INDEX scores_by_rank ON scores(period, score DESC, consumer);

                -- How much of each certificate readings up to `through` (the end of a
                -- closed period) used, so the next period starts from it.
                CREATE TABLE certificate_use(
                    id TEXT NOT NULL,
                    through INTEGER NOT NULL,
                    used_wh INTEGER NOT NULL,
                    PRIMARY KEY(id, through)
                ) WITHOUT ROWID;
                """)
        }
        migrator.registerMigration("v5-consumer-hours") { db in
            try db.execute(sql: """
                -- Each consumer's readings summed per UTC hour of their start (HourSums),
                -- 64 consumer row ids to a row, keyed time-major like `readings` so a
                -- batch appends at the right edge; a consumer's figures over a range
                -- are one indexed read per hour.
                CREATE TABLE consumer_hours(
                    hour INTEGER NOT NULL,
                    block INTEGER NOT NULL,
                    sums BLOB NOT NULL,
                    PRIMARY KEY(hour, block)
                ) WITHOUT ROWID;
                """)
            try ConsumerHoursBatch.rebuild(db: db)
        }
        migrator.registerMigration("v6-batch-chunks") { db in
            // Each batch's StoredChunk records; null for batches stored before them
            // (their reading proofs rebuild the whole batch).
            try db.execute(sql: "ALTER TABLE reading_batches ADD COLUMN chunks BLOB")
        }
        migrator.registerMigration("v7-corrections") { db in
            try db.execute(sql: """
                -- What each `corrections` entry says beside the readings it put in
                -- force (`readings` holds the versions in force), 256 leaves to a row
                -- as its batch's chunks: each correction's reason, the version it
                -- replaced, and that version's figures (CorrectionChunks). One blob a
                -- chunk, not rows a reading, so a correction costs little more than
                -- a reading.
                CREATE TABLE correction_chunks(
                    entry INTEGER NOT NULL,
                    chunk INTEGER NOT NULL,
                    versions BLOB NOT NULL,
                    PRIMARY KEY(entry, chunk)
                ) WITHOUT ROWID;

                -- Which `corrections` entries replaced versions of which batch, so the
                -- batch's leaves can be rebuilt.
                CREATE TABLE superseded_in(
                    entry INTEGER NOT NULL,
                    corrections INTEGER NOT NULL,
                    PRIMARY KEY(entry, corrections)
                ) WITHOUT ROWID;

                -- Closed periods opened again for corrections; `closed_by` is the
                -- `period` entry that closed one again (null while it is open).
                CREATE TABLE restatements(
                    entry INTEGER PRIMARY KEY,
                    period TEXT NOT NULL,
                    reason TEXT NOT NULL,
                    restates INTEGER NOT NULL,
                    closed_by INTEGER
                );
                CREATE INDEX restatements_by_period ON restatements(period);
                """)
        }
        return migrator
    }
}
