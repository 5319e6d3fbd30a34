import GRDB

/// The versioned schema of the SQLite store. Migrations are append-only: a released
/// migration is never edited, a change is a new one.
enum SQLiteMigrations {
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1-jobs-and-attempts") { db in
            // Many jobs share one environment (a script enqueuing thousands), so each
            // distinct environment is stored once.
            try db.execute(
                sql: """
                    CREATE TABLE environments (
                        id INTEGER PRIMARY KEY,
                        json TEXT NOT NULL UNIQUE
                    );
                    CREATE TABLE jobs (
                        id INTEGER PRIMARY KEY AUTOINCREMENT,
                        state TEXT NOT NULL,
                        queue TEXT NOT NULL DEFAULT 'default',
                        priority INTEGER NOT NULL DEFAULT 0,
                        argv TEXT NOT NULL,
                        shell TEXT,
                        cwd TEXT NOT NULL,
                        env_id INTEGER NOT NULL REFERENCES environments(id),
                        labels TEXT NOT NULL DEFAULT '{}',
                        session TEXT,
                        timeout REAL,
                        output_cap INTEGER NOT NULL,
                        created_at REAL NOT NULL,
                        run_at REAL,
                        ended_at REAL,
                        attempts INTEGER NOT NULL DEFAULT 0
                    );
                    CREATE INDEX jobs_runnable ON jobs (priority DESC, id) WHERE state = 'queued';
                    CREATE INDEX jobs_session ON jobs (session, id) WHERE session IS NOT NULL;
                    CREATE INDEX jobs_ended ON jobs (ended_at) WHERE ended_at IS NOT NULL;
                    CREATE TABLE attempts (
                        job_id INTEGER NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
                        number INTEGER NOT NULL,
                        started_at REAL NOT NULL,
                        ended_at REAL,
                        exit_code INTEGER,
                        signal INTEGER,
                        reason TEXT,
                        message TEXT,
                        host TEXT NOT NULL,
                        shim_pid INTEGER,
                        peak_rss INTEGER,
                        output_bytes INTEGER,
                        dropped_bytes INTEGER,
                        PRIMARY KEY (job_id, number)
                    );
                    CREATE INDEX attempts_running ON attempts (job_id) WHERE ended_at IS NULL;
                    """)
        }
        migrator.registerMigration("v2-queues-retries-dependencies") { db in
            // `ready` separates queued jobs that may run now from those waiting for their
            // run_at or their dependencies, so the claim reads only the first kind through
            // `jobs_ready` and stays O(log n) however many jobs wait.
            try db.execute(
                sql: """
                    ALTER TABLE jobs ADD COLUMN ready INTEGER NOT NULL DEFAULT 1;
                    ALTER TABLE jobs ADD COLUMN pending_deps INTEGER NOT NULL DEFAULT 0;
                    ALTER TABLE jobs ADD COLUMN after TEXT;
                    ALTER TABLE jobs ADD COLUMN unique_key TEXT;
                    ALTER TABLE jobs ADD COLUMN retries INTEGER NOT NULL DEFAULT 0;
                    ALTER TABLE jobs ADD COLUMN retry_on TEXT;
                    ALTER TABLE jobs ADD COLUMN transient_pattern TEXT;
                    ALTER TABLE jobs ADD COLUMN backoff_min REAL;
                    ALTER TABLE jobs ADD COLUMN backoff_max REAL;
                    ALTER TABLE jobs ADD COLUMN stall_after REAL;
                    ALTER TABLE jobs ADD COLUMN end_reason TEXT;
                    ALTER TABLE jobs ADD COLUMN stop_requested INTEGER NOT NULL DEFAULT 0;
                    UPDATE jobs SET run_at = created_at WHERE run_at IS NULL;
                    DROP INDEX jobs_runnable;
                    CREATE INDEX jobs_ready ON jobs (queue, priority DESC, id) WHERE state = 'queued' AND ready = 1;
                    CREATE INDEX jobs_waiting ON jobs (run_at) WHERE state = 'queued' AND ready = 0 AND pending_deps = 0;
                    CREATE INDEX jobs_running ON jobs (queue) WHERE state = 'running';
                    CREATE INDEX jobs_queue_state ON jobs (queue, state);
                    CREATE UNIQUE INDEX jobs_unique ON jobs (unique_key)
                        WHERE unique_key IS NOT NULL AND state IN ('held', 'queued', 'running');
                    CREATE TABLE job_deps (
                        job_id INTEGER NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
                        dep_id INTEGER NOT NULL,
                        PRIMARY KEY (job_id, dep_id)
                    );
                    CREATE INDEX job_deps_dep ON job_deps (dep_id);
                    ALTER TABLE attempts ADD COLUMN failure_class TEXT;
                    ALTER TABLE attempts ADD COLUMN class_reason TEXT;
                    ALTER TABLE attempts ADD COLUMN retry_at REAL;
                    ALTER TABLE attempts ADD COLUMN stalled_at REAL;
                    ALTER TABLE attempts ADD COLUMN stall_line TEXT;
                    CREATE TABLE queues (
                        name TEXT PRIMARY KEY,
                        concurrency INTEGER NOT NULL DEFAULT 0,
                        paused INTEGER NOT NULL DEFAULT 0,
                        breaker_threshold INTEGER NOT NULL DEFAULT 0,
                        breaker_pause REAL NOT NULL DEFAULT 60,
                        breaker_state TEXT NOT NULL DEFAULT 'closed',
                        breaker_streak INTEGER NOT NULL DEFAULT 0,
                        breaker_until REAL,
                        breaker_probe INTEGER,
                        preflight TEXT,
                        preflight_ttl REAL NOT NULL DEFAULT 30,
                        preflight_passed INTEGER,
                        preflight_checked_at REAL,
                        preflight_reason TEXT,
                        created_at REAL NOT NULL
                    );
                    INSERT INTO queues (name, created_at) SELECT DISTINCT queue, MIN(created_at) FROM jobs GROUP BY queue;
                    INSERT OR IGNORE INTO queues (name, created_at) VALUES ('default', strftime('%s', 'now'));
                    CREATE TABLE events (
                        id INTEGER PRIMARY KEY AUTOINCREMENT,
                        at REAL NOT NULL,
                        job_id INTEGER,
                        queue TEXT,
                        kind TEXT NOT NULL,
                        message TEXT NOT NULL
                    );
                    CREATE INDEX events_job ON events (job_id) WHERE job_id IS NOT NULL;
                    CREATE INDEX events_queue ON events (queue, id) WHERE queue IS NOT NULL;
                    """)
        }
        migrator.registerMigration("v3-outbox-deliveries-tokens") { db in
            // The outbox: one row per (job, attempt, kind), written in the transaction of
            // the change it reports; pending until acknowledged. `sessions` counts what a
            // full outbox dropped. Deliveries are the webhooks and command hooks still to
            // send, with their retry schedule, so a restart loses none.
            try db.execute(
                sql: """
                    ALTER TABLE jobs ADD COLUMN notify TEXT;
                    ALTER TABLE jobs ADD COLUMN on_end TEXT;
                    ALTER TABLE queues ADD COLUMN notify TEXT;
                    ALTER TABLE queues ADD COLUMN on_end TEXT;
                    CREATE TABLE notifications (
                        id INTEGER PRIMARY KEY AUTOINCREMENT,
                        session TEXT NOT NULL,
                        job_id INTEGER NOT NULL,
                        attempt INTEGER NOT NULL,
                        kind TEXT NOT NULL,
                        body TEXT NOT NULL,
                        created_at REAL NOT NULL,
                        acked_at REAL,
                        UNIQUE (job_id, attempt, kind)
                    );
                    CREATE INDEX notifications_pending ON notifications (session, id) WHERE acked_at IS NULL;
                    CREATE TABLE sessions (
                        name TEXT PRIMARY KEY,
                        dropped INTEGER NOT NULL DEFAULT 0
                    );
                    CREATE TABLE deliveries (
                        id INTEGER PRIMARY KEY AUTOINCREMENT,
                        job_id INTEGER NOT NULL,
                        attempt INTEGER NOT NULL,
                        kind TEXT NOT NULL,
                        channel TEXT NOT NULL,
                        target TEXT NOT NULL,
                        payload TEXT NOT NULL,
                        attempts INTEGER NOT NULL DEFAULT 0,
                        status TEXT NOT NULL DEFAULT 'pending',
                        next_at REAL,
                        last_error TEXT,
                        created_at REAL NOT NULL,
                        updated_at REAL NOT NULL,
                        UNIQUE (job_id, attempt, kind, channel, target)
                    );
                    CREATE INDEX deliveries_due ON deliveries (next_at) WHERE status = 'pending';
                    CREATE INDEX deliveries_job ON deliveries (job_id);
                    CREATE TABLE tokens (
                        id INTEGER PRIMARY KEY AUTOINCREMENT,
                        hash TEXT NOT NULL UNIQUE,
                        session TEXT,
                        created_at REAL NOT NULL,
                        revoked_at REAL
                    );
                    """)
        }
        migrator.registerMigration("v4-progress-checkpoint") { db in
            // What a job reports about itself (`stint progress`, `stint checkpoint`): the
            // checkpoint outlives its attempt, so a retry resumes from it.
            try db.execute(
                sql: """
                    ALTER TABLE jobs ADD COLUMN progress_done INTEGER;
                    ALTER TABLE jobs ADD COLUMN progress_total INTEGER;
                    ALTER TABLE jobs ADD COLUMN progress_message TEXT;
                    ALTER TABLE jobs ADD COLUMN progress_at REAL;
                    ALTER TABLE jobs ADD COLUMN checkpoint TEXT;
                    ALTER TABLE jobs ADD COLUMN checkpoint_at REAL;
                    """)
        }
        migrator.registerMigration("v5-batches") { db in
            // `stint batch`: one row per (command, target), holding its checkpoint and its
            // lock. The lock is the holder's pid and start time (and heartbeats from
            // another host), so that a holder that died, even by SIGKILL, is seen as gone.
            try db.execute(
                sql: """
                    CREATE TABLE batches (
                        id INTEGER PRIMARY KEY AUTOINCREMENT,
                        command TEXT NOT NULL,
                        target TEXT NOT NULL,
                        total INTEGER NOT NULL,
                        completed INTEGER NOT NULL DEFAULT 0,
                        resume_from TEXT,
                        succeeded INTEGER NOT NULL DEFAULT 0,
                        failed INTEGER NOT NULL DEFAULT 0,
                        failed_units TEXT NOT NULL DEFAULT '[]',
                        stopped_by TEXT,
                        session TEXT,
                        holder_token TEXT,
                        holder_pid INTEGER,
                        holder_started TEXT,
                        holder_host TEXT,
                        heartbeat_at REAL,
                        created_at REAL NOT NULL,
                        updated_at REAL NOT NULL,
                        UNIQUE (command, target)
                    );
                    """)
        }
        migrator.registerMigration("v6-session-keys") { db in
            // Batches and `--unique` keys belong to a session: the same command and target
            // (or key) in two sessions are two batches (or two jobs), and one session can
            // neither take over nor learn of the other's. '' is "no session" in batches,
            // as UNIQUE would not hold for NULLs.
            try db.execute(
                sql: """
                    CREATE TABLE batches_v6 (
                        id INTEGER PRIMARY KEY AUTOINCREMENT,
                        command TEXT NOT NULL,
                        target TEXT NOT NULL,
                        total INTEGER NOT NULL,
                        completed INTEGER NOT NULL DEFAULT 0,
                        resume_from TEXT,
                        succeeded INTEGER NOT NULL DEFAULT 0,
                        failed INTEGER NOT NULL DEFAULT 0,
                        failed_units TEXT NOT NULL DEFAULT '[]',
                        stopped_by TEXT,
                        session TEXT NOT NULL DEFAULT '',
                        holder_token TEXT,
                        holder_pid INTEGER,
                        holder_started TEXT,
                        holder_host TEXT,
                        heartbeat_at REAL,
                        created_at REAL NOT NULL,
                        updated_at REAL NOT NULL,
                        UNIQUE (session, command, target)
                    );
                    INSERT INTO batches_v6 (id, command, target, total, completed, resume_from, succeeded, failed,
                        failed_units, stopped_by, session, holder_token, holder_pid, holder_started, holder_host,
                        heartbeat_at, created_at, updated_at)
                    SELECT id, command, target, total, completed, resume_from, succeeded, failed, failed_units,
                        stopped_by, ifnull(session, ''), holder_token, holder_pid, holder_started, holder_host,
                        heartbeat_at, created_at, updated_at FROM batches;
                    DROP TABLE batches;
                    ALTER TABLE batches_v6 RENAME TO batches;
                    DROP INDEX jobs_unique;
                    CREATE UNIQUE INDEX jobs_unique ON jobs (ifnull(session, ''), unique_key)
                        WHERE unique_key IS NOT NULL AND state IN ('held', 'queued', 'running');
                    """)
        }
        migrator.registerMigration("v7-attempt-instances") { db in
            // The daemon instance that claimed each attempt; with it, `host` holds the node
            // (`--node`, by default the host name), and a daemon reconciles only its node's
            // attempts. Rows from before have no instance: every node reconciles those.
            try db.execute(sql: "ALTER TABLE attempts ADD COLUMN instance TEXT")
        }
        migrator.registerMigration("v8-schedules") { db in
            // Schedules and their fire times. A fire time is keyed by (schedule, millisecond):
            // whatever restarts, it creates its job at most once. '' is "no session".
            try db.execute(
                sql: """
                    CREATE TABLE schedules (
                        id INTEGER PRIMARY KEY AUTOINCREMENT,
                        session TEXT NOT NULL DEFAULT '',
                        name TEXT NOT NULL,
                        spec TEXT NOT NULL,
                        paused INTEGER NOT NULL DEFAULT 0,
                        next_fire REAL,
                        last_fire REAL,
                        last_job INTEGER,
                        failures INTEGER NOT NULL DEFAULT 0,
                        last_failed_job INTEGER,
                        created_at REAL NOT NULL,
                        updated_at REAL NOT NULL,
                        UNIQUE (session, name)
                    );
                    CREATE INDEX schedules_due ON schedules (next_fire) WHERE paused = 0;
                    CREATE TABLE schedule_fires (
                        schedule_id INTEGER NOT NULL,
                        fire_ms INTEGER NOT NULL,
                        job_id INTEGER,
                        catch_up INTEGER NOT NULL DEFAULT 0,
                        PRIMARY KEY (schedule_id, fire_ms)
                    );
                    """)
        }
        return migrator
    }
}
